#pragma once
// The definitions of db/detail/conninfo_parse.hpp (APPINFRA_DECL): included by it
// in header-only mode; compiled once into the library with
// APPINFRA_SEPARATE_COMPILATION.

#include <appinfra/db/detail/conninfo_parse.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace appinfra::db::detail {

namespace conninfo_detail {

inline int hex(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// conninfo_uri_decode: %XX escapes; a bad one or %00 is an error.
APPINFRA_DECL bool uri_decode(std::string_view s, std::string& out, std::string& error, std::string_view what) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    const int hi = i + 1 < s.size() ? hex(s[i + 1]) : -1;
    const int lo = hi >= 0 && i + 2 < s.size() ? hex(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      error = "invalid percent-encoded token in the " + std::string(what) + " (write '%' as %25)";
      return false;
    }
    const int c = hi * 16 + lo;
    if (c == 0) {
      error = "forbidden value %00 in the " + std::string(what);
      return false;
    }
    out += static_cast<char>(c);
    i += 2;
  }
  return true;
}

inline bool known(std::string_view key) noexcept {
  for (auto k : libpq_keywords)
    if (k == key) return true;
  return false;
}

// conninfo_storeval: requiressl=1|other becomes sslmode=require|prefer.
inline void store(ConninfoParse& r, std::string key, std::string value, std::size_t begin, std::size_t end) {
  if (key == "requiressl") {
    value = !value.empty() && value[0] == '1' ? "require" : "prefer";
    key = "sslmode";
  }
  r.params.push_back({std::move(key), std::move(value), begin, end});
}

// What a key is called in an error message: a known keyword as written; anything
// else may be a mistyped secret, so not shown.
inline std::string shown_key(std::string_view key) {
  return known(key) || key == "requiressl" || key == "ssl" ? "'" + std::string(key) + "'" : "(not shown)";
}

// The steps of libpq's conninfo_uri_parse_options, each from position `p` of `t`;
// each returns false, with r.error set, where libpq's parse fails.

// [user[:password]@]: returns where the host list starts.
inline bool parse_user_info(std::string_view t, ConninfoParse& r, std::size_t start, std::size_t& p) {
  p = start;
  while (p < t.size() && t[p] != '@' && t[p] != '/') ++p;
  if (p >= t.size() || t[p] != '@') {
    p = start;
    return true;
  }
  const std::size_t at = p;
  std::size_t e = start;
  while (t[e] != ':' && t[e] != '@') ++e;
  std::string decoded;
  if (e > start) {
    if (!uri_decode(t.substr(start, e - start), decoded, r.error, "user name")) return false;
    store(r, "user", decoded, start, e);
  }
  if (t[e] == ':' && at > e + 1) {
    if (!uri_decode(t.substr(e + 1, at - e - 1), decoded, r.error, "password")) return false;
    store(r, "password", decoded, e + 1, at);
  }
  p = at + 1;
  return true;
}

// One host of the list, plain or [IPv6], appended to `hosts`; p moves past it.
inline bool parse_one_host(std::string_view t, ConninfoParse& r, std::size_t& p, std::string& hosts) {
  std::size_t h = p, h_end;
  if (p < t.size() && t[p] == '[') {
    h = ++p;
    while (p < t.size() && t[p] != ']') ++p;
    if (p >= t.size()) {
      r.error = "end of string reached when looking for the matching ']' of an IPv6 host address";
      return false;
    }
    if (p == h) {
      r.error = "an IPv6 host address may not be empty";
      return false;
    }
    h_end = p++;
    if (p < t.size() && t[p] != ':' && t[p] != '/' && t[p] != '?' && t[p] != ',') {
      r.error = "unexpected character after an IPv6 host address (expected ':' or '/')";
      return false;
    }
  } else {
    while (p < t.size() && t[p] != ':' && t[p] != '/' && t[p] != '?' && t[p] != ',') ++p;
    h_end = p;
  }
  hosts.append(t.substr(h, h_end - h));
  return true;
}

// host[:port][,host[:port]...]: `prev` is the character that ended it ('\0' at the end).
inline bool parse_hosts(std::string_view t, ConninfoParse& r, std::size_t& p, char& prev) {
  std::string hosts, ports;
  const std::size_t hosts_begin = p;
  for (;;) {
    if (!parse_one_host(t, r, p, hosts)) return false;
    prev = p < t.size() ? t[p] : '\0';
    if (prev == ':') {
      const std::size_t port = ++p;
      while (p < t.size() && t[p] != '/' && t[p] != '?' && t[p] != ',') ++p;
      prev = p < t.size() ? t[p] : '\0';
      ports.append(t.substr(port, p - port));
    }
    if (prev != ',') break;
    ++p;
    hosts += ',';
    ports += ',';
  }
  std::string decoded;
  if (!hosts.empty()) {
    if (!uri_decode(hosts, decoded, r.error, "host")) return false;
    store(r, "host", decoded, hosts_begin, p);
  }
  if (!ports.empty()) {
    if (!uri_decode(ports, decoded, r.error, "port")) return false;
    store(r, "port", decoded, hosts_begin, p);
  }
  return true;
}

// /dbname, up to the query.
inline bool parse_dbname(std::string_view t, ConninfoParse& r, std::size_t& p, char& prev) {
  const std::size_t db = ++p;
  while (p < t.size() && t[p] != '?') ++p;
  prev = p < t.size() ? t[p] : '\0';
  if (p == db) return true;
  std::string decoded;
  if (!uri_decode(t.substr(db, p - db), decoded, r.error, "database name")) return false;
  store(r, "dbname", decoded, db, p);
  return true;
}

