// db/detail/redact.hpp on its own: a database's passwords removed from any text.

#include <appinfra/db/detail/redact.hpp>
#include <appinfra/db/url.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace appinfra;
using Catch::Matchers::Contains;

TEST_CASE("Redactor replaces the whole url, and its password wherever else it appears") {
  const auto u = db::Url::parse("postgresql://app:s3cretpw@db.example/orders");
  const db::detail::Redactor r(u);
  CHECK_FALSE(r.empty());
  const std::string out = r("could not connect to postgresql://app:s3cretpw@db.example/orders; password s3cretpw");
  CHECK_THAT(out, !Contains("s3cretpw"));
  CHECK_THAT(out, Contains(u.redacted()));
  CHECK_THAT(out, Contains("db.example"));
}

TEST_CASE("Redactor leaves a text without secrets as it is") {
  const db::detail::Redactor r(db::Url::parse("postgresql://app:s3cretpw@h/db"));
  CHECK(r("relation \"users\" does not exist") == "relation \"users\" does not exist");
  CHECK(db::detail::Redactor()("anything") == "anything");
  CHECK(db::detail::Redactor().empty());
}

TEST_CASE("Redactor::of_password removes a literal of at least min_literal characters") {
  const auto r = db::detail::Redactor::of_password("hunter22");
  CHECK(r("the password hunter22 is wrong") == "the password *** is wrong");
  CHECK(r("hunter22hunter22") == "******");
  // Shorter ones are left to the structural redaction: replacing them everywhere
  // would garble the text.
  const auto short_one = db::detail::Redactor::of_password("abc");
  CHECK(short_one.empty());
  CHECK(short_one("abc abc") == "abc abc");
}
