#pragma once
// Removing known secrets wherever a text writes them: the one rule that
// Url::redacted(), Url::redact() on a free text and detail::Redactor share.

#include <appinfra/detail/decl.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace appinfra::db::detail {

/// Literal secrets (passwords, decoded and as written) to replace by "***" in any
/// text. A secret shorter than `min_size` is not kept: replacing a 1- to
/// 3-character text everywhere would garble the text and, by the gaps, show the
/// password anyway; the structural redaction covers those. The longest secret is
/// replaced first, so that a shorter one inside it does not leave the rest of it
/// (ties in the order added). Value type; const members may be called from
/// several threads at once.
class LiteralSecrets {
 public:
  static constexpr std::size_t min_size = 4;

  /// Keeps `secret` unless it is too short or already kept.
  APPINFRA_DECL void add(std::string secret);

  [[nodiscard]] bool empty() const noexcept { return longest_first_.empty(); }

  /// Replaces every occurrence of each secret in `text` by "***".
  APPINFRA_DECL void remove_from(std::string& text) const;

 private:
  std::vector<std::string> longest_first_;
};

}  // namespace appinfra::db::detail

#ifndef APPINFRA_SEPARATE_COMPILATION
#include <appinfra/db/detail/impl/literal_secrets.ipp>
#endif
