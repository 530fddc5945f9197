#pragma once
// Database URLs: scheme, credentials, host, path; and their redaction.

#include <appinfra/db/detail/conninfo_parse.hpp>
#include <appinfra/detail/decl.hpp>

#include <cstddef>
#include <optional>
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace appinfra::db {

/// A parsed database URL of the form scheme://[user[:password]@][host][/path][?query],
/// split as libpq splits it: the user info ends at the first '@' before the first
/// '/'. A PostgreSQL URL (postgresql:// or postgres://, in any case) or a libpq
/// key/value string (`host=h dbname=d password='...'`, no scheme) is also read
/// exactly as libpq 15 reads it (libpq()), and redacted from that reading. Value type.
class Url {
 public:
  Url() = default;

  /// Parses `text`. A text without "://" has an empty scheme; no text is rejected
  /// here (problem() says what libpq would reject or misread; backends decide).
  static APPINFRA_DECL Url parse(std::string_view text);

  [[nodiscard]] const std::string& text() const noexcept { return text_; }
  [[nodiscard]] const std::string& scheme() const noexcept { return scheme_; }
  /// The user info's user and password, as written (percent-encoded).
  [[nodiscard]] const std::string& user() const noexcept { return user_; }
  [[nodiscard]] const std::string& password() const noexcept { return password_; }
  [[nodiscard]] bool has_password() const noexcept { return has_password_; }
  /// host[:port][,host2[:port2]...], as written.
  [[nodiscard]] const std::string& host() const noexcept { return host_; }
  /// Everything after the first '/' following the authority, without the query.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const std::string& query() const noexcept { return query_; }

  /// libpq's reading of a PostgreSQL URL or key/value string; nullptr for other texts.
  [[nodiscard]] const detail::ConninfoParse* libpq() const noexcept { return libpq_ ? &*libpq_ : nullptr; }

  /// Why libpq would reject this text, or read it other than meant (an unencoded
  /// '@' or '/' in the password); empty when neither, and for texts not in libpq's
  /// forms. Never quotes a value.
  [[nodiscard]] APPINFRA_DECL std::string problem() const;

  /// The password libpq would send (the last password parameter, decoded), or the
  /// decoded user-info password of another scheme; empty when none.
  [[nodiscard]] APPINFRA_DECL std::string secret() const;

  /// Every secret of the text, decoded and as written (password and sslpassword
  /// values, all of them): what a message must never show.
  [[nodiscard]] APPINFRA_DECL std::vector<std::string> secrets() const;

  /// The URL with its passwords (wherever libpq would read one: the user info, a
  /// password= or sslpassword= parameter, a key/value pair) replaced by "***".
  /// A text libpq would reject or misread is redacted more widely (a URL with an
  /// '@' down to its scheme). Safe for logs, errors and statistics.
  /// A password also written elsewhere in the text (in a value libpq overrides
  /// later, say) is replaced there too, when it has at least 4 characters.
  [[nodiscard]] APPINFRA_DECL std::string redacted() const;

 private:
  [[nodiscard]] APPINFRA_DECL std::string redacted_structure() const;

 public:
  /// The same URL with another path (the database name, for PostgreSQL).
  [[nodiscard]] APPINFRA_DECL std::string with_path(std::string_view path) const;

  /// Replaces every password in a text by "***". A text that is a whole
  /// PostgreSQL URL or key/value string is redacted from libpq's reading of it
  /// (redacted()); any other is a free text: the user info of every URL in it (up
  /// to the last '@' before white space or a quote) and the values of password=...
  /// and sslpassword=... pairs, quoted or not, with spaces around the '=' or not,
  /// are hidden. That is a heuristic: where the URL is known, its Redactor
  /// (db/detail/redact.hpp) also removes the password itself.
  static APPINFRA_DECL std::string redact(std::string_view text);

 private:
  static APPINFRA_DECL std::string redact_free(std::string_view text);

  // For a text libpq would reject or misread, where the password is not known for
  // sure. A URL with an '@' or a password parameter shows its scheme only (where
  // the user info ends is just what is in doubt); one without shows its host and
  // database, but not what follows a ':' there (a password where the host is
  // missing) nor its query (a misspelt password parameter). A key/value string
  // shows the pairs libpq read before the first secret or the first it could not read.
  static APPINFRA_DECL std::string redact_conservatively(const std::string& text, const detail::ConninfoParse& r);

  static APPINFRA_DECL std::size_t find_ci(const std::string& hay, std::string_view needle, std::size_t from);

  std::string text_, scheme_, user_, password_, host_, path_, query_;
  bool has_password_ = false;
  std::optional<detail::ConninfoParse> libpq_;
};

}  // namespace appinfra::db

#ifndef APPINFRA_SEPARATE_COMPILATION
#include <appinfra/db/impl/url.ipp>
#endif
