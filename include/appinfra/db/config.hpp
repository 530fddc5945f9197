#pragma once
// Configuration: the untyped form a service reads from its config source
// (Config, Options, Value) and the validated form a backend is built from
// (DatabaseConfig). Every rejected value is reported with the database, the key
// and the value; passwords are redacted, control characters escaped and long
// values shortened (detail::shown).

#include <appinfra/db/detail/identifier.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/url.hpp>
#include <appinfra/log/escape.hpp>
#include <appinfra/log/level.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <concepts>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace appinfra::db {

namespace detail {
/// How a text (a value, a key, a path) is shown in an error message: quoted, its
/// control characters escaped (a NUL would cut what() short, a newline would
/// forge a log line) and, when longer than `max_shown` bytes, cut to its first 60
/// with its size after it: 'abc...' (1048576 bytes). The one place that shortens
/// displayed values, so a 1 MB value makes a short message. Redact before: a
/// shortened URL may have lost the '@' that marks its password.
inline constexpr std::size_t max_shown = 80;
inline std::string shown(std::string_view text) {
  std::string out = "'";
  if (text.size() <= max_shown) {
    log::append_escaped(out, text);
    return out + "'";
  }
  std::size_t cut = 60;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;  // not inside a UTF-8 character
  log::append_escaped(out, text.substr(0, cut));
  return out + fmt::format("...' ({} bytes)", text.size());
}
}  // namespace detail

/// One configuration value: a boolean, an integer, a number or a text.
/// Texts are accepted where numbers or booleans are expected ("10", "true"),
/// since environment variables and many config files only carry texts.
class Value {
 public:
  using Storage = std::variant<bool, std::int64_t, double, std::string>;

  // Implicit by design: options are written as {"pool_size", 10}.
  Value(bool b) : v_(b) {}  // NOLINT
  template <std::integral I>
    requires(!std::same_as<I, bool> && !std::same_as<I, char>)
  Value(I i) {  // NOLINT
    // An unsigned value too large for int64 is kept as a number, so that it is
    // reported as out of range rather than wrapped to a negative one.
    if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t)) {
      if (i > static_cast<I>(INT64_MAX)) {
        v_ = static_cast<double>(i);
        return;
      }
    }
    v_ = static_cast<std::int64_t>(i);
  }
  Value(char) = delete;  // '5' is not 5: write 5 or "5"
  template <std::floating_point F>
  Value(F d) : v_(static_cast<double>(d)) {}  // NOLINT
  Value(const char* s) : v_(std::string(s)) {}                // NOLINT
  Value(std::string s) : v_(std::move(s)) {}                 // NOLINT
  Value(std::string_view s) : v_(std::string(s)) {}           // NOLINT

  [[nodiscard]] const Storage& storage() const noexcept { return v_; }

  /// The value as written, for error messages (texts are redacted, then quoted
  /// and shortened by detail::shown). The value of a key that names a secret is
  /// shown as ***.
  [[nodiscard]] std::string display(std::string_view key) const {
    for (std::string_view secret : {"pass", "secret", "token", "credential"})
      if (key.find(secret) != std::string_view::npos) return "***";
    return display();
  }
  // Each NUL-separated piece redacted on its own: a NUL ends the text for libpq, and
  // a text holding one is no connection string to redact as a whole (it would show
  // as postgresql://***, hiding the value the error is about).
  static std::string redacted_pieces(std::string_view text) {
    std::string out;
    for (std::size_t start = 0;;) {
      const std::size_t nul = text.find('\0', start);
      out += Url::redact(text.substr(start, nul == std::string_view::npos ? std::string_view::npos : nul - start));
      if (nul == std::string_view::npos) return out;
      out += '\0';
      start = nul + 1;
    }
  }
  [[nodiscard]] std::string display() const {
    return std::visit(
        [](const auto& x) -> std::string {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
          else if constexpr (std::is_same_v<T, std::string>) return detail::shown(redacted_pieces(x));
          else return fmt::format("{}", x);
        },
        v_);
  }

 private:
  Storage v_;
};

