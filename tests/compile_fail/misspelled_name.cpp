// Must not compile: "primry" is not declared in the StaticManager.
#include "../support/stub_backend.hpp"

using namespace appinfra;
using Service = db::StaticManager<db::Named<"primary", test::StubBackend<>>>;

void use(Service& s) { (void)s.db<"primry">(); }
