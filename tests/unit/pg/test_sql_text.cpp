// SQL text scanning of the PostgreSQL backend: no server needed.

#include <appinfra/pg/detail/sql_text.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace appinfra::pg::detail;

TEST_CASE("first_keyword skips white space, parentheses and comments") {
  CHECK(first_keyword("  -- hi\n /* x */ (SELECT 1)") == "select");
  CHECK(first_keyword("Begin") == "begin");
  CHECK(first_keyword("") == "");
  CHECK(first_keyword("/* unterminated") == "");
}

TEST_CASE("is_query judges a WITH statement by its main statement") {
  CHECK(is_query("SELECT 1"));
  CHECK(is_query("with x as (select 1) select * from x"));
  CHECK_FALSE(is_query("WITH x AS (SELECT 1) UPDATE t SET a = 1"));
  CHECK_FALSE(is_query("WITH select_ids AS (SELECT 3) DELETE FROM t"));
  CHECK_FALSE(is_query("INSERT INTO t VALUES (1)"));
}

TEST_CASE("contains_ci finds a word in any case, without allocating") {
  CHECK(contains_ci("SELECT SET_CONFIG('a', 'b', false)", "set_config"));
  CHECK_FALSE(contains_ci("SELECT 1", "set_config"));
  CHECK(contains_ci("x", ""));
  CHECK_FALSE(contains_ci("", "a"));
}

