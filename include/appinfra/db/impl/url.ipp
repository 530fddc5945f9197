#pragma once
// The definitions of db/url.hpp (APPINFRA_DECL): included by it in header-only
// mode; compiled once into the library with APPINFRA_SEPARATE_COMPILATION.

#include <appinfra/db/detail/conninfo_parse.hpp>
#include <appinfra/db/detail/literal_secrets.hpp>
#include <appinfra/db/url.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace appinfra::db {

APPINFRA_DECL Url Url::parse(std::string_view text) {
  Url u;
  u.text_ = std::string(text);
  const auto sep = text.find("://");
  if (sep != std::string_view::npos) {
    u.scheme_ = std::string(text.substr(0, sep));
    for (auto& c : u.scheme_) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    std::string_view rest = text.substr(sep + 3);
    // libpq's rule (and RFC 3986's): the user info ends at the first '@', and
    // only when no '/' comes first.
    const auto at = rest.find_first_of("@/");
    if (at != std::string_view::npos && rest[at] == '@') {
      const auto cred = rest.substr(0, at);
      const auto colon = cred.find(':');
      u.user_ = std::string(cred.substr(0, colon));
      if (colon != std::string_view::npos) {
        u.password_ = std::string(cred.substr(colon + 1));
        u.has_password_ = true;
      }
      rest = rest.substr(at + 1);
    }
    const auto end = rest.find_first_of("/?");
    u.host_ = std::string(rest.substr(0, end));
    if (end != std::string_view::npos) {
      rest = rest.substr(end);
      if (rest[0] == '/') {
        const auto q = rest.find('?');
        u.path_ = std::string(rest.substr(1, q == std::string_view::npos ? q : q - 1));
        rest = q == std::string_view::npos ? std::string_view() : rest.substr(q);
      }
      if (!rest.empty()) u.query_ = std::string(rest.substr(1));
    }
  }
  // A key/value string may hold a "://" inside a value: only letters, digits,
  // '+', '-' and '.' before it make a scheme (RFC 3986).
  const bool scheme = sep != std::string_view::npos && sep > 0 &&
                      text.substr(0, sep).find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                            "0123456789+-.") == std::string_view::npos;
  if (detail::uri_prefix_length(text) != 0 || (!scheme && text.find('=') != std::string_view::npos))
    u.libpq_ = detail::parse_conninfo(text);
  return u;
}

APPINFRA_DECL std::string Url::problem() const {
  if (!libpq_) return {};
  if (!libpq_->ok()) return libpq_->error;
  return detail::misread(text_, *libpq_);
}

APPINFRA_DECL std::string Url::secret() const {
  if (libpq_) {
    const auto* p = libpq_->find("password");
    return p != nullptr ? p->value : std::string();
  }
  std::string out;
  std::string error;
  if (!detail::conninfo_detail::uri_decode(password_, out, error, "password")) return password_;
  return out;
}

APPINFRA_DECL std::vector<std::string> Url::secrets() const {
  std::vector<std::string> out;
  if (libpq_) {
    for (const auto& p : libpq_->params)
      if (detail::is_secret_keyword(p.key)) {
        out.push_back(p.value);
        out.push_back(text_.substr(p.begin, p.end - p.begin));
      }
  }
  if (has_password_) {
    out.push_back(password_);
    out.push_back(secret());
  }
  return out;
}

APPINFRA_DECL std::string Url::redacted() const {
  std::string out = redacted_structure();
  detail::LiteralSecrets literals;
  for (auto& s : secrets()) literals.add(std::move(s));
  literals.remove_from(out);
  return out;
}

APPINFRA_DECL std::string Url::redacted_structure() const {
  if (libpq_) {
    if (!problem().empty()) return redact_conservatively(text_, *libpq_);
    std::string out = text_;
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    for (const auto& p : libpq_->params)
      if (detail::is_secret_keyword(p.key)) spans.emplace_back(p.begin, p.end);
    // From the back, so that earlier spans stay where they are.
    for (std::size_t i = spans.size(); i-- > 0;) out.replace(spans[i].first, spans[i].second - spans[i].first, "***");
    return out;
  }
  std::string out = text_;
  if (has_password_) {
    const std::size_t colon = out.find("://") + 3 + user_.size();
    out.replace(colon + 1, password_.size(), "***");
  }
  return redact_free(out);
}