/// The options of one database, in the order given. Value type.
///
/// Two ways in: add() for the keys of one mapping (the initializer list, one
/// section of a config file), where a key given twice is a mistake that
/// DatabaseConfig::from() reports, since one of the two would be silently
/// dropped; set() for an override from another source (the environment, a value
/// computed at run time over a declared one), which replaces the earlier value.
class Options {
 public:
  using Item = std::pair<std::string, Value>;
  /// A key given twice in one mapping, with both values.
  struct Duplicate {
    std::string key;
    Value first, second;
  };
  Options() = default;
  Options(std::initializer_list<Item> items) {
    for (const auto& [k, v] : items) add(k, v);
  }
  /// Adds `key` of the mapping being read. When it is there already, the later
  /// value is kept as before, and the first such key is recorded (duplicate()).
  Options& add(std::string key, Value value) {
    if (!duplicate_)
      if (const Value* earlier = find(key)) duplicate_ = Duplicate{key, *earlier, value};
    return set(std::move(key), std::move(value));
  }
  /// Sets `key`, replacing an earlier value: an override, never a duplicate.
  Options& set(std::string key, Value value) {
    for (auto& item : items_)
      if (item.first == key) {
        item.second = std::move(value);
        return *this;
      }
    items_.emplace_back(std::move(key), std::move(value));
    return *this;
  }
  [[nodiscard]] const Value* find(std::string_view key) const noexcept {
    for (const auto& item : items_)
      if (item.first == key) return &item.second;
    return nullptr;
  }
  [[nodiscard]] auto begin() const noexcept { return items_.begin(); }
  [[nodiscard]] auto end() const noexcept { return items_.end(); }
  /// The first key add() was given twice; null when none was.
  [[nodiscard]] const Duplicate* duplicate() const noexcept { return duplicate_ ? &*duplicate_ : nullptr; }

 private:
  std::vector<Item> items_;
  std::optional<Duplicate> duplicate_;
};

/// The seed's `dbs` section: named databases in configuration order. Value type.
class Config {
 public:
  using Item = std::pair<std::string, Options>;
  Config() = default;
  Config(std::initializer_list<Item> dbs) {
    for (const auto& [name, options] : dbs) add(name, options);
  }
  /// Adds a database; a name given twice is a ConfigError (it would silently drop one).
  Config& add(std::string name, Options options) {
    for (const auto& item : dbs_)
      if (item.first == name)
        throw ConfigError(name, "", "", fmt::format("database {} is configured twice", detail::shown(name)));
    dbs_.emplace_back(std::move(name), std::move(options));
    return *this;
  }
  [[nodiscard]] const Options* find(std::string_view name) const noexcept {
    for (const auto& item : dbs_)
      if (item.first == name) return &item.second;
    return nullptr;
  }
  [[nodiscard]] bool empty() const noexcept { return dbs_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return dbs_.size(); }
  [[nodiscard]] auto begin() const noexcept { return dbs_.begin(); }
  [[nodiscard]] auto end() const noexcept { return dbs_.end(); }

 private:
  std::vector<Item> dbs_;
};

/// The validated configuration of one database, with the seed's defaults.
/// Value type; built by DatabaseConfig::from().
struct DatabaseConfig {
  using Seconds = std::chrono::duration<double>;

  std::string name;
  Url url;
  bool readonly = false;
  bool create_db = false;
  int pool_size = 5;
  int max_overflow = 10;
  Seconds pool_timeout{30.0};
  /// Maximum age of a pooled connection; negative: never recycled.
  Seconds pool_recycle{3600.0};
  bool pool_pre_ping = true;
  bool echo = false;
  bool auto_reconnect = true;
  int max_retries = 3;
  Seconds retry_delay{1.0};
  /// A database whose setup failed for a reason that may pass (ConnectionError,
  /// PoolTimeoutError) is set up again in the background, with the backoff of
  /// retry_delay, until it succeeds; false: it stays failed (fail fast).
  bool setup_retry = true;
  /// The longest wait between two background setup attempts.
  Seconds setup_retry_max_interval{2.0};
  /// Level of the query log; echo: true without a level logs at info.
  std::optional<log::Level> query_lg_level;
  // Pool lifecycle and diagnostics (see PoolOptions).
  bool pool_reuse_fifo = false;
  double pool_recycle_jitter = 0.1;
  Seconds pre_ping_window{1.0};
  Seconds pre_ping_grace{0.005};
  int min_idle = 1;
  bool lazy_min_idle = false;
  Seconds idle_timeout{600.0};
  Seconds hold_warning{60.0};
  // PostgreSQL sessions.
  std::optional<Seconds> statement_timeout;  ///< set on every connection when given
  bool keepalives = true;                    ///< TCP keepalives, unless the url sets them
  bool query_log_params = false;             ///< log parameter values (redacted otherwise)
  // Migrations (PostgreSQL): created before the migrations run.
  std::vector<std::string> extensions;  ///< CREATE EXTENSION IF NOT EXISTS each; names [a-z][a-z0-9_-]*
  std::string schema;                   ///< CREATE SCHEMA IF NOT EXISTS; name [a-z][a-z0-9_]*