TEST_CASE("mentions_session_function finds set_config and advisory_lock wherever they are, as contains_ci does") {
  const std::string filler(10'000, 'x');
  const std::string underscores = [] {
    std::string s;
    while (s.size() < 10'000) s += "a_b set_confi advisory_loc _config _lock ";
    return s;
  }();
  struct Case {
    std::string text;
    bool found;
  };
  const Case cases[] = {
      {"set_config", true},                       // the whole text, both edges
      {"ADVISORY_LOCK", true},
      {"set_confi", false},                       // cut at the end
      {"et_config", false},                       // cut at the start
      {"dvisory_lock", false},
      {"_config(1)", false},                      // '_' too near the start for the word
      {"SELECT 1", false},
      {"", false},
      {"set_set_config", true},                   // a false start just before
      {"advisory_advisory_lock", true},
      {"pg_try_Advisory_Lock_shared(1)", true},
      {"set_config" + filler, true},              // at the start of a long text
      {filler + "Set_Config", true},              // at its very end
      {filler + "advisory_lock", true},
      {filler + "advisory_loc", false},
      {filler, false},
      {underscores, false},                       // many candidates, none a word
      {underscores + "set_config", true},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text.substr(0, 40), c.text.size());
    CHECK(mentions_session_function(c.text) == c.found);
    CHECK(mentions_session_function(c.text) ==
          (contains_ci(c.text, "set_config") || contains_ci(c.text, "advisory_lock")));
  }
}

TEST_CASE("a long statement is dirty only when it changes the session") {
  std::string insert = "INSERT INTO accounts (id, user_name) VALUES ";
  for (int i = 0; insert.size() < 10'000; ++i)
    insert += "(" + std::to_string(i) + ", 'user_" + std::to_string(i) + "'), ";
  insert += "(0, 'x')";
  CHECK_FALSE(session_effect(insert).dirty);
  CHECK(session_effect(insert + "; SELECT pg_advisory_lock(1)").dirty);
  CHECK(session_effect("SELECT set_config('a', 'b', false); " + insert).dirty);
  CHECK(session_effect(insert + "; SET search_path TO x").dirty);
  CHECK_FALSE(session_effect(insert + "; SELECT pg_advisory_xact_lock(1)").dirty);
}

TEST_CASE("plain statements leave nothing on the session") {
  for (const char* sql : {"SELECT 1", "INSERT INTO t VALUES (1)", "UPDATE t SET x = 1", "COMMIT", "ROLLBACK",
                          "SET LOCAL search_path TO s", "set transaction isolation level serializable",
                          "CREATE TABLE t (x int)", "SELECT pg_advisory_xact_lock(1)", "SELECT 'settings'"}) {
    CAPTURE(sql);
    CHECK_FALSE(session_effect(sql).dirty);
    CHECK_FALSE(session_effect(sql).drops_prepared);
  }
}

TEST_CASE("statements that change the session make the connection dirty") {
  for (const char* sql : {"BEGIN", "start transaction", "SET search_path TO x", "set session work_mem = 1",
                          "RESET ALL", "LISTEN ch", "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
                          "PREPARE p AS SELECT 1", "LOAD 'auto_explain'", "CREATE TEMP TABLE t (x int)",
                          "create local temporary table t (x int)", "CREATE OR REPLACE TEMP VIEW v AS SELECT 1",
                          "SELECT set_config('search_path', 'x', false)", "SELECT pg_advisory_lock(1)",
                          "SELECT pg_try_advisory_lock(1)", "SELECT 1; BEGIN", "SELECT ';'; SET x = 1",
                          "/* c */ SeT default_transaction_read_only = off"}) {
    CAPTURE(sql);
    CHECK(session_effect(sql).dirty);
  }
}

TEST_CASE("DISCARD and DEALLOCATE drop the prepared statements") {
  CHECK(session_effect("DISCARD ALL").drops_prepared);
  CHECK(session_effect("deallocate all").drops_prepared);
  CHECK(session_effect("SELECT 1; DEALLOCATE p").drops_prepared);
  CHECK_FALSE(session_effect("SET x = 1").drops_prepared);
}

TEST_CASE("session_state: what outlives the transaction on the server connection, which a pooler would hand on") {
  for (const char* sql : {"SET search_path TO x", "set  work_mem = '1MB'", "RESET ALL", "LISTEN ch", "PREPARE p AS SELECT 1",
                          "LOAD 'auto_explain'", "CREATE TEMP TABLE t (x int)", "create local temporary table t (x int)",
                          "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "SELECT set_config('a.b', 'c', false)",
                          "SELECT pg_advisory_lock(1)", "SELECT pg_try_advisory_lock_shared(1)", "SELECT 1; SET x = 1"}) {
    INFO(sql);
    CHECK(session_effect(sql).session_state);
    CHECK(session_effect(sql).dirty);
  }
  for (const char* sql : {"BEGIN", "START TRANSACTION READ ONLY", "SET LOCAL statement_timeout = 0",
                          "SET TRANSACTION READ ONLY", "DECLARE c CURSOR FOR SELECT 1", "DISCARD ALL", "DEALLOCATE ALL",
                          "SELECT pg_advisory_xact_lock(1)", "CREATE TABLE t (x int)", "SELECT 1",
                          "DECLARE c CURSOR FOR SELECT * FROM holdings", "DECLARE c CURSOR WITHOUT HOLD FOR SELECT 1",
                          "SELECT set_config('app.user', $1, true)", "select SET_CONFIG('a.b', 'c', TRUE )"}) {
    INFO(sql);
    CHECK_FALSE(session_effect(sql).session_state);
  }
  // A set_config() whose is_local is not a literal true, or one of several that is
  // not, counts: what cannot be read counts as session state.
  for (const char* sql : {"SELECT set_config('a.b', 'c', $1)", "SELECT set_config('a.b', 'c', true), set_config('d.e', "
                          "'f', false)", "SELECT set_config('a.b', f(1, true))", "SELECT set_config('a,b)', 'c', false)",
                          "SELECT set_config('a.b', 'c', true); SELECT pg_advisory_lock(1)"}) {
    INFO(sql);
    CHECK(session_effect(sql).session_state);
  }
}

TEST_CASE("a text of several statements that begins or ends a transaction is told apart") {
  for (const char* sql : {"BEGIN; DELETE FROM t; COMMIT", "SELECT 1; COMMIT; DELETE FROM t", "select 1;rollback",
                          "SELECT 1; /* c */ end"}) {
    INFO(sql);
    CHECK(controls_transaction_among_others(sql));
  }
  for (const char* sql : {"BEGIN", "COMMIT;", "SELECT 1; SELECT 2", "DELETE FROM t;  ;", "SELECT 'begin'; SELECT 2"}) {
    INFO(sql);
    CHECK_FALSE(controls_transaction_among_others(sql));
  }
}
