// Connection strings read as libpq reads them: db::detail::parse_conninfo held
// against libpq's own PQconninfoParse, the text the connector hands libpq
// (pg::detail::conninfo) read back by libpq, scrub() and the query log's redaction.
// No server.

#include "../../support/capture_logger.hpp"

#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/conninfo_parse.hpp>
#include <appinfra/db/detail/query_log.hpp>
#include <appinfra/db/url.hpp>
#include <appinfra/pg/detail/conninfo.hpp>
#include <appinfra/pg/detail/translate.hpp>

#include <catch2/catch.hpp>
#include <libpq-fe.h>

#include <map>
#include <random>
#include <string>
#include <vector>

using namespace appinfra;

namespace {

// What libpq makes of `text`: its values, or nullopt when it rejects the text.
std::optional<std::map<std::string, std::string>> libpq_reading(const std::string& text) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(text.c_str(), &err);
  if (err != nullptr) PQfreemem(err);
  if (opts == nullptr) return std::nullopt;
  std::map<std::string, std::string> out;
  for (auto* o = opts; o->keyword != nullptr; ++o)
    if (o->val != nullptr) out[o->keyword] = o->val;
  PQconninfoFree(opts);
  return out;
}

std::map<std::string, std::string> our_reading(const db::detail::ConninfoParse& r) {
  std::map<std::string, std::string> out;
  for (const auto& p : r.params) out[p.key] = p.value;
  return out;
}

// libpq only knows the lower-case prefixes; we take any case.
std::string lower_prefix(std::string text) {
  const std::size_t n = db::detail::uri_prefix_length(text);
  for (std::size_t i = 0; i < n; ++i) text[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
  return text;
}

void same_as_libpq(const std::string& text) {
  INFO("text: " << text);
  const auto ours = db::detail::parse_conninfo(text);
  const auto theirs = libpq_reading(lower_prefix(text));
  CHECK(ours.ok() == theirs.has_value());
  if (ours.ok() && theirs) CHECK(our_reading(ours) == *theirs);
}

std::vector<std::string> hand_picked() {
  return {"postgresql://alice:s3cret@db.example:5433/app?sslmode=require",
          "postgres://h/db",
          "POSTGRESQL://u:p@h/db",
          "postgresql://",
          "postgresql:///db",
          "postgresql://app:p@ss@h/db",
          "postgresql://app:pa/ss@h/db",
          "postgresql://app:a?b@h/db",
          "postgresql://app:a#b c@h/db",
          "postgresql://app:a:b@h/db",
          "postgresql://app:a%zz@h/db",
          "postgresql://app:a%00@h/db",
          "postgresql://app:a%4@h/db",
          "postgresql://h1:1,h2:2/db?password=x&ssl=true",
          "postgresql://h1,h2/d",
          "postgresql://h,/d",
          "postgresql://[::1]:5/db",
          "postgresql://[::1/d",
          "postgresql://[]/d",
          "postgresql://[::1]x/d",
          "postgresql://h/db?password=a=b",
          "postgresql://h/d?x",
          "postgresql://h/d?&password=x&",
          "postgresql://h/d?pass%77ord=x",
          "postgresql://h/d?ssl=false",
          "postgresql://h/d?requiressl=1",
          "postgresql://h/d?foo=1",
          "postgresql://:pw@h",
          "postgresql://app:@h",
          "postgresql://@h",
          "postgresql://user:pw@",
          "postgresql://h?user=me@corp",
          "postgresql://a%40b:c%2Fd@h%2Cx/d%2Fe",
          "postgresql://h/d?password=1&password=2",
          "postgresql://app:pw@h/d?user=bob",
          "postgresql://app:secret/h",
          "host=h password = 'a\\'b c' dbname=x",
          "host=h password=a\\ b",
          "host=h password=",
          "password=''",
          "password =x host",
          "password='abc",
          "bogus=1",
          "password=a\\",
          "  host = h  \t port=5\n",
          "host=h password='x'dbname=y",
          "requiressl=0",
          "=x",
          ""};
}

}  // namespace

TEST_CASE("parse_conninfo reads hand-picked connection strings exactly as PQconninfoParse does") {
  for (const auto& text : hand_picked()) same_as_libpq(text);
}

