// Recovering the SQLSTATE libpqxx 6 dropped, from the message: no server needed.
// The messages are PostgreSQL 15's, as libpq gives them (checked against a server).

#include <appinfra/db/errors.hpp>
#include <appinfra/pg/detail/sqlstate.hpp>

#include <catch2/catch.hpp>

using appinfra::pg::detail::sqlstate_from_message;

TEST_CASE("permission denied, as libpqxx 6 throws it without a SQLSTATE, is 42501") {
  CHECK(sqlstate_from_message("ERROR:  permission denied for table secret\n") == "42501");
  CHECK(sqlstate_from_message("ERROR:  permission denied for schema app\n") == "42501");
  CHECK(sqlstate_from_message("ERROR:  permission denied to create database\n") == "42501");
  CHECK(sqlstate_from_message("ERROR:  must be owner of table t\n") == "42501");
}

TEST_CASE("a message written with PQERRORS_VERBOSE carries its own SQLSTATE") {
  CHECK(sqlstate_from_message("ERROR:  42501: permission denied for table secret\nLOCATION:  aclcheck_error, "
                              "aclchk.c:3655\n") == "42501");
  CHECK(sqlstate_from_message("ERROR:  53300: 53300\nCONTEXT:  PL/pgSQL function inline_code_block line 1 at "
                              "RAISE\n") == "53300");
  CHECK(sqlstate_from_message("FATAL:  57P01: terminating connection due to administrator command\n") == "57P01");
  // Not a code: the wording decides, or nothing does.
  CHECK(sqlstate_from_message("ERROR:  abcde: permission denied for table t") == "42501");
  CHECK(sqlstate_from_message("ERROR:  42501 permission") == "");
}

TEST_CASE("known wordings give their SQLSTATE, and so their Failure kind") {
  using appinfra::db::classify;
  using appinfra::db::Failure;
  CHECK(classify(sqlstate_from_message("ERROR:  canceling statement due to statement timeout\n")) ==
        Failure::query_canceled);
  CHECK(classify(sqlstate_from_message("ERROR:  could not serialize access due to concurrent update\n")) ==
        Failure::serialization);
  CHECK(classify(sqlstate_from_message("ERROR:  deadlock detected\nDETAIL:  Process 1 waits ...\n")) ==
        Failure::deadlock);
  CHECK(classify(sqlstate_from_message("ERROR:  cannot execute INSERT in a read-only transaction\n")) ==
        Failure::read_only);
  CHECK(classify(sqlstate_from_message("FATAL:  terminating connection due to administrator command\n")) ==
        Failure::server_shutdown);
  CHECK(sqlstate_from_message("ERROR:  duplicate key value violates unique constraint \"u_x_key\"\n") == "23505");
  CHECK(sqlstate_from_message("FATAL:  sorry, too many clients already\n") == "53300");
}

TEST_CASE("only the first line is read, and an unknown message gives no SQLSTATE") {
  CHECK(sqlstate_from_message("ERROR:  boom\nCONTEXT:  permission denied for table t\n") == "");
  CHECK(sqlstate_from_message("ERROR:  boom\n") == "");
  CHECK(sqlstate_from_message("") == "");
}
