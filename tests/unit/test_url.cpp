#include <appinfra/db/url.hpp>

#include <catch2/catch.hpp>

using appinfra::db::Url;

TEST_CASE("a PostgreSQL url splits into scheme, credentials, host and database") {
  const auto u = Url::parse("postgresql://alice:s3cret@db.example:5433/app?sslmode=require");
  CHECK(u.scheme() == "postgresql");
  CHECK(u.user() == "alice");
  CHECK(u.password() == "s3cret");
  CHECK(u.host() == "db.example:5433");
  CHECK(u.path() == "app");
  CHECK(u.query() == "sslmode=require");
}

TEST_CASE("the scheme is case-insensitive and postgres:// is kept as written") {
  CHECK(Url::parse("POSTGRES://h/db").scheme() == "postgres");
}

TEST_CASE("SQLite urls keep relative, absolute and in-memory paths apart") {
  CHECK(Url::parse("sqlite:///relative/app.db").path() == "relative/app.db");
  CHECK(Url::parse("sqlite:////absolute/app.db").path() == "/absolute/app.db");
  CHECK(Url::parse("sqlite:///:memory:").path() == ":memory:");
  CHECK(Url::parse("sqlite:///:memory:").host().empty());
}

TEST_CASE("redacted() hides the password and keeps the rest") {
  CHECK(Url::parse("postgresql://alice:s3cret@h/db").redacted() == "postgresql://alice:***@h/db");
  CHECK(Url::parse("postgresql://alice@h/db").redacted() == "postgresql://alice@h/db");
  CHECK(Url::parse("postgresql://h/db?user=a&password=s3cret&x=1").redacted() ==
        "postgresql://h/db?user=a&password=***&x=1");
}

TEST_CASE("a password containing '@' or ':' is redacted whole") {
  const auto u = Url::parse("postgresql://bob:p@ss:w0rd@h:5432/db");
  CHECK(u.password() == "p@ss:w0rd");
  CHECK(u.host() == "h:5432");
  CHECK(u.redacted() == "postgresql://bob:***@h:5432/db");
}

TEST_CASE("redact() cleans every url and password= in a free text") {
  const std::string text = "could not use postgresql://u:pw1@a/b nor host=x password=pw2 dbname=y";
  const std::string r = Url::redact(text);
  CHECK(r.find("pw1") == std::string::npos);
  CHECK(r.find("pw2") == std::string::npos);
  CHECK(r.find("postgresql://u:***@a/b") != std::string::npos);
}

TEST_CASE("with_path() replaces the database and keeps credentials and query") {
  CHECK(Url::parse("postgresql://u:p@h:1/app?x=1").with_path("postgres") == "postgresql://u:p@h:1/postgres?x=1");
}

TEST_CASE("passwords holding '/', '?', '#', '@' or ':' are parsed and redacted whole") {
  for (const std::string pw : {"a/b", "a?b", "a#b", "a@b", "a:b", "p%40ss"}) {
    INFO(pw);
    const std::string url = "postgresql://app:" + pw + "@db.example:5432/app?sslmode=require";
    const auto u = Url::parse(url);
    CHECK(u.password() == pw);
    CHECK(u.host() == "db.example:5432");
    CHECK(u.path() == "app");
    CHECK(u.query() == "sslmode=require");
    CHECK(u.redacted() == "postgresql://app:***@db.example:5432/app?sslmode=require");
    CHECK(Url::redact("error at " + url + " today").find(pw) == std::string::npos);
  }
}
