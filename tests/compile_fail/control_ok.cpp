// Must compile: the control for misspelled_name.cpp, so that a broken include path
// cannot pass for the expected failure.
#include "../support/stub_backend.hpp"

using namespace appinfra;
using Service = db::StaticManager<db::Named<"primary", test::StubBackend<>>>;

void use(Service& s) { (void)s.db<"primary">(); }
