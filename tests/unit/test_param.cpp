// db::Param and db::to_param: what the backends compiled into the library are given.

#include <appinfra/db/param.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using appinfra::db::Param;
using appinfra::db::Params;
using appinfra::db::to_param;
using Kind = Param::Kind;

TEST_CASE("to_param gives each argument the kind its type has") {
  CHECK(to_param(nullptr).kind() == Kind::null);
  CHECK(to_param(std::nullopt).kind() == Kind::null);
  CHECK(to_param(std::optional<int>()).kind() == Kind::null);
  CHECK(to_param(static_cast<const char*>(nullptr)).kind() == Kind::null);
  CHECK(to_param(true).kind() == Kind::boolean);
  CHECK(to_param(true).boolean());
  CHECK(to_param(short{-3}).integer() == -3);
  CHECK(to_param(std::numeric_limits<std::int64_t>::min()).integer() == std::numeric_limits<std::int64_t>::min());
  CHECK(to_param(std::numeric_limits<std::uint64_t>::max()).kind() == Kind::unsigned_integer);
  CHECK(to_param(std::numeric_limits<std::uint64_t>::max()).unsigned_integer() ==
        std::numeric_limits<std::uint64_t>::max());
  CHECK(to_param(2.5).kind() == Kind::real);
  CHECK(to_param(2.5).real() == 2.5);
  CHECK(to_param(0.1f).kind() == Kind::real32);
  CHECK(to_param(0.1f).real32() == 0.1f);
  CHECK(to_param(std::optional<double>(1.5)).real() == 1.5);
}

TEST_CASE("a text parameter refers to the caller's characters, embedded NULs included") {
  const std::string s("a\0b", 3);
  const Param p = to_param(s);
  CHECK(p.kind() == Kind::text);
  CHECK(p.text().data() == s.data());
  CHECK(p.text().size() == 3);
  CHECK(to_param("literal").text() == "literal");
  CHECK(to_param(std::string_view("view")).text() == "view");
  const char* c = "pointer";
  CHECK(to_param(c).text() == "pointer");
}

TEST_CASE("param_count and for_each_param see a Params' elements one by one") {
  using appinfra::db::detail::for_each_param;
  using appinfra::db::detail::param_count;
  const std::vector<Param> values{to_param(1), to_param("x"), Param()};
  CHECK(param_count() == 0);
  CHECK(param_count(1, "x") == 2);
  CHECK(param_count(Params(values)) == 3);
  CHECK(param_count(Params()) == 0);
  std::vector<Kind> kinds;
  for_each_param([&](const auto& p) { kinds.push_back(to_param(p).kind()); }, Params(values));
  CHECK(kinds == std::vector<Kind>{Kind::integer, Kind::text, Kind::null});
}

TEST_CASE("with_params converts the arguments, and passes a Params on as it is") {
  using appinfra::db::detail::with_params;
  const auto kinds = [](Params p) {
    std::vector<Kind> out;
    for (const Param& x : p) out.push_back(x.kind());
    return out;
  };
  CHECK(with_params(kinds).empty());
  CHECK(with_params(kinds, 1, 2.0, "t", nullptr) == std::vector<Kind>{Kind::integer, Kind::real, Kind::text, Kind::null});
  const std::vector<Param> values{to_param(true)};
  CHECK(with_params([&](Params p) { return p.data() == values.data(); }, Params(values)));
}

TEST_CASE("a Param is made from any value to_param takes, as to_param makes it") {
  const std::string s = "kept";
  const std::vector<Param> values{42, 7u, true, 2.5, "x", s, nullptr, std::optional<int>()};
  std::vector<Kind> kinds;
  for (const Param& p : values) kinds.push_back(p.kind());
  CHECK(kinds == std::vector<Kind>{Kind::integer, Kind::unsigned_integer, Kind::boolean, Kind::real, Kind::text,
                                   Kind::text, Kind::null, Kind::null});
  CHECK(values[5].text().data() == s.data());
  static_assert(Param("abc").kind() == Kind::text, "a string literal is a text, not a bool");
  static_assert(!std::is_constructible_v<Param, std::string&&>, "a temporary string's characters would be gone");
}
