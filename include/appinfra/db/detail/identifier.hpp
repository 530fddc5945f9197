#pragma once
// The names appinfra puts into SQL itself (schemas, extensions, prepared
// statements): checked against one pattern, so that quoting them is safe.

#include <string_view>

namespace appinfra::db::detail {

/// [a-z][a-z0-9_]* of at most 63 characters; with `dash`, '-' too (uuid-ossp).
constexpr bool is_identifier(std::string_view name, bool dash = false) noexcept {
  if (name.empty() || name.size() > 63 || name[0] < 'a' || name[0] > 'z') return false;
  for (char ch : name)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || (dash && ch == '-'))) return false;
  return true;
}

}  // namespace appinfra::db::detail
