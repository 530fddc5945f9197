// Which statement texts automatic preparation takes (pg/detail/auto_prepare.hpp);
// the counting, the cache and the server's side are tested on a real server
// (integration/pg/test_pg_autoprep.cpp).

#include <appinfra/pg/detail/auto_prepare.hpp>

#include <catch2/catch.hpp>

using appinfra::pg::detail::auto_name;
using appinfra::pg::detail::preparable;
using appinfra::pg::detail::session_effect;

namespace {
bool takes(const char* sql) { return preparable(sql, session_effect(sql)); }
}  // namespace

TEST_CASE("one plain statement of a kind PostgreSQL prepares is preparable", "[pg][autoprep]") {
  CHECK(takes("SELECT 1"));
  CHECK(takes("  select abalance from pgbench_accounts where aid = $1"));
  CHECK(takes("INSERT INTO t VALUES ($1)"));
  CHECK(takes("UPDATE t SET a = $1 WHERE id = $2"));
  CHECK(takes("DELETE FROM t WHERE id = $1"));
  CHECK(takes("WITH x AS (SELECT 1) SELECT * FROM x"));
  CHECK(takes("VALUES (1), (2)"));
  CHECK(takes("TABLE t"));
  CHECK(takes("/* why */ SELECT 1"));
  CHECK(takes("SELECT 1;"));
  CHECK(takes("SELECT 1 ; \n"));
}

TEST_CASE("several statements, utility statements and session changes are not", "[pg][autoprep]") {
  CHECK_FALSE(takes("SELECT 1; SELECT 2"));
  CHECK_FALSE(takes("SELECT ';' ; SELECT 2"));
  CHECK_FALSE(takes("SET search_path TO x"));
  CHECK_FALSE(takes("SHOW search_path"));
  CHECK_FALSE(takes("BEGIN"));
  CHECK_FALSE(takes("COMMIT"));
  CHECK_FALSE(takes("CREATE TABLE t (a int)"));
  CHECK_FALSE(takes("DISCARD ALL"));
  CHECK_FALSE(takes("SELECT set_config('a.b', '1', false)"));
  CHECK_FALSE(takes("SELECT pg_advisory_lock(1)"));
  CHECK_FALSE(takes(""));
}

TEST_CASE("automatically prepared names cannot clash with PG::prepare()'s", "[pg][autoprep]") {
  CHECK(auto_name(1) == "_appinfra_1");
  CHECK(auto_name(42).front() == '_');  // PG::prepare() takes [a-z][a-z0-9_]*
}
