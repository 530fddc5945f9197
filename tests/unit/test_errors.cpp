// db/errors.hpp on its own: classify(), to_string(Failure), and what the error
// types report (sqlstate, failure, retryable) — no server needed.

#include <appinfra/db/errors.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace appinfra;
using db::Failure;

TEST_CASE("classify() maps each SQLSTATE the library acts on to its Failure") {
  CHECK(db::classify("40001") == Failure::serialization);
  CHECK(db::classify("40P01") == Failure::deadlock);
  CHECK(db::classify("25006") == Failure::read_only);
  CHECK(db::classify("57P01") == Failure::server_shutdown);
  CHECK(db::classify("57P02") == Failure::server_crashed);
  CHECK(db::classify("57P03") == Failure::server_starting);
  CHECK(db::classify("57014") == Failure::query_canceled);
  CHECK(db::classify("08007") == Failure::in_doubt);
  CHECK(db::classify("40003") == Failure::in_doubt);
}

TEST_CASE("classify() treats every class 08 state and the idle timeouts as a lost connection") {
  for (const char* s : {"08000", "08001", "08003", "08004", "08006", "08P01", "57P05", "25P03"}) {
    INFO(s);
    CHECK(db::classify(s) == Failure::connection_lost);
  }
}

TEST_CASE("classify() calls anything else a query error") {
  for (const char* s : {"", "23505", "42601", "XX000", "40002", "57P04", "0", "SQLITE_", "SQLITE_x5"}) {
    INFO(s);
    CHECK(db::classify(s) == Failure::query);
  }
}

TEST_CASE("classify() reads SQLite's extended result codes by their low byte") {
  CHECK(db::classify("SQLITE_5") == Failure::busy);        // SQLITE_BUSY
  CHECK(db::classify("SQLITE_6") == Failure::busy);        // SQLITE_LOCKED
  CHECK(db::classify("SQLITE_517") == Failure::busy);      // SQLITE_BUSY_SNAPSHOT (5 | 2 << 8)
  CHECK(db::classify("SQLITE_262") == Failure::busy);      // SQLITE_LOCKED_SHAREDCACHE (6 | 1 << 8)
  CHECK(db::classify("SQLITE_9") == Failure::query_canceled);  // SQLITE_INTERRUPT
  CHECK(db::classify("SQLITE_1") == Failure::query);       // SQLITE_ERROR
  CHECK(db::classify("SQLITE_19") == Failure::query);      // SQLITE_CONSTRAINT
  CHECK(db::classify("SQLITE_99999999999") == Failure::query);  // too long: not read as a number
}

TEST_CASE("classify() is usable in a constant expression") {
  static_assert(db::classify("40001") == Failure::serialization);
  static_assert(db::classify("SQLITE_5") == Failure::busy);
  SUCCEED();
}

TEST_CASE("to_string() names every Failure as its enumerator") {
  CHECK(db::to_string(Failure::query) == "query");
  CHECK(db::to_string(Failure::serialization) == "serialization");
  CHECK(db::to_string(Failure::deadlock) == "deadlock");
  CHECK(db::to_string(Failure::read_only) == "read_only");
  CHECK(db::to_string(Failure::server_shutdown) == "server_shutdown");
  CHECK(db::to_string(Failure::server_crashed) == "server_crashed");
  CHECK(db::to_string(Failure::server_starting) == "server_starting");
  CHECK(db::to_string(Failure::connection_lost) == "connection_lost");
  CHECK(db::to_string(Failure::query_canceled) == "query_canceled");
  CHECK(db::to_string(Failure::busy) == "busy");
  CHECK(db::to_string(Failure::in_doubt) == "in_doubt");
}

TEST_CASE("retryable() holds for serialization, deadlock and busy, never for in_doubt") {
  CHECK(db::QueryError("q", "40001").retryable());
  CHECK(db::QueryError("q", "40P01").retryable());
  CHECK(db::QueryError("q", "SQLITE_5").retryable());
  CHECK(db::QueryError("q", "SQLITE_6").retryable());
  CHECK_FALSE(db::QueryError("q", "40003").retryable());
  CHECK_FALSE(db::QueryError("q", "08007").retryable());
  CHECK_FALSE(db::QueryError("q", "23505").retryable());
  CHECK_FALSE(db::QueryError("q", "57014").retryable());
  CHECK_FALSE(db::ConnectionError("c").retryable());
}

TEST_CASE("ConnectionError defaults to 08006, a lost connection; ReadOnlyServerError is read_only") {
  const db::ConnectionError c("database 'x': gone");
  CHECK(c.sqlstate() == "08006");
  CHECK(c.failure() == Failure::connection_lost);
  CHECK(std::string(c.what()) == "database 'x': gone");
  CHECK(db::ConnectionError("shut", "57P01").failure() == Failure::server_shutdown);
  const db::ReadOnlyServerError r("standby");
  CHECK(r.sqlstate() == "25006");
  CHECK(r.failure() == Failure::read_only);
  CHECK_FALSE(r.retryable());
}

TEST_CASE("QueryError keeps its SQLSTATE and classifies it") {
  const db::QueryError q("database 'x': canceled", "57014");
  CHECK(q.sqlstate() == "57014");
  CHECK(q.failure() == Failure::query_canceled);
}

TEST_CASE("ConfigError says which database, key and value") {
  const db::ConfigError e("primary", "pool_size", "0", "database 'primary': key 'pool_size' ...");
  CHECK(e.database() == "primary");
  CHECK(e.key() == "pool_size");
  CHECK(e.value() == "0");
}
