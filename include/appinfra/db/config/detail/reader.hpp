#pragma once
// Reading one Value as the kind its key declares, with the messages
// DatabaseConfig::from reports: each names the database, the key and the value.
// The rules themselves are the constexpr checks of db/config/key.hpp.

#include <appinfra/db/config/key.hpp>
#include <appinfra/db/config/value.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/url.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace appinfra::db::detail {

/// "config.yaml:12:5: " when the value knows where it was written, else nothing.
inline std::string where(const Value& v) { return v.origin() ? v.origin()->display() + ": " : std::string(); }

/// The message of a broken rule.
inline std::string describe(const Violation& v) {
  if (has_bound(v.rule)) return fmt::format("{}{}", rule_words(v.rule), v.bound);
  if (v.rule == Violation::below_resolution)
    return fmt::format("{} ({} s): it would be rounded to 0", rule_words(v.rule), v.bound);
  return std::string(rule_words(v.rule));
}

/// What a choice key expects, in the words its messages have always used.
inline std::string expected_choice(const KeySpec& k) {
  std::string out;
  expected_choice_words(k, [&](std::string_view words) { out.append(words); });
  return out;
}

/// Reads the values of database `database`'s options; every error is a ConfigError.
struct Reader {
  std::string_view database;
  /// The database's passwords (from its url), removed from every value shown.
  const Redactor& secrets;

  [[nodiscard]] ConfigError bad(std::string_view key, const Value& v, std::string_view why) const {
    std::string shown_value = v.display(key, secrets);
    const std::string what = fmt::format("{}database '{}': key {} has invalid value {}: {}", where(v), database,
                                         shown(key), shown_value, why);
    return ConfigError(std::string(database), std::string(key), std::move(shown_value), what);
  }

  [[nodiscard]] std::string text(std::string_view key, const Value& v) const {
    if (const auto* s = std::get_if<std::string>(&v.storage())) return *s;
    throw bad(key, v, "expected a text");
  }

  [[nodiscard]] bool boolean(std::string_view key, const Value& v) const {
    if (const auto* b = std::get_if<bool>(&v.storage())) return *b;
    if (const auto* s = std::get_if<std::string>(&v.storage())) {
      if (*s == "true" || *s == "1" || *s == "yes" || *s == "on") return true;
      if (*s == "false" || *s == "0" || *s == "no" || *s == "off") return false;
    }
    if (const auto* i = std::get_if<std::int64_t>(&v.storage()); i && (*i == 0 || *i == 1)) return *i == 1;
    throw bad(key, v, "expected true or false");
  }

  template <class T>
  [[nodiscard]] T parsed(std::string_view key, const Value& v, std::string_view expected) const {
    T out{};
    if (const auto* s = std::get_if<std::string>(&v.storage())) {
      const auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
      if (ec == std::errc{} && p == s->data() + s->size() && !s->empty()) return out;
    }
    throw bad(key, v, expected);
  }

  /// An integer or a number, checked against its key's rules.
  [[nodiscard]] double number(const KeySpec& k, const Value& v) const {
    double x = 0;
    if (k.kind == Kind::integer) {
      const auto* i = std::get_if<std::int64_t>(&v.storage());
      x = static_cast<double>(i ? *i : parsed<std::int64_t>(k.name, v, "expected an integer"));
    } else if (const auto* d = std::get_if<double>(&v.storage())) {
      x = *d;
    } else if (const auto* i = std::get_if<std::int64_t>(&v.storage())) {
      x = static_cast<double>(*i);
    } else {
      x = parsed<double>(k.name, v, "expected a number");
    }
    if (const auto broken = check_number(k, x)) throw bad(k.name, v, describe(*broken));
    return x;
  }

  /// The names of a name list: a list, or a comma-separated text ("pgcrypto, uuid-ossp").
  [[nodiscard]] std::vector<std::string> names(const KeySpec& k, const Value& v) const {
    std::vector<std::string> items;
    if (const auto* l = std::get_if<Value::List>(&v.storage()))
      items = *l;
    else
      split_commas(text(k.name, v), items);
    std::vector<std::string> out;
    for (auto& item : items) {
      item.erase(0, item.find_first_not_of(' '));
      item.erase(item.find_last_not_of(' ') + 1);
      if (item.empty()) continue;
      if (!is_valid_name(k, item)) throw bad(k.name, v, fmt::format("{} is not a valid extension name", shown(item)));
      out.push_back(std::move(item));
    }
    return out;
  }

