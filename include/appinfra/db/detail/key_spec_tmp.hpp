#pragma once
// TEMPORARY stand-in for the configuration's key declarations (replaced at merge).
#include <string_view>
namespace appinfra::db::detail {
enum class Kind { boolean, integer, number, duration, text, choice, list };
struct KeySpec {
  std::string_view name;
  Kind kind;
  double min = 0;
  bool min_inclusive = true;
  double max = 1e6;
  std::string_view choices = {};
};
inline constexpr KeySpec key_specs[] = {
    {"url", Kind::text},
    {"readonly", Kind::boolean},
    {"create_db", Kind::boolean},
    {"pool_size", Kind::integer, 1},
    {"max_overflow", Kind::integer, 0},
    {"pool_timeout", Kind::duration, 0, false, 1e7},
    {"pool_recycle", Kind::duration, -1, true, 1e7},
    {"pool_pre_ping", Kind::boolean},
    {"pool_reuse", Kind::choice, 0, true, 0, "lifo|fifo"},
    {"pool_recycle_jitter", Kind::number, 0, true, 1},
    {"min_idle", Kind::integer, 0},
    {"query_lg_level", Kind::choice, 0, true, 0, "trace|debug|info|warning|error|critical|off"},
    {"statement_timeout", Kind::duration, 0, false, 1e7},
};
constexpr const KeySpec* find_key_spec(std::string_view name) noexcept {
  for (const auto& k : key_specs)
    if (k.name == name) return &k;
  return nullptr;
}
}  // namespace appinfra::db::detail