  /// The largest number of seconds any duration option takes (about 115 days).
  static constexpr double max_seconds = 1e7;
  /// The smallest non-zero duration, in seconds: durations are used in whole
  /// milliseconds (SQLite's busy timeout, PostgreSQL's statement_timeout), so a
  /// smaller one would silently become 0, which often means "off" or "at once".
  static constexpr double resolution_seconds = 0.001;

  /// Keys for PostgreSQL only; on a sqlite: url they are rejected, not ignored.
  static constexpr std::string_view postgresql_keys[] = {"extensions", "schema", "keepalives"};

  /// The keys from() understands.
  static constexpr std::string_view keys[] = {
      "url",       "readonly",      "create_db", "pool_size",      "max_overflow",
      "pool_timeout", "pool_recycle", "pool_pre_ping", "echo", "auto_reconnect",
      "max_retries", "retry_delay", "query_lg_level", "pool_reuse", "pool_recycle_jitter",
      "pre_ping_window", "pre_ping_grace", "min_idle", "lazy_min_idle", "idle_timeout", "hold_warning",
      "statement_timeout", "keepalives", "query_log_params", "extensions", "schema", "setup_retry",
      "setup_retry_max_interval"};

  /// Level at which statements are logged, or Level::off.
  [[nodiscard]] log::Level query_log_level() const noexcept {
    if (query_lg_level) return *query_lg_level;
    return echo ? log::Level::info : log::Level::off;
  }