  static void split_commas(const std::string& list, std::vector<std::string>& out) {
    for (std::size_t start = 0; start <= list.size();) {
      const std::size_t end = std::min(list.find(',', start), list.size());
      out.push_back(list.substr(start, end - start));
      start = end + 1;
    }
  }

  // One overload per field type; the key's kind says which rules apply.
  void read(bool& f, const KeySpec& k, const Value& v) const { f = boolean(k.name, v); }
  void read(double& f, const KeySpec& k, const Value& v) const { f = number(k, v); }
  void read(std::chrono::duration<double>& f, const KeySpec& k, const Value& v) const {
    f = std::chrono::duration<double>(number(k, v));
  }
  void read(std::optional<std::chrono::duration<double>>& f, const KeySpec& k, const Value& v) const {
    f = std::chrono::duration<double>(number(k, v));
  }
  template <std::integral I>
  void read(I& f, const KeySpec& k, const Value& v) const {
    f = static_cast<I>(number(k, v));
  }
  template <class E>
    requires std::is_enum_v<E>
  void read(E& f, const KeySpec& k, const Value& v) const {
    const auto i = choice_index(k, text(k.name, v));
    if (!i) throw bad(k.name, v, expected_choice(k));
    f = static_cast<E>(*i);
  }
  void read(std::optional<log::Level>& f, const KeySpec& k, const Value& v) const {
    const std::string t = text(k.name, v);
    if (!is_choice(k, t)) throw bad(k.name, v, expected_choice(k));
    f = log::find_level(t);
  }
  void read(std::string& f, const KeySpec& k, const Value& v) const {
    f = text(k.name, v);
    if (k.kind == Kind::text) {  // a path (password_file)
      if (f.empty()) throw bad(k.name, v, "it is empty; expected a path");
      return;
    }
    if (!is_valid_name(k, f)) throw bad(k.name, v, "expected a name matching [a-z][a-z0-9_]*");
  }
  void read(std::vector<std::string>& f, const KeySpec& k, const Value& v) const { f = names(k, v); }
  // A list of urls (replicas): one url as a text is a list of one, since a comma
  // inside a PostgreSQL url separates the hosts of one multi-host url.
  void read(std::vector<Url>& f, const KeySpec& k, const Value& v) const {
    std::vector<std::string> items;
    if (const auto* l = std::get_if<Value::List>(&v.storage()))
      items = *l;
    else
      items.push_back(text(k.name, v));
    f.clear();
    for (const auto& item : items) {
      if (item.empty()) throw bad(k.name, v, "an empty url; expected database urls such as postgresql://host/db");
      f.push_back(Url::parse(item));
      const std::string& scheme = f.back().scheme();
      if (scheme != "postgresql" && scheme != "postgres")
        throw bad(k.name, v, fmt::format("{} is not a postgresql:// url", shown(f.back().redacted())));
    }
  }
  void read(Url& f, const KeySpec& k, const Value& v) const {
    const std::string t = text(k.name, v);
    if (t.empty())
      throw bad(k.name, v, "it is empty; expected a database url such as postgresql://host/db or sqlite:///path");
    f = Url::parse(t);
  }
};

/// A field's value as a number for the cross rules (booleans as 0 and 1, choices
/// as their position); nullopt for texts and lists.
template <class T>
std::optional<double> as_number(const T& f) noexcept {
  if constexpr (std::is_arithmetic_v<T>)
    return static_cast<double>(f);
  else if constexpr (std::is_enum_v<T>)
    return static_cast<double>(f);  // a choice: its position (the first is 0, "off")
  else if constexpr (std::is_same_v<T, std::chrono::duration<double>>)
    return f.count();
  else
    return std::nullopt;
}

/// Lowers a number field to `bound` when above it (a cross rule's clamp).
template <class T>
void lower_to(T& f, double bound) noexcept {
  if constexpr (std::is_arithmetic_v<T>)
    f = std::min(f, static_cast<T>(bound));
  else if constexpr (std::is_same_v<T, std::chrono::duration<double>>)
    f = std::min(f, T(bound));
}

}  // namespace appinfra::db::detail
