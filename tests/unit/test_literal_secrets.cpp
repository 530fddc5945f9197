// db/detail/literal_secrets.hpp: the literal-secret rule that Url::redacted(),
// Url::redact() and Redactor share.

#include <appinfra/db/detail/literal_secrets.hpp>

#include <catch2/catch.hpp>

#include <string>

using appinfra::db::detail::LiteralSecrets;

namespace {

std::string removed(const LiteralSecrets& s, std::string text) {
  s.remove_from(text);
  return text;
}

}  // namespace

TEST_CASE("LiteralSecrets replaces every occurrence of each secret by ***") {
  LiteralSecrets s;
  CHECK(s.empty());
  s.add("hunter22");
  CHECK_FALSE(s.empty());
  CHECK(removed(s, "hunter22 and again hunter22") == "*** and again ***");
  CHECK(removed(s, "hunter22hunter22") == "******");
  CHECK(removed(s, "no secret here") == "no secret here");
  CHECK(removed(s, "") == "");
}

TEST_CASE("LiteralSecrets keeps no secret shorter than min_size: replacing it everywhere would garble the text") {
  LiteralSecrets s;
  s.add("abc");
  s.add("");
  CHECK(s.empty());
  CHECK(removed(s, "abc abc") == "abc abc");
  s.add(std::string(LiteralSecrets::min_size, 'x'));
  CHECK(removed(s, "xxxx") == "***");
}

TEST_CASE("LiteralSecrets replaces the longest secret first, whatever the order they were added in") {
  // "pass" inside "password1": replaced first, it would leave "word1" behind.
  for (const bool short_first : {true, false}) {
    LiteralSecrets s;
    if (short_first) s.add("pass");
    s.add("password1");
    if (!short_first) s.add("pass");
    CAPTURE(short_first);
    CHECK(removed(s, "password1 pass") == "*** ***");
  }
}
