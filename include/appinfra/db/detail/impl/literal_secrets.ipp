#pragma once
// The definitions of db/detail/literal_secrets.hpp (APPINFRA_DECL): included by it in header-only
// mode; compiled once into the library with APPINFRA_SEPARATE_COMPILATION.

#include <appinfra/db/detail/literal_secrets.hpp>

namespace appinfra::db::detail {

APPINFRA_DECL void LiteralSecrets::add(std::string secret) {
  const auto end = longest_first_.end();
  if (secret.size() < min_size || std::find(longest_first_.begin(), end, secret) != end) return;
  const auto shorter =
      std::find_if(longest_first_.begin(), end, [&](const auto& s) { return s.size() < secret.size(); });
  longest_first_.insert(shorter, std::move(secret));
}

APPINFRA_DECL void LiteralSecrets::remove_from(std::string& text) const {
  for (const auto& secret : longest_first_)
    for (std::size_t p = 0; (p = text.find(secret, p)) != std::string::npos; p += 3)
      text.replace(p, secret.size(), "***");
}

}  // namespace appinfra::db::detail
