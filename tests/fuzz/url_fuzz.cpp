// Fuzz target: db::Url against libpq's own parser.
//
// The input is a connection string. Checked:
// - Url::parse, Url::redact and redacted() neither crash nor hang, whatever the text;
// - for a postgresql:// or postgres:// URL that libpq's PQconninfoParse and Url::parse
//   both accept, the two agree on host, port, dbname, user and password;
// - the password libpq would send (4 characters or more) is in neither
//   Url::redact(text) nor Url::parse(text).redacted(), for URLs and key/value
//   strings alike; skipped when the password also appears elsewhere in the text
//   (say, as the host), where finding it in the output proves nothing.

#include <appinfra/db/url.hpp>

#include <libpq-fe.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "fuzz_check.hpp"

using appinfra::db::Url;
using appinfra_fuzz::contains;
using appinfra_fuzz::printable;

namespace {

using Options = std::map<std::string, std::string>;

/// libpq's parse (keyword -> value for the options the text sets), or nullopt when
/// libpq rejects the text.
std::optional<Options> libpq_parse(const std::string& text) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(text.c_str(), &err);
  if (err != nullptr) PQfreemem(err);
  if (opts == nullptr) return std::nullopt;
  Options out;
  for (const PQconninfoOption* o = opts; o->keyword != nullptr; ++o)
    if (o->val != nullptr) out[o->keyword] = o->val;
  PQconninfoFree(opts);
  return out;
}

std::string get(const Options& o, const char* key) {
  const auto it = o.find(key);
  return it == o.end() ? std::string() : it->second;
}

// --- Our fields, whatever the shape of Url's accessors --------------------------
// Today's Url keeps "host[:port][,host2[:port2]...]" as written in host() and the
// database in path(), undecoded; a Url that parses like libpq may offer port() and
// dbname() (as a text, a number or an optional). Both are read the same way here.

template <class T>
std::string as_text(const T& v) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return std::string(std::string_view(v));
  } else if constexpr (std::is_integral_v<T>) {
    return v == 0 ? std::string() : std::to_string(v);
  } else {
    static_assert(requires { v.has_value(); *v; }, "Url accessor of an unexpected type: extend as_text");
    return v.has_value() ? as_text(*v) : std::string();
  }
}

/// libpq's split of "h1:p1,h2,[::1]:p3" into "h1,h2,::1" and "p1,,p3".
std::pair<std::string, std::string> split_host_port(std::string_view netloc) {
  std::string hosts, ports;
  bool any_port = false;
  for (std::size_t start = 0;;) {
    const std::size_t end = std::min(netloc.find(',', start), netloc.size());
    std::string_view one = netloc.substr(start, end - start);
    std::string_view host = one, port;
    if (!one.empty() && one[0] == '[') {
      const auto close = one.find(']');
      host = one.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
      if (close != std::string_view::npos && close + 1 < one.size() && one[close + 1] == ':') {
        port = one.substr(close + 2);
        any_port = true;
      }
    } else if (const auto colon = one.find(':'); colon != std::string_view::npos) {
      host = one.substr(0, colon);
      port = one.substr(colon + 1);
      any_port = true;
    }
    hosts += host;
    ports += port;
    if (end == netloc.size()) break;
    hosts += ',';
    ports += ',';
    start = end + 1;
  }
  if (!any_port) ports.clear();
  return {hosts, ports};
}

template <class U>
std::string host_of(const U& u) {
  if constexpr (requires { u.port(); }) return as_text(u.host());
  else return split_host_port(u.host()).first;
}
template <class U>
std::string port_of(const U& u) {
  if constexpr (requires { u.port(); }) return as_text(u.port());
  else return split_host_port(u.host()).second;
}
template <class U>
std::string dbname_of(const U& u) {
  if constexpr (requires { u.dbname(); }) return as_text(u.dbname());
  else if constexpr (requires { u.database(); }) return as_text(u.database());
  else return as_text(u.path());
}

// --- Where a URL spells its password (libpq's grammar, fe-connect.c) -------------

std::size_t uri_prefix_length(std::string_view text) {
  for (std::string_view p : {"postgresql://", "postgres://"})
    if (text.substr(0, p.size()) == p) return p.size();
  return 0;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Percent-decodes what can be decoded and keeps the rest as written.
std::string lenient_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// The spans (begin, end) of the password in the user info and of every
/// password= parameter, in text order: libpq ends the user info at the first '@'
/// before any '/', the password at that '@', and takes the query after the
/// first '?' that follows.
std::vector<std::pair<std::size_t, std::size_t>> uri_password_spans(std::string_view text, std::size_t prefix) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  std::size_t netloc = prefix;
  const std::size_t at = text.find_first_of("@/", prefix);
  if (at != std::string_view::npos && text[at] == '@') {
    const std::size_t colon = text.find(':', prefix);
    if (colon < at) spans.emplace_back(colon + 1, at);
    netloc = at + 1;
  }
  const std::size_t q = text.find('?', netloc);
  if (q == std::string_view::npos) return spans;
  for (std::size_t start = q + 1; start <= text.size();) {
    const std::size_t end = std::min(text.find('&', start), text.size());
    const std::size_t eq = text.find('=', start);
    if (eq < end && lenient_decode(text.substr(start, eq - start)) == "password") spans.emplace_back(eq + 1, end);
    start = end + 1;
  }
  return spans;
}

