// db/ordered_map.hpp on its own.

#include <appinfra/db/errors.hpp>
#include <appinfra/db/ordered_map.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace appinfra;
using Catch::Matchers::Contains;

TEST_CASE("OrderedMap keeps insertion order; assigning keeps the key's place") {
  db::OrderedMap<int> m;
  CHECK(m.empty());
  m.insert_or_assign("b", 1);
  m.insert_or_assign("a", 2);
  m.insert_or_assign("c", 3);
  m.insert_or_assign("a", 20);
  std::vector<std::string> keys;
  for (const auto& [k, v] : m) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"b", "a", "c"});
  CHECK(m.size() == 3);
  CHECK(m.at("a") == 20);
}

TEST_CASE("OrderedMap::find and contains; at() names a missing key") {
  db::OrderedMap<std::string> m;
  m.insert_or_assign("primary", "up");
  CHECK(m.contains("primary"));
  CHECK_FALSE(m.contains("replica"));
  CHECK(m.find("replica") == nullptr);
  REQUIRE(m.find("primary") != nullptr);
  *m.find("primary") = "down";
  CHECK(m.at("primary") == "down");
  CHECK_THROWS_AS(m.at("replica"), db::NotFoundError);
  CHECK_THROWS_WITH(m.at("replica"), Contains("'replica'"));
  m.clear();
  CHECK(m.empty());
}
