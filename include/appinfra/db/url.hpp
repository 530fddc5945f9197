#pragma once
// Database URLs: scheme, credentials, host, path; and their redaction.

#include <appinfra/db/detail/conninfo_parse.hpp>
#include <appinfra/db/detail/literal_secrets.hpp>

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
  static Url parse(std::string_view text) {
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
  [[nodiscard]] std::string problem() const {
    if (!libpq_) return {};
    if (!libpq_->ok()) return libpq_->error;
    return detail::misread(text_, *libpq_);
  }

  /// The password libpq would send (the last password parameter, decoded), or the
  /// decoded user-info password of another scheme; empty when none.
  [[nodiscard]] std::string secret() const {
    if (libpq_) {
      const auto* p = libpq_->find("password");
      return p != nullptr ? p->value : std::string();
    }
    std::string out;
    std::string error;
    if (!detail::conninfo_detail::uri_decode(password_, out, error, "password")) return password_;
    return out;
  }

  /// Every secret of the text, decoded and as written (password and sslpassword
  /// values, all of them): what a message must never show.
  [[nodiscard]] std::vector<std::string> secrets() const {
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

  /// The URL with its passwords (wherever libpq would read one: the user info, a
  /// password= or sslpassword= parameter, a key/value pair) replaced by "***".
  /// A text libpq would reject or misread is redacted more widely (a URL with an
  /// '@' down to its scheme). Safe for logs, errors and statistics.
  /// A password also written elsewhere in the text (in a value libpq overrides
  /// later, say) is replaced there too, when it has at least 4 characters.
  [[nodiscard]] std::string redacted() const {
    std::string out = redacted_structure();
    detail::LiteralSecrets literals;
    for (auto& s : secrets()) literals.add(std::move(s));
    literals.remove_from(out);
    return out;
  }

 private:
  [[nodiscard]] std::string redacted_structure() const {
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

 public:
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

  /// Replaces every password in a text by "***". A text that is a whole
  /// PostgreSQL URL or key/value string is redacted from libpq's reading of it
  /// (redacted()); any other is a free text: the user info of every URL in it (up
  /// to the last '@' before white space or a quote) and the values of password=...
  /// and sslpassword=... pairs, quoted or not, with spaces around the '=' or not,
  /// are hidden. That is a heuristic: where the URL is known, its Redactor
  /// (db/detail/redact.hpp) also removes the password itself.
  static std::string redact(std::string_view text) {
    if (detail::uri_prefix_length(text) != 0) return parse(text).redacted();
    if (text.find('=') != std::string_view::npos) {  // a key/value string (a value may hold a "://")
      const Url u = parse(text);
      if (u.libpq_ && u.libpq_->ok()) return u.redacted();  // none for another scheme (mysql://...?a=b)
    }
    return redact_free(text);
  }

 private:
  static std::string redact_free(std::string_view text) {
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

  // For a text libpq would reject or misread, where the password is not known for
  // sure. A URL with an '@' or a password parameter shows its scheme only (where
  // the user info ends is just what is in doubt); one without shows its host and
  // database, but not what follows a ':' there (a password where the host is
  // missing) nor its query (a misspelt password parameter). A key/value string
  // shows the pairs libpq read before the first secret or the first it could not read.
  static std::string redact_conservatively(const std::string& text, const detail::ConninfoParse& r) {
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
  std::optional<detail::ConninfoParse> libpq_;
};

}  // namespace appinfra::db
