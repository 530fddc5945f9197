#pragma once
// Removing known secrets wherever a text writes them: the one rule that
// Url::redacted(), Url::redact() on a free text and detail::Redactor share.

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
  void add(std::string secret) {
    const auto end = longest_first_.end();
    if (secret.size() < min_size || std::find(longest_first_.begin(), end, secret) != end) return;
    const auto shorter =
        std::find_if(longest_first_.begin(), end, [&](const auto& s) { return s.size() < secret.size(); });
    longest_first_.insert(shorter, std::move(secret));
  }

  [[nodiscard]] bool empty() const noexcept { return longest_first_.empty(); }

  /// Replaces every occurrence of each secret in `text` by "***".
  void remove_from(std::string& text) const {
    for (const auto& secret : longest_first_)
      for (std::size_t p = 0; (p = text.find(secret, p)) != std::string::npos; p += 3)
        text.replace(p, secret.size(), "***");
  }

 private:
  std::vector<std::string> longest_first_;
};

}  // namespace appinfra::db::detail