  /// Validates `options` of database `name`. Throws ConfigError naming the
  /// database, the key and the value for the first bad one.
  static DatabaseConfig from(std::string name, const Options& options) {
    DatabaseConfig c;
    c.name = std::move(name);
    if (log::has_control(c.name))
      throw ConfigError(c.name, "", "",
                        fmt::format("database {}: a database name must not hold control characters",
                                    detail::shown(c.name)));
    for (const auto& [key, value] : options) {
      bool known = false;
      for (auto k : keys) known = known || k == key;
      // The value is not shown: an unknown key may well hold a secret.
      if (!known) {
        std::string list;
        for (auto k : keys) list.append(list.empty() ? "" : ", ").append(k);
        throw ConfigError(c.name, key, "***",
                          fmt::format("database '{}': unknown key {}; known keys: {}", c.name,
                                      detail::shown(key), list));
      }
    }
    // After the unknown keys: their values are never shown.
    if (const auto* d = options.duplicate())
      throw ConfigError(c.name, d->key, d->second.display(d->key),
                        fmt::format("database '{}': key {} is given twice (values {} and {}); one would be "
                                    "silently dropped: give it once",
                                    c.name, detail::shown(d->key), d->first.display(d->key),
                                    d->second.display(d->key)));
    // Texts reach C APIs (libpq, sqlite3_open_v2) that stop at a NUL, silently
    // dropping what follows (an sslmode, the end of a path).
    for (const auto& [key, value] : options)
      if (const auto* s = std::get_if<std::string>(&value.storage()); s && s->find('\0') != std::string::npos)
        throw c.bad(key, value, "a value must not hold a NUL character");
    const Value* url = options.find("url");
    if (url == nullptr)
      throw ConfigError(c.name, "url", "", fmt::format("database '{}': key 'url' is missing", c.name));
    const std::string url_text = c.text(*url, "url");
    if (url_text.empty())
      throw c.bad("url", *url, "it is empty; expected a database url such as postgresql://host/db or sqlite:///path");
    c.url = Url::parse(url_text);
    if (c.url.scheme() == "sqlite")
      for (auto k : postgresql_keys)
        if (const Value* v = options.find(k))
          throw c.bad(k, *v, "this key is for PostgreSQL; a SQLite database takes no " + std::string(k));

    c.readonly = c.boolean(options, "readonly", c.readonly);
    c.create_db = c.boolean(options, "create_db", c.create_db);
    c.pool_size = static_cast<int>(c.integer(options, "pool_size", c.pool_size, 1));
    c.max_overflow = static_cast<int>(c.integer(options, "max_overflow", c.max_overflow, 0));
    c.pool_timeout = c.duration(options, "pool_timeout", c.pool_timeout, 0.0, false);
    c.pool_recycle = c.duration(options, "pool_recycle", c.pool_recycle, -1.0, true);
    c.pool_pre_ping = c.boolean(options, "pool_pre_ping", c.pool_pre_ping);
    c.echo = c.boolean(options, "echo", c.echo);
    c.auto_reconnect = c.boolean(options, "auto_reconnect", c.auto_reconnect);
    c.max_retries = static_cast<int>(c.integer(options, "max_retries", c.max_retries, 0));
    c.retry_delay = c.duration(options, "retry_delay", c.retry_delay, 0.0, true);
    c.setup_retry = c.boolean(options, "setup_retry", c.setup_retry);
    c.setup_retry_max_interval =
        c.duration(options, "setup_retry_max_interval", c.setup_retry_max_interval, 0.0, false);
    if (const Value* v = options.find("query_lg_level")) {
      const std::string level = c.text(*v, "query_lg_level");
      try {
        c.query_lg_level = log::parse_level(level);
      } catch (const std::invalid_argument&) {  // its message repeats the value, unshortened
        throw c.bad("query_lg_level", *v, "expected one of trace, debug, info, warning, error, critical, off");
      }
    }
    if (const Value* v = options.find("pool_reuse")) {
      const std::string order = c.text(*v, "pool_reuse");
      if (order != "lifo" && order != "fifo") throw c.bad("pool_reuse", *v, "expected 'lifo' or 'fifo'");
      c.pool_reuse_fifo = order == "fifo";
    }
    c.pool_recycle_jitter = c.number(options, "pool_recycle_jitter", c.pool_recycle_jitter, 0.0, true);
    if (c.pool_recycle_jitter > 1.0)
      throw c.bad("pool_recycle_jitter", *options.find("pool_recycle_jitter"), "must be at most 1");
    c.pre_ping_window = c.duration(options, "pre_ping_window", c.pre_ping_window, 0.0, true);
    if (const Value* v = options.find("pre_ping_grace")) {
      c.pre_ping_grace = c.duration(options, "pre_ping_grace", Seconds(0), 0.0, true);
      if (c.pre_ping_grace > c.pre_ping_window)
        throw c.bad("pre_ping_grace", *v,
                    fmt::format("must be at most pre_ping_window ({} s)", c.pre_ping_window.count()));
    } else {
      c.pre_ping_grace = std::min(c.pre_ping_grace, c.pre_ping_window);  // pre_ping_window 0: check every checkout
    }
    c.min_idle = static_cast<int>(c.integer(options, "min_idle", c.min_idle, 0));
    if (c.min_idle > c.pool_size)
      throw c.bad("min_idle", *options.find("min_idle"), fmt::format("must be at most pool_size ({})", c.pool_size));
    c.lazy_min_idle = c.boolean(options, "lazy_min_idle", c.lazy_min_idle);
    c.idle_timeout = c.duration(options, "idle_timeout", c.idle_timeout, -1.0, true);
    c.hold_warning = c.duration(options, "hold_warning", c.hold_warning, -1.0, true);
    if (options.find("statement_timeout") != nullptr)
      c.statement_timeout = c.duration(options, "statement_timeout", Seconds(0), 0.0, false);
    c.keepalives = c.boolean(options, "keepalives", c.keepalives);
    c.query_log_params = c.boolean(options, "query_log_params", c.query_log_params);
    if (const Value* v = options.find("extensions")) {
      // A comma-separated list: "pgcrypto, uuid-ossp".
      const std::string list = c.text(*v, "extensions");
      std::size_t start = 0;
      while (start <= list.size()) {
        const std::size_t end = std::min(list.find(',', start), list.size());
        std::string name = list.substr(start, end - start);
        name.erase(0, name.find_first_not_of(' '));
        name.erase(name.find_last_not_of(' ') + 1);
        if (!name.empty()) {
          if (!detail::is_identifier(name, true))
            throw c.bad("extensions", *v, fmt::format("{} is not a valid extension name", detail::shown(name)));
          c.extensions.push_back(name);
        }
        start = end + 1;
      }
    }
    if (const Value* v = options.find("schema")) {
      c.schema = c.text(*v, "schema");
      if (!detail::is_identifier(c.schema)) throw c.bad("schema", *v, "expected a name matching [a-z][a-z0-9_]*");
    }
    if (c.readonly && c.create_db)
      throw ConfigError(c.name, "create_db", "true",
                        fmt::format("database '{}': key 'create_db' is true but 'readonly' is true too: "
                                    "a read-only database cannot create itself",
                                    c.name));
    return c;
  }