TEST_CASE("parse_conninfo reads random connection strings exactly as PQconninfoParse does") {
  std::mt19937 rng(11);
  const std::vector<std::string> pieces = {"postgresql://", "postgres://", "u", "pw", ":", "@", "/", "?", "&", "=",
                                           ",", "[", "]", "::1", "%", "%41", "%2F", "%00", " ", "'", "\\", "h",
                                           "5432", "db", "password", "host", "user", "dbname", "sslmode", "ssl",
                                           "true", "port", "x"};
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const int n = std::uniform_int_distribution<int>(0, 12)(rng);
    if (rng() % 2 == 0) text = rng() % 2 == 0 ? "postgresql://" : "postgres://";
    for (int k = 0; k < n; ++k) text += pieces[rng() % pieces.size()];
    const auto ours = db::detail::parse_conninfo(text);
    const auto theirs = libpq_reading(lower_prefix(text));
    if (ours.ok() != theirs.has_value() || (ours.ok() && our_reading(ours) != *theirs)) {
      same_as_libpq(text);  // reports it
      break;
    }
  }
}

TEST_CASE("the text handed to libpq reads back as the url, with connect_timeout and keepalives, whatever the password") {
  for (const std::string pw : {"a?b=c&d", "it's a \\ test", "p@ss/w:rd", " lead and trail ", "%41"}) {
    INFO(pw);
    std::string enc;
    for (unsigned char c : pw) enc += fmt::format("%{:02X}", c);
    for (const std::string& url : {"postgresql://app:" + enc + "@h1:5,h2/app?target_session_attrs=read-write",
                                  "POSTGRES://app@h1:5,h2/app?target_session_attrs=read-write&password=" + enc,
                                  "host=h1,h2 port=5, dbname=app user=app target_session_attrs=read-write password=" +
                                      pg::detail::conninfo_quote(pw)}) {
      INFO(url);
      const auto c = db::DatabaseConfig::from("app", {{"url", url}, {"pool_timeout", 3.5}});
      const auto read = libpq_reading(pg::detail::conninfo(c));
      REQUIRE(read);
      CHECK(read->at("password") == pw);
      CHECK(read->at("user") == "app");
      CHECK(read->at("host") == "h1,h2");
      CHECK(read->at("port") == "5,");
      CHECK(read->at("dbname") == "app");
      CHECK(read->at("target_session_attrs") == "read-write");
      CHECK(read->at("connect_timeout") == "4");
      CHECK(read->at("keepalives") == "1");
      const auto admin = libpq_reading(pg::detail::conninfo(c, "postgres"));
      REQUIRE(admin);
      CHECK(admin->at("dbname") == "postgres");
      CHECK(admin->at("password") == pw);
    }
  }
  // What the url says wins over the defaults.
  const auto c = db::DatabaseConfig::from("app", {{"url", "postgresql://h/db?connect_timeout=9&keepalives=0"}});
  const auto read = libpq_reading(pg::detail::conninfo(c));
  REQUIRE(read);
  CHECK(read->at("connect_timeout") == "9");
  CHECK(read->at("keepalives") == "0");
}

TEST_CASE("scrub() hides the url's password in every spelling but leaves a 1-character password's letter elsewhere") {
  const auto u = db::Url::parse("postgresql://app:x@h/db");
  const db::detail::Redactor r(u);
  CHECK(pg::detail::scrub("relation \"xyz\" does not exist\n", r) == "relation \"xyz\" does not exist");
  CHECK(pg::detail::scrub("cannot use postgresql://app:x@h/db", r) == "cannot use postgresql://app:***@h/db");

  const auto v = db::Url::parse("postgresql://app:s%20cr%3Ft@h/db");
  const db::detail::Redactor rv(v);
  CHECK(pg::detail::scrub("bad input \"s cr?t\" and s%20cr%3Ft", rv) == "bad input \"***\" and ***");
}

TEST_CASE("the query log redacts a statement's text, its parameters and its error as the QueryError does") {
  auto [lg, cap] = test::capture_logger(log::Level::trace);
  const auto u = db::Url::parse("postgresql://app:hunter2secret@h/db");
  db::detail::QueryLog<log::Logger> ql(lg, "app", log::Level::info, true, db::detail::Redactor(u));
  struct R {
    std::size_t size() const { return 1; }
    std::size_t affected_rows() const { return 0; }
  };
  ql.run("ALTER ROLE app PASSWORD 'hunter2secret'", [] { return R{}; });
  ql.run("SELECT $1", [] { return R{}; }, std::string("hunter2secret"));
  CHECK_THROWS(ql.run("SELECT 'hunter2secret'::int", []() -> R { throw std::runtime_error("bad \"hunter2secret\""); }));
  CHECK_FALSE(cap->contains("hunter2secret"));
  CHECK(cap->contains("ALTER ROLE app PASSWORD '***'"));
}
