#pragma once
// The laws of db::Interface (concepts/backend.hpp), as generic checks in the
// style of Boost.Hana's test/laws, run over every backend: the stub backend in
// unit_tests, sqlite::SQLite<> and pg::PG<> in their integration tests. A model is
// given as a factory `make()` returning a std::unique_ptr to a fresh backend
// (pool_size of at least 1) whose server answers `SELECT 1`.

#include <appinfra/db/concepts/backend.hpp>
#include <appinfra/db/errors.hpp>

#include "pool.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <source_location>
#include <string>
#include <utility>

namespace appinfra::test::laws {

/// A connection is held once and given back when closed or destroyed; close() on
/// it is idempotent; the overloads with `where` and a deadline hand out the same.
template <db::Interface B, class Make>
void backend_connections_give_back(Make make) {
  auto b = make();
  check_status_counts_once(std::as_const(*b).get_pool_status(), 0);
  {
    auto c = b->connect();
    c.execute("SELECT 1");
    check_status_counts_once(b->get_pool_status(), 1);
    c.close();
    check_status_counts_once(b->get_pool_status(), 0);
    c.close();
    check_status_counts_once(b->get_pool_status(), 0);
  }
  {
    auto c = b->connect(std::source_location::current());
    auto d = b->connect(db::Deadline::in(std::chrono::seconds(30)), std::source_location::current());
    d.execute(db::Deadline::in(std::chrono::seconds(30)), "SELECT 1");
    check_status_counts_once(b->get_pool_status(), 2);
  }
  check_status_counts_once(b->get_pool_status(), 0);
}

/// A session is in a transaction from its first statement until commit() or
/// rollback(); destroyed or closed uncommitted it gives its connection back.
template <db::Interface B, class Make>
void backend_session_transaction(Make make) {
  auto b = make();
  {
    auto s = b->session();
    CHECK_FALSE(std::as_const(s).in_transaction());
    s.execute("SELECT 1");
    CHECK(s.in_transaction());
    s.commit();
    CHECK_FALSE(s.in_transaction());
    s.execute(db::Deadline::in(std::chrono::seconds(30)), "SELECT 1");
    CHECK(s.in_transaction());
    s.rollback();
    CHECK_FALSE(s.in_transaction());
    s.execute("SELECT 1");
    check_status_counts_once(b->get_pool_status(), 1);
  }  // destroyed in a transaction: rolled back, given back
  check_status_counts_once(b->get_pool_status(), 0);
  auto s = b->session(db::Deadline::in(std::chrono::seconds(30)), std::source_location::current());
  s.execute("SELECT 1");
  s.close();
  CHECK_FALSE(s.in_transaction());
  s.close();
  check_status_counts_once(b->get_pool_status(), 0);
}

/// health_check() is a round trip that reports a healthy server, and never throws.
template <db::Interface B, class Make>
void backend_health_check(Make make) {
  auto b = make();
  db::HealthResult h;
  CHECK_NOTHROW(h = b->health_check());
  CHECK(h.healthy());
  CHECK(h.error.empty());
  CHECK_NOTHROW(h = b->health_check(std::source_location::current()));
  CHECK(h.healthy());
  check_status_counts_once(b->get_pool_status(), 0);
  b->close();
  CHECK_NOTHROW(h = b->health_check());  // closed: unhealthy, still no exception
  CHECK_FALSE(h.healthy());
}

/// close() and drain() are idempotent; afterwards connect() and session() throw a
/// db::Error; drain() counts a connection still held, which is closed when returned.
template <db::Interface B, class Make>
void backend_close_drain_idempotent(Make make) {
  {
    auto b = make();
    b->close();
    b->close();
    CHECK(b->drain(std::chrono::steady_clock::now()) == 0);
    CHECK_THROWS_AS(b->connect(), db::Error);
    CHECK_THROWS_AS(b->session(), db::Error);
  }
  {
    auto b = make();
    auto c = b->connect();
    check_drain_counts_held(*b, [&] { c.close(); }, [&] { return b->get_pool_status().checked_out; });
  }
}

/// Connections and sessions may outlive their backend.
template <db::Interface B, class Make>
void backend_handles_outlive_backend(Make make) {
  auto b = make();
  auto c = b->connect();
  auto s = b->session();
  s.execute("SELECT 1");
  b.reset();
  s.close();
  c.close();
  SUCCEED();
}

/// A deadline already passed fails the checkout at once with PoolTimeoutError.
template <db::Interface B, class Make>
void backend_passed_deadline(Make make) {
  auto b = make();
  const auto past = db::Deadline{std::chrono::steady_clock::now() - std::chrono::seconds(1)};
  CHECK_THROWS_AS(b->connect(past), db::PoolTimeoutError);
  CHECK_THROWS_AS(b->session(past), db::PoolTimeoutError);
  check_status_counts_once(b->get_pool_status(), 0);
}

/// A session rolls back unless committed (destroyed, closed or rolled back), and
/// what it commits is seen by the next connection. For backends with a server:
/// `table` is a name not yet used; the SQL is common to PostgreSQL and SQLite.
template <db::Interface B, class Make>
void backend_session_rolls_back_unless_committed(Make make, const std::string& table) {
  auto b = make();
  b->connect().execute("CREATE TABLE " + table + " (x INTEGER)");
  const auto count = [&] { return b->connect().execute("SELECT count(*) FROM " + table).template scalar<int>(); };
  {
    auto s = b->session();
    s.execute("INSERT INTO " + table + " VALUES (1)");
  }
  CHECK(count() == 0);
  {
    auto s = b->session();
    s.execute("INSERT INTO " + table + " VALUES (1)");
    s.close();
  }
  CHECK(count() == 0);
  {
    auto s = b->session();
    s.execute("INSERT INTO " + table + " VALUES (1)");
    s.rollback();
    s.execute("INSERT INTO " + table + " VALUES (2)");
    s.commit();
    s.execute("INSERT INTO " + table + " VALUES (3)");
  }
  CHECK(count() == 1);
  b->connect().execute("DROP TABLE " + table);
}

/// Every law of db::Interface that needs no table.
template <db::Interface B, class Make>
void backend_laws(Make make) {
  backend_connections_give_back<B>(make);
  backend_session_transaction<B>(make);
  backend_health_check<B>(make);
  backend_close_drain_idempotent<B>(make);
  backend_handles_outlive_backend<B>(make);
  backend_passed_deadline<B>(make);
}

}  // namespace appinfra::test::laws
