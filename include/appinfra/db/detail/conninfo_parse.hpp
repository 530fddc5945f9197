#pragma once
// libpq 15's reading of a connection string, without libpq: URIs
// (postgresql:// and postgres://) and key/value strings (`host=h password='x'`),
// rule for rule as fe-connect.c's conninfo_uri_parse_options and conninfo_parse,
// with where each value is written in the text, so that a password can be redacted
// wherever and however it is spelled. Tests hold it against PQconninfoParse.

#include <appinfra/detail/decl.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace appinfra::db::detail {

/// libpq 15's connection keywords (PQconndefaults()).
inline constexpr std::array<std::string_view, 36> libpq_keywords = {
    "service",         "user",           "password",          "passfile",         "channel_binding",
    "connect_timeout", "dbname",         "host",              "hostaddr",         "port",
    "client_encoding", "options",        "application_name",  "fallback_application_name",
    "keepalives",      "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
    "sslmode",         "sslcompression", "sslcert",           "sslkey",           "sslpassword",
    "sslrootcert",     "sslcrl",         "sslcrldir",         "sslsni",           "requirepeer",
    "ssl_min_protocol_version", "ssl_max_protocol_version", "gssencmode", "krbsrvname", "gsslib",
    "replication",     "target_session_attrs"};

/// Keywords whose values are secrets: never shown.
constexpr bool is_secret_keyword(std::string_view key) noexcept { return key == "password" || key == "sslpassword"; }

/// One value as libpq stores it, and where it is written in the text: [begin, end)
/// of its raw spelling (percent-encoded, or inside the quotes of a key/value string).
struct ConninfoParam {
  std::string key;
  std::string value;
  std::size_t begin = 0, end = 0;
};

/// The result of parse_conninfo(). Parameters in the order written; a later one
/// overrides an earlier one of the same key, as in libpq.
struct ConninfoParse {
  bool uri = false;                   ///< a URI (postgresql:// or postgres://, any case) rather than key/value
  std::vector<ConninfoParam> params;
  std::string error;                  ///< why libpq would reject the text; empty when it would not. Never a value.
  /// Where in the text the parts of a URI are: after the scheme, after the user
  /// info ('@'), the start of the query (npos without one).
  std::size_t authority = 0, netloc = 0, query = std::string_view::npos;

  [[nodiscard]] bool ok() const noexcept { return error.empty(); }
  /// The value libpq would use for `key`, or nullptr.
  [[nodiscard]] const ConninfoParam* find(std::string_view key) const noexcept {
    const ConninfoParam* found = nullptr;
    for (const auto& p : params)
      if (p.key == key) found = &p;
    return found;
  }
};

/// The length of a URI prefix of `text` (as libpq's uri_prefix_length, but in any
/// case: POSTGRESQL:// is a URI to us, and the text handed to libpq is rebuilt).
inline std::size_t uri_prefix_length(std::string_view text) noexcept {
  const auto starts = [&](std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      char c = text[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != prefix[i]) return false;
    }
    return true;
  };
  if (starts("postgresql://")) return 13;
  if (starts("postgres://")) return 11;
  return 0;
}

namespace conninfo_detail {
/// Decodes libpq's percent-encoding of `s` into `out`; false, with `error` naming
/// `what`, for a bad escape.
APPINFRA_DECL bool uri_decode(std::string_view s, std::string& out, std::string& error, std::string_view what);
}  // namespace conninfo_detail

/// Reads `text` as libpq 15 would (PQconninfoParse), but takes the URI prefix in
/// any case. A NUL is an error (libpq would end the text there, silently).
APPINFRA_DECL ConninfoParse parse_conninfo(std::string_view text);

/// Why libpq would read `r` differently from what its author meant, though it
/// parses: an unencoded '@' or '/' in the user name or password moves the end of
/// the user info, and what follows becomes the host, the port or the database
/// name (where libpq's own messages would quote it). Empty when nothing is amiss.
APPINFRA_DECL std::string misread(std::string_view text, const ConninfoParse& r);

}  // namespace appinfra::db::detail

#ifndef APPINFRA_SEPARATE_COMPILATION
#include <appinfra/db/detail/impl/conninfo_parse.ipp>
#endif