APPINFRA_DECL std::string Url::with_path(std::string_view path) const {
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

APPINFRA_DECL std::string Url::redact(std::string_view text) {
  if (detail::uri_prefix_length(text) != 0) return parse(text).redacted();
  if (text.find('=') != std::string_view::npos) {  // a key/value string (a value may hold a "://")
    const Url u = parse(text);
    if (u.libpq_ && u.libpq_->ok()) return u.redacted();  // none for another scheme (mysql://...?a=b)
  }
  return redact_free(text);
}

APPINFRA_DECL std::string Url::redact_free(std::string_view text) {
  std::string out(text);
  detail::LiteralSecrets hidden;  // what was hidden, to remove where else it is written
  const auto hide = [&](std::size_t start, std::size_t end) {
    hidden.add(out.substr(start, end - start));
    out.replace(start, end - start, "***");
  };
  for (std::size_t pos = 0; (pos = out.find("://", pos)) != std::string::npos;) {
    const std::size_t start = pos + 3;
    std::size_t end = out.find_first_of(" \t\n'\"", start);
    if (end == std::string::npos) end = out.size();
    const auto at = std::string_view(out).substr(start, end - start).rfind('@');
    if (at != std::string_view::npos) {
      const std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < start + at) hide(colon + 1, start + at);
    }
    pos = start;
  }
  for (std::size_t pos = 0; (pos = find_ci(out, "password", pos)) != std::string::npos;) {
    std::size_t p = pos + 8;
    while (p < out.size() && (out[p] == ' ' || out[p] == '\t')) ++p;
    if (p >= out.size() || out[p] != '=') {
      pos += 8;
      continue;
    }
    ++p;
    while (p < out.size() && (out[p] == ' ' || out[p] == '\t')) ++p;
    std::size_t start = p, end = p;
    if (p < out.size() && out[p] == '\'') {
      start = end = p + 1;
      while (end < out.size() && out[end] != '\'') end += out[end] == '\\' ? 2 : 1;
      end = std::min(end, out.size());
    } else {
      while (end < out.size() && out[end] != '&' && out[end] != ' ' && out[end] != '\t' && out[end] != '\n')
        end += out[end] == '\\' ? 2 : 1;
      end = std::min(end, out.size());
    }
    hide(start, end);
    pos = start + 3;
  }
  hidden.remove_from(out);
  return out;
}

APPINFRA_DECL std::string Url::redact_conservatively(const std::string& text, const detail::ConninfoParse& r) {
  if (!r.uri) {
    std::size_t cut = 0;
    for (const auto& p : r.params) {
      if (detail::is_secret_keyword(p.key)) break;
      cut = p.end < text.size() && text[p.end] == '\'' ? p.end + 1 : p.end;
    }
    return text.substr(0, cut) + (cut == 0 ? "***" : " ***");
  }
  const std::size_t start = detail::uri_prefix_length(text);
  if (text.find('@') != std::string::npos || find_ci(text, "password", 0) != std::string::npos)
    return text.substr(0, start) + "***";
  const std::size_t q = text.find('?', start);
  std::string out = text.substr(0, q) + (q == std::string::npos ? "" : "?***");
  const std::size_t end = std::min(out.find_first_of("/?", start), out.size());
  const std::size_t colon = out.find(':', start);
  if (colon != std::string::npos && colon < end) out = out.substr(0, colon + 1) + "***" + out.substr(end);
  return out;
}

APPINFRA_DECL std::size_t Url::find_ci(const std::string& hay, std::string_view needle, std::size_t from) {
  for (std::size_t i = from; i + needle.size() <= hay.size(); ++i) {
    std::size_t k = 0;
    while (k < needle.size() &&
           static_cast<char>(hay[i + k] | 0x20) == static_cast<char>(needle[k] | 0x20))
      ++k;
    if (k == needle.size()) return i;
  }
  return std::string::npos;
}
}  // namespace appinfra::db