/// Every keyword libpq knows, set or not.
const std::vector<std::string>& keywords() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> out;
    PQconninfoOption* opts = PQconndefaults();
    for (const PQconninfoOption* o = opts; o != nullptr && o->keyword != nullptr; ++o) out.emplace_back(o->keyword);
    PQconninfoFree(opts);
    return out;
  }();
  return all;
}

/// The password libpq reads from `text`, when it can be told that its occurrence
/// in a redacted form is a leak: with the password spellings blanked out, the
/// text must not contain it (raw or decoded).
std::optional<std::string> checkable_password(const std::string& text, const Options& parsed) {
  const auto it = parsed.find("password");
  if (it == parsed.end()) return std::nullopt;
  const std::string& pw = it->second;
  if (pw.size() < 4 || contains(pw, "*")) return std::nullopt;  // "***" is what redaction writes
  if (const std::size_t prefix = uri_prefix_length(text); prefix != 0) {
    const auto spans = uri_password_spans(text, prefix);
    if (spans.empty()) return std::nullopt;
    const auto& last = spans.back();  // libpq keeps the last value it reads
    if (lenient_decode(std::string_view(text).substr(last.first, last.second - last.first)) != pw) return std::nullopt;
    std::string blind = text;
    for (auto s = spans.rbegin(); s != spans.rend(); ++s) blind.replace(s->first, s->second - s->first, "***");
    if (contains(blind, pw) || contains(lenient_decode(blind), pw)) return std::nullopt;
    return pw;
  }
  // key = value pairs: a password free of white space, '=', quotes and backslashes
  // lies inside one key or one value as written; keys are libpq's keywords.
  for (char c : pw)
    if (c == ' ' || (c >= '\t' && c <= '\r') || c == '=' || c == '\'' || c == '\\') return std::nullopt;
  for (const auto& [key, value] : parsed)
    if (contains(key, pw) || (key != "password" && contains(value, pw))) return std::nullopt;
  for (const auto& keyword : keywords())
    if (contains(keyword, pw)) return std::nullopt;
  return pw;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  std::optional<Url> ours;
  try {
    ours = Url::parse(text);
  } catch (const std::exception&) {  // rejecting a text is fine; crashing is not
  }
  const std::string redacted_text = Url::redact(text);
  const std::string redacted_url = ours ? ours->redacted() : std::string();

  // libpq reads a C string: a text with a NUL is not the same text to it.
  if (text.find('\0') != std::string::npos) return 0;
  const auto theirs = libpq_parse(text);
  if (!theirs) return 0;

  if (ours && uri_prefix_length(text) != 0) {
    const auto detail = [&](const char* field, const std::string& a, const std::string& b) {
      return "text:  " + printable(text) + "\nfield: " + field + "\nlibpq: " + printable(a) + "\nUrl:   " + printable(b);
    };
    // Url keeps libpq's reading of the text (libpq()): every field must be libpq's own.
    const auto* reading = ours->libpq();
    const auto field = [&](const char* key, std::string fallback) {
      if (reading == nullptr) return fallback;
      const auto* p = reading->find(key);
      return p == nullptr ? std::string() : p->value;
    };
    const std::pair<const char*, std::string> fields[] = {
        {"host", field("host", host_of(*ours))}, {"port", field("port", port_of(*ours))},
        {"dbname", field("dbname", dbname_of(*ours))}, {"user", field("user", as_text(ours->user()))},
        {"password", field("password", as_text(ours->password()))}};
    for (const auto& [field, value] : fields) {
      const std::string expected = get(*theirs, field);
      FUZZ_CHECK(value == expected, detail(field, expected, value));
    }
  }

  if (const auto pw = checkable_password(text, *theirs)) {
    FUZZ_CHECK(!contains(redacted_text, *pw),
               "text:     " + printable(text) + "\npassword: " + printable(*pw) + "\nUrl::redact: " + printable(redacted_text));
    FUZZ_CHECK(!ours || !contains(redacted_url, *pw),
               "text:     " + printable(text) + "\npassword: " + printable(*pw) + "\nredacted(): " + printable(redacted_url));
  }
  return 0;
}
