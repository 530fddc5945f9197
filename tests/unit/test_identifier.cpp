// db/detail/identifier.hpp on its own: the names appinfra quotes into SQL itself.

#include <appinfra/db/detail/identifier.hpp>

#include <catch2/catch.hpp>

#include <string>

using appinfra::db::detail::is_identifier;

TEST_CASE("is_identifier() accepts [a-z][a-z0-9_]* up to 63 characters") {
  CHECK(is_identifier("a"));
  CHECK(is_identifier("app_schema_2"));
  CHECK(is_identifier(std::string(63, 'x')));
  CHECK_FALSE(is_identifier(std::string(64, 'x')));
  CHECK_FALSE(is_identifier(""));
  CHECK_FALSE(is_identifier("2fast"));
  CHECK_FALSE(is_identifier("_lead"));
  CHECK_FALSE(is_identifier("Upper"));
  CHECK_FALSE(is_identifier("semi;colon"));
  CHECK_FALSE(is_identifier("quo\"te"));
  CHECK_FALSE(is_identifier("sp ace"));
}

TEST_CASE("is_identifier() takes a dash only when asked (extension names)") {
  CHECK_FALSE(is_identifier("uuid-ossp"));
  CHECK(is_identifier("uuid-ossp", true));
  CHECK_FALSE(is_identifier("-lead", true));
  static_assert(is_identifier("pgcrypto"));
}
