// Must not compile: readonly together with create_db in a database's fixed options.
#include "../support/stub_backend.hpp"

#include <appinfra/db/fixed_options.hpp>

#include <chrono>

using namespace appinfra;
using namespace std::chrono_literals;
constexpr auto primary_options = db::fixed_options(db::option<"readonly">(true), db::option<"create_db">(true));
using Service = db::StaticManager<db::Named<"primary", test::StubBackend<db::ReadOnly>, primary_options>>;

void use(Service& s) { (void)s.db<"primary">(); }