// One key=value of the query (conninfo_uri_parse_params); p moves past its '&'.
inline bool parse_query_param(std::string_view t, ConninfoParse& r, std::size_t& p) {
  const std::size_t key_begin = p;
  std::size_t eq = std::string_view::npos;
  for (;; ++p) {
    if (p < t.size() && t[p] == '=') {
      if (eq != std::string_view::npos) {
        r.error = "extra key/value separator '=' in a URI query parameter (write '=' in a value as %3D)";
        return false;
      }
      eq = p;
    } else if (p >= t.size() || t[p] == '&') {
      break;
    }
  }
  const std::size_t value_end = p;
  if (p < t.size()) ++p;  // past '&'
  if (eq == std::string_view::npos) {
    r.error = "missing key/value separator '=' in a URI query parameter";
    return false;
  }
  std::string key, value;
  if (!uri_decode(t.substr(key_begin, eq - key_begin), key, r.error, "name of a URI query parameter")) return false;
  const bool secret = is_secret_keyword(key) || !known(key);
  if (!uri_decode(t.substr(eq + 1, value_end - eq - 1), value, r.error,
                  secret ? "value of a URI query parameter" : "value of URI query parameter '" + key + "'"))
    return false;
  if (key == "ssl" && value == "true") {
    key = "sslmode";
    value = "require";
  }
  if (!known(key) && key != "requiressl") {
    r.error = "invalid URI query parameter " + shown_key(key);
    return false;
  }
  store(r, std::move(key), std::move(value), eq + 1, value_end);
  return true;
}

inline void parse_uri(std::string_view t, ConninfoParse& r) {
  r.uri = true;
  r.authority = uri_prefix_length(t);
  std::size_t p = 0;
  char prev = '\0';
  if (!parse_user_info(t, r, r.authority, p)) return;
  r.netloc = p;
  if (!parse_hosts(t, r, p, prev)) return;
  if (prev != '\0' && prev != '?' && !parse_dbname(t, r, p, prev)) return;
  if (prev == '\0') return;
  r.query = p;
  ++p;
  while (p < t.size())
    if (!parse_query_param(t, r, p)) return;
}

// isspace() in the C locale.
constexpr bool space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

inline void parse_key_value(std::string_view t, ConninfoParse& r) {
  std::size_t p = 0;
  while (p < t.size()) {
    if (space(t[p])) {
      ++p;
      continue;
    }
    const std::size_t name = p;
    while (p < t.size() && t[p] != '=' && !space(t[p])) ++p;
    const std::size_t name_end = p;
    while (p < t.size() && space(t[p])) ++p;
    const std::string key(t.substr(name, name_end - name));
    if (p >= t.size() || t[p] != '=') {
      r.error = "missing '=' after " + shown_key(key) + " in a key/value connection string";
      return;
    }
    ++p;
    while (p < t.size() && space(t[p])) ++p;
    std::string value;
    std::size_t begin = p, end;
    if (p >= t.size() || t[p] != '\'') {
      while (p < t.size() && !space(t[p])) {
        if (t[p] == '\\') {
          ++p;
          if (p < t.size()) value += t[p++];
        } else {
          value += t[p++];
        }
      }
      end = p;
    } else {
      begin = ++p;
      for (;;) {
        if (p >= t.size()) {
          r.error = "unterminated quoted string in a key/value connection string";
          return;
        }
        if (t[p] == '\\') {
          ++p;
          if (p < t.size()) value += t[p++];
          continue;
        }
        if (t[p] == '\'') break;
        value += t[p++];
      }
      end = p++;
    }
    if (!known(key) && key != "requiressl") {
      r.error = "invalid connection option " + shown_key(key);
      return;
    }
    store(r, key, std::move(value), begin, end);
  }
}

}  // namespace conninfo_detail

/// Reads `text` as libpq 15 would (PQconninfoParse), but takes the URI prefix in
/// any case. A NUL is an error (libpq would end the text there, silently).
APPINFRA_DECL ConninfoParse parse_conninfo(std::string_view text) {
  ConninfoParse r;
  if (text.find('\0') != std::string_view::npos) {
    r.uri = uri_prefix_length(text) != 0;
    r.error = "contains a NUL character";
    return r;
  }
  if (uri_prefix_length(text) != 0) conninfo_detail::parse_uri(text, r);
  else conninfo_detail::parse_key_value(text, r);
  return r;
}

/// Why libpq would read `r` differently from what its author meant, though it
/// parses: an unencoded '@' or '/' in the user name or password moves the end of
/// the user info, and what follows becomes the host, the port or the database
/// name (where libpq's own messages would quote it). Empty when nothing is amiss.
APPINFRA_DECL std::string misread(std::string_view text, const ConninfoParse& r) {
  if (!r.uri || !r.ok()) return {};
  const std::size_t end = r.query == std::string_view::npos ? text.size() : r.query;
  const std::string advice = ": percent-encode '@' as %40 and '/' as %2F in the user name and the password";
  if (text.substr(r.netloc, end - r.netloc).find('@') != std::string_view::npos)
    return "an '@' after the user info" + advice;
  if (const auto* port = r.find("port"))
    for (char c : port->value)
      if (c != ',' && (c < '0' || c > '9')) return "a port that is not a number" + advice;
  if (r.netloc > r.authority) {
    const std::string_view user = text.substr(r.authority, r.netloc - 1 - r.authority);
    if (user.substr(0, user.find(':')).find('?') != std::string_view::npos)
      return "a '?' in the user name" + advice + ", and '?' as %3F";
  }
  return {};
}

}  // namespace appinfra::db::detail
