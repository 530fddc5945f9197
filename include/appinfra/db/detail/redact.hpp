#pragma once
// Removing one database's passwords from any text a message or a log line shows.

#include <appinfra/db/url.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace appinfra::db::detail {

/// Removes a database's passwords from a text (a library's or the server's message,
/// a statement): its whole url (replaced by the redacted url), URL credentials and
/// password=... pairs (Url::redact), and every password of the url itself, decoded
/// and as written, when it has at least `min_literal` characters. A shorter one is
/// left to the structural redaction: replacing a 1- to 3-character text everywhere
/// would garble the message and, by the gaps, show the password anyway.
/// Value type; immutable, so shared by threads.
class Redactor {
 public:
  static constexpr std::size_t min_literal = 4;

  Redactor() = default;
  explicit Redactor(const Url& url) : url_text_(url.text()), url_redacted_(url.redacted()) {
    for (auto& s : url.secrets()) add(std::move(s));
  }
  /// A redactor of one literal secret (no url).
  static Redactor of_password(std::string password) {
    Redactor r;
    r.add(std::move(password));
    return r;
  }

  [[nodiscard]] std::string operator()(std::string_view text) const {
    std::string out(text);
    if (!url_text_.empty())
      for (std::size_t p = 0; (p = out.find(url_text_, p)) != std::string::npos; p += url_redacted_.size())
        out.replace(p, url_text_.size(), url_redacted_);
    out = Url::redact(out);
    for (const auto& secret : literals_)
      for (std::size_t p = 0; (p = out.find(secret, p)) != std::string::npos; p += 3) out.replace(p, secret.size(), "***");
    return out;
  }

  [[nodiscard]] bool empty() const noexcept { return url_text_.empty() && literals_.empty(); }

 private:
  void add(std::string s) {
    if (s.size() < min_literal || std::find(literals_.begin(), literals_.end(), s) != literals_.end()) return;
    literals_.push_back(std::move(s));
    // The longest first: a shorter secret inside a longer one must not leave the rest.
    std::sort(literals_.begin(), literals_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  }

  std::string url_text_, url_redacted_;
  std::vector<std::string> literals_;
};

}  // namespace appinfra::db::detail