 private:
  [[nodiscard]] ConfigError bad(std::string_view key, const Value& v, std::string_view why) const {
    std::string shown = v.display(key);
    const std::string what =
        fmt::format("database '{}': key {} has invalid value {}: {}", name, detail::shown(key), shown, why);
    return ConfigError(name, std::string(key), std::move(shown), what);
  }

  [[nodiscard]] std::string text(const Value& v, std::string_view key) const {
    if (const auto* s = std::get_if<std::string>(&v.storage())) return *s;
    throw bad(key, v, "expected a text");
  }

  [[nodiscard]] bool boolean(const Options& o, std::string_view key, bool dflt) const {
    const Value* v = o.find(key);
    if (v == nullptr) return dflt;
    if (const auto* b = std::get_if<bool>(&v->storage())) return *b;
    if (const auto* s = std::get_if<std::string>(&v->storage())) {
      if (*s == "true" || *s == "1" || *s == "yes" || *s == "on") return true;
      if (*s == "false" || *s == "0" || *s == "no" || *s == "off") return false;
    }
    if (const auto* i = std::get_if<std::int64_t>(&v->storage()); i && (*i == 0 || *i == 1))
      return *i == 1;
    throw bad(key, *v, "expected true or false");
  }

  [[nodiscard]] std::int64_t integer(const Options& o, std::string_view key, std::int64_t dflt,
                                     std::int64_t min) const {
    const Value* v = o.find(key);
    if (v == nullptr) return dflt;
    std::int64_t out = 0;
    if (const auto* i = std::get_if<std::int64_t>(&v->storage())) {
      out = *i;
    } else if (const auto* s = std::get_if<std::string>(&v->storage())) {
      const auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
      if (ec != std::errc{} || p != s->data() + s->size() || s->empty())
        throw bad(key, *v, "expected an integer");
    } else {
      throw bad(key, *v, "expected an integer");
    }
    if (out < min) throw bad(key, *v, fmt::format("must be at least {}", min));
    if (out > 1'000'000) throw bad(key, *v, "must be at most 1000000");
    return out;
  }

  /// A number() of seconds that is 0 or at least resolution_seconds in size.
  [[nodiscard]] Seconds duration(const Options& o, std::string_view key, Seconds dflt, double min,
                                 bool min_inclusive) const {
    const double s = number(o, key, dflt.count(), min, min_inclusive);
    if (s != 0.0 && std::abs(s) < resolution_seconds)
      throw bad(key, *o.find(key),
                fmt::format("below the resolution of durations, 1 ms ({} s): it would be rounded to 0",
                            resolution_seconds));
    return Seconds(s);
  }

  [[nodiscard]] double number(const Options& o, std::string_view key, double dflt, double min,
                              bool min_inclusive) const {
    const Value* v = o.find(key);
    if (v == nullptr) return dflt;
    double out = 0;
    if (const auto* d = std::get_if<double>(&v->storage())) {
      out = *d;
    } else if (const auto* i = std::get_if<std::int64_t>(&v->storage())) {
      out = static_cast<double>(*i);
    } else if (const auto* s = std::get_if<std::string>(&v->storage())) {
      const auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
      if (ec != std::errc{} || p != s->data() + s->size() || s->empty())
        throw bad(key, *v, "expected a number");
    } else {
      throw bad(key, *v, "expected a number");
    }
    if (!std::isfinite(out)) throw bad(key, *v, "expected a finite number");
    // Durations become nanosecond counts; this bound keeps every conversion in range.
    if (out > max_seconds) throw bad(key, *v, fmt::format("must be at most {}", max_seconds));
    if (min_inclusive ? out < min : out <= min)
      throw bad(key, *v, fmt::format("must be {} {}", min_inclusive ? "at least" : "greater than", min));
    return out;
  }
};

}  // namespace appinfra::db
