#include <appinfra/db/result.hpp>

#include <catch2/catch.hpp>

using namespace appinfra;

TEST_CASE("a result gives rows by index and fields by index or name, converted on request") {
  db::Result r({"id", "name", "score"},
               {std::string("1"), std::string("ann"), std::string("2.5"), std::string("2"), std::nullopt,
                std::nullopt},
               0);
  REQUIRE(r.size() == 2);
  CHECK(r[0]["id"].as<int>() == 1);
  CHECK(r[0][1].as<std::string>() == "ann");
  CHECK(r[0]["score"].as<double>() == 2.5);
  CHECK(r[1]["name"].is_null());
  CHECK(r[1]["name"].as<std::optional<std::string>>() == std::nullopt);
  CHECK(r.scalar<long>() == 1);
  int n = 0;
  for (auto row : r) n += row["id"].as<int>();
  CHECK(n == 3);
}

TEST_CASE("a field that does not convert says which column and value") {
  db::Result r({"id"}, {std::string("abc")}, 0);
  CHECK_THROWS_WITH(r[0][0].as<int>(), Catch::Matchers::Contains("'id'") && Catch::Matchers::Contains("'abc'"));
  CHECK_THROWS_AS(r[0]["nope"], db::Error);
  db::Result nulls({"x"}, {std::nullopt}, 0);
  CHECK_THROWS_WITH(nulls[0][0].as<int>(), Catch::Matchers::Contains("NULL"));
}

TEST_CASE("booleans read PostgreSQL's t/f and SQLite's 1/0") {
  db::Result r({"a", "b", "c", "d"}, {std::string("t"), std::string("f"), std::string("1"), std::string("0")}, 0);
  CHECK(r[0][0].as<bool>());
  CHECK_FALSE(r[0][1].as<bool>());
  CHECK(r[0][2].as<bool>());
  CHECK_FALSE(r[0][3].as<bool>());
}

TEST_CASE("scalar() on an empty result is an error") {
  CHECK_THROWS_AS(db::Result().scalar<int>(), db::Error);
}
