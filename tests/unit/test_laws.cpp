// The laws of db::Pool and db::Interface (tests/support/laws/) over the models
// that need no server: QueuePool, NullPool and StaticPool on the stub connector,
// and the stub backend. SQLite and PostgreSQL run the same laws in their
// integration tests; the user-defined pool runs them in test_custom_pool.cpp.

#include "../support/laws/backend.hpp"
#include "../support/laws/pool.hpp"
#include "../support/stub_backend.hpp"

#include <appinfra/db/pool/null_pool.hpp>
#include <appinfra/db/pool/queue_pool.hpp>
#include <appinfra/db/pool/static_pool.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>

using namespace appinfra;
using test::StubConnector;

namespace {
db::PoolOptions law_options(std::size_t size, std::size_t overflow) {
  db::PoolOptions o;
  o.pool_size = size;
  o.max_overflow = overflow;
  o.timeout = std::chrono::duration<double>(30.0);
  o.max_retries = 0;
  return o;
}

/// A factory of warmed-up pools, each on a stub database of its own (a fresh
/// control per pool: no state shared with other tests).
template <class P>
auto pool_factory(std::string name, std::size_t size, std::size_t overflow) {
  return [name = std::move(name), size, overflow] {
    auto ctl = std::make_shared<test::StubControl>();
    auto p = std::make_unique<P>(StubConnector{name, ctl, log::Logger(log::Level::off)}, law_options(size, overflow));
    p->warm_up();
    return p;
  };
}

template <class B>
auto backend_factory(std::string name) {
  return [name = std::move(name)] {
    db::DatabaseConfig c = db::DatabaseConfig::from(
        name, {{"url", "stub://ok/" + name}, {"pool_size", 2}, {"max_overflow", 1}, {"max_retries", 0}});
    test::stub_control(name, true);  // this factory's database only
    return std::make_unique<B>(log::Logger(log::Level::off), c);
  };
}
}  // namespace

TEST_CASE("QueuePool keeps the laws of db::Pool") {
  using P = db::QueuePool<StubConnector>;
  test::laws::pool_laws<P>(pool_factory<P>("laws_queue", 2, 1), 3);
  test::laws::pool_lease_outlives_pool<P>(pool_factory<P>("laws_queue", 2, 1));
}

TEST_CASE("NullPool keeps the laws of db::Pool") {
  using P = db::NullPool<StubConnector>;
  test::laws::pool_laws<P>(pool_factory<P>("laws_null", 2, 1), 3);
  test::laws::pool_lease_outlives_pool<P>(pool_factory<P>("laws_null", 2, 1));
}

TEST_CASE("StaticPool keeps the laws of db::Pool") {
  using P = db::StaticPool<StubConnector>;
  test::laws::pool_laws<P>(pool_factory<P>("laws_static", 1, 0), 1);
  test::laws::pool_lease_outlives_pool<P>(pool_factory<P>("laws_static", 1, 0));
}

TEST_CASE("the stub backend keeps the laws of db::Interface") {
  test::laws::backend_laws<test::StubBackend<>>(backend_factory<test::StubBackend<>>("laws_stub"));
}

TEST_CASE("the stub backend on NullPool keeps the laws of db::Interface") {
  using OnNull = test::StubBackend<db::ReadWrite, log::Logger, db::UseNullPool<>>;
  test::laws::backend_laws<OnNull>(backend_factory<OnNull>("laws_stub_null"));
}
