// The SQLite backend's pure functions: what marks a connection dirty, quoting,
// error codes. In sqlite_tests: they need <sqlite3.h>'s constants.

#include <appinfra/sqlite/detail/defaults.hpp>
#include <appinfra/sqlite/detail/exec.hpp>
#include <appinfra/sqlite/detail/tracking.hpp>

#include <catch2/catch.hpp>

using appinfra::sqlite::detail::changes_connection;
using appinfra::sqlite::detail::quoted;

TEST_CASE("a PRAGMA that sets something changes the connection; one that reads does not") {
  CHECK(changes_connection(SQLITE_PRAGMA, "query_only", "OFF", nullptr));
  CHECK(changes_connection(SQLITE_PRAGMA, "foreign_keys", "1", "main"));
  CHECK_FALSE(changes_connection(SQLITE_PRAGMA, "query_only", nullptr, nullptr));
  CHECK_FALSE(changes_connection(SQLITE_PRAGMA, "table_info", "users", nullptr));
  CHECK_FALSE(changes_connection(SQLITE_PRAGMA, "integrity_check", "10", nullptr));
}

TEST_CASE("ATTACH, DETACH and TEMP objects change the connection") {
  CHECK(changes_connection(SQLITE_ATTACH, "other.db", nullptr, nullptr));
  CHECK(changes_connection(SQLITE_DETACH, "aux", nullptr, nullptr));
  CHECK(changes_connection(SQLITE_CREATE_TEMP_TABLE, "t", nullptr, "temp"));
  CHECK(changes_connection(SQLITE_CREATE_TEMP_VIEW, "v", nullptr, "temp"));
  CHECK(changes_connection(SQLITE_CREATE_TEMP_INDEX, "i", "t", "temp"));
  CHECK(changes_connection(SQLITE_CREATE_TEMP_TRIGGER, "tr", "t", "temp"));
  CHECK(changes_connection(SQLITE_CREATE_VTABLE, "vt", "fts5", "temp"));
  CHECK_FALSE(changes_connection(SQLITE_CREATE_VTABLE, "vt", "fts5", "main"));
  CHECK(changes_connection(SQLITE_CREATE_TABLE, "t", nullptr, "temp"));  // CREATE TABLE temp.t
  CHECK(changes_connection(SQLITE_CREATE_VIEW, "v", nullptr, "temp"));
  CHECK_FALSE(changes_connection(SQLITE_CREATE_TABLE, "t", nullptr, "main"));
}

TEST_CASE("plain statements and transactions do not change the connection") {
  // An open transaction is seen by sqlite3_get_autocommit(), not counted here.
  for (int action : {SQLITE_SELECT, SQLITE_READ, SQLITE_INSERT, SQLITE_UPDATE, SQLITE_DELETE, SQLITE_CREATE_TABLE,
                     SQLITE_DROP_TABLE, SQLITE_CREATE_INDEX, SQLITE_TRANSACTION, SQLITE_SAVEPOINT, SQLITE_FUNCTION})
    CHECK_FALSE(changes_connection(action, "x", "y", "main"));
}

TEST_CASE("names and values are quoted with their quote doubled") {
  CHECK(quoted("aux", '"') == "\"aux\"");
  CHECK(quoted("a\"b", '"') == "\"a\"\"b\"");
  CHECK(quoted("it's", '\'') == "'it''s'");
  CHECK(quoted("", '\'') == "''");
}

TEST_CASE("a SQLite error's sqlstate is SQLITE_ and its extended code, which classifies it") {
  const auto e = appinfra::sqlite::detail::query_error(nullptr, SQLITE_BUSY_SNAPSHOT, "app", "COMMIT");
  CHECK(e.sqlstate() == "SQLITE_" + std::to_string(SQLITE_BUSY_SNAPSHOT));
  CHECK(e.failure() == appinfra::db::Failure::busy);
  CHECK(e.retryable());
  CHECK(appinfra::sqlite::detail::query_error(nullptr, SQLITE_LOCKED_SHAREDCACHE, "app", "x").failure() ==
        appinfra::db::Failure::busy);
  CHECK(appinfra::sqlite::detail::query_error(nullptr, SQLITE_CONSTRAINT_UNIQUE, "app", "x").failure() ==
        appinfra::db::Failure::query);
  CHECK_THAT(e.what(), Catch::Matchers::Contains("'app'") && Catch::Matchers::Contains("COMMIT"));
}
