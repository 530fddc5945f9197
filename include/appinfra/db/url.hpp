#pragma once
// Database URLs: scheme, credentials, host, path; and their redaction.

#include <cstddef>
#include <string>
#include <string_view>

namespace appinfra::db {

/// A parsed database URL of the form scheme://[user[:password]@][host][/path][?query].
/// Only the split is done here; each backend decides what the parts mean
/// (libpq, for instance, takes the whole text). Value type.
class Url {
 public:
  Url() = default;

  /// Parses `text`. A text without "://" has an empty scheme; no other text is rejected
  /// here (backends validate what they accept).
  static Url parse(std::string_view text) {
    Url u;
    u.text_ = std::string(text);
    const auto sep = text.find("://");
    if (sep == std::string_view::npos) return u;
    u.scheme_ = std::string(text.substr(0, sep));
    for (auto& c : u.scheme_) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    std::string_view rest = text.substr(sep + 3);
    // The credentials end at the last '@': a password may hold '@', '/', '?', '#'
    // (libpq takes them), so they cannot end at the first of those.
    const auto at = credentials_end(rest);
    if (at != std::string_view::npos) {
      const auto cred = rest.substr(0, at);
      const auto colon = cred.find(':');
      u.user_ = std::string(cred.substr(0, colon));
      if (colon != std::string_view::npos) {
        u.password_ = std::string(cred.substr(colon + 1));
        u.has_password_ = true;
      }
      rest = rest.substr(at + 1);
    }
    const auto q = rest.find('?');
    if (q != std::string_view::npos) {
      u.query_ = std::string(rest.substr(q + 1));
      rest = rest.substr(0, q);
    }
    const auto slash = rest.find('/');
    u.host_ = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) u.path_ = std::string(rest.substr(slash + 1));
    return u;
  }

  [[nodiscard]] const std::string& text() const noexcept { return text_; }
  [[nodiscard]] const std::string& scheme() const noexcept { return scheme_; }
  [[nodiscard]] const std::string& user() const noexcept { return user_; }
  [[nodiscard]] const std::string& password() const noexcept { return password_; }
  [[nodiscard]] bool has_password() const noexcept { return has_password_; }
  /// host[:port][,host2[:port2]...], as written.
  [[nodiscard]] const std::string& host() const noexcept { return host_; }
  /// Everything after the first '/' following the authority, without the query.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const std::string& query() const noexcept { return query_; }

  /// The URL with its password (in the authority or a password= parameter)
  /// replaced by "***". Safe for logs, errors and statistics.
  [[nodiscard]] std::string redacted() const { return redact(text_); }

  /// The same URL with another path (the database name, for PostgreSQL).
  [[nodiscard]] std::string with_path(std::string_view path) const {
    std::string out = scheme_ + "://";
    if (!user_.empty() || has_password_) {
      out += user_;
      if (has_password_) out += ":" + password_;
      out += "@";
    }
    out += host_;
    out += "/";
    out += path;
    if (!query_.empty()) out += "?" + query_;
    return out;
  }

  /// Replaces every password in `text` (URL credentials, password=... pairs) by "***".
  static std::string redact(std::string_view text) {
    std::string out(text);
    // scheme://user:secret@host: the secret runs from the first ':' after "://" to
    // the last '@' before the end of the url (white space or a quote).
    for (std::size_t pos = 0; (pos = out.find("://", pos)) != std::string::npos;) {
      const std::size_t start = pos + 3;
      std::size_t end = out.find_first_of(" \t\n'\"", start);
      if (end == std::string::npos) end = out.size();
      const auto at = credentials_end(std::string_view(out).substr(start, end - start));
      if (at != std::string_view::npos) {
        const std::size_t colon = out.find(':', start);
        if (colon != std::string::npos && colon < start + at) out.replace(colon + 1, start + at - colon - 1, "***");
      }
      pos = start;
    }
    // password=secret in a query string or a libpq key/value string
    for (std::size_t pos = 0; (pos = find_ci(out, "password=", pos)) != std::string::npos;) {
      const std::size_t start = pos + 9;
      const std::size_t end = out.find_first_of("& \t\n'\"", start);
      out.replace(start, (end == std::string::npos ? out.size() : end) - start, "***");
      pos = start + 3;
    }
    return out;
  }

 private:
  // Where the credentials of "user:secret@host/path" end: the last '@' (a path
  // with '@' in it is rare, and treating it as a password only hides more).
  static std::size_t credentials_end(std::string_view rest) noexcept { return rest.rfind('@'); }

  static std::size_t find_ci(const std::string& hay, std::string_view needle, std::size_t from) {
    for (std::size_t i = from; i + needle.size() <= hay.size(); ++i) {
      std::size_t k = 0;
      while (k < needle.size() &&
             static_cast<char>(hay[i + k] | 0x20) == static_cast<char>(needle[k] | 0x20))
        ++k;
      if (k == needle.size()) return i;
    }
    return std::string::npos;
  }

  std::string text_, scheme_, user_, password_, host_, path_, query_;
  bool has_password_ = false;
};

}  // namespace appinfra::db
