// Must not compile: a pool_timeout below zero in a database's fixed options.
#include "../support/stub_backend.hpp"

#include <appinfra/db/fixed_options.hpp>

#include <chrono>

using namespace appinfra;
using namespace std::chrono_literals;
constexpr auto primary_options = db::fixed_options(db::option<"pool_timeout">(-1s));
using Service = db::StaticManager<db::Named<"primary", test::StubBackend<>, primary_options>>;

void use(Service& s) { (void)s.db<"primary">(); }
