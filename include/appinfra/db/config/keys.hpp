#pragma once
// Every configuration key, declared once (detail::keys): its name, kind, range,
// choices, the backends that take it, one line of documentation and the field it
// sets. From that list come the known-key list of the unknown-key error, the
// defaults (each field's default member initializer), the validation and its
// messages (DatabaseConfig::from), and the README's option table
// (detail::options_table_markdown). The checks here are constexpr and free of
// fmt, so that options fixed at compile time are checked by the same rules.

#include <appinfra/db/detail/identifier.hpp>
#include <appinfra/log/level.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <tuple>

namespace appinfra::db::detail {

/// What a key's value is. The field it sets has the matching type.
enum class Kind {
  text,               ///< a text (url)
  boolean,            ///< true or false; also "true"/"1"/"yes"/"on", 1 and 0
  integer,            ///< an integer, at least `min`, at most max_integer
  number,             ///< a finite number, at most max_number
  duration,           ///< a number of seconds: 0 or at least resolution_seconds in size
  optional_duration,  ///< a duration, unset unless given
  choice,             ///< one of `choices`
  level,              ///< a log level name (log::find_level)
  name,               ///< an SQL name: [a-z][a-z0-9_]*
  name_list,          ///< SQL names, [a-z][a-z0-9_-]*: comma-separated, or a list
};

/// Where a key is documented (the README groups its table by these).
enum class Section { core, pool, query_log, setup, postgresql, sqlite };

/// Which backends take a key; one for PostgreSQL only is rejected on a sqlite: url.
enum class Backends { all, postgresql };

/// The largest value an integer key takes.
inline constexpr double max_integer = 1'000'000;
/// The largest value a number or duration key takes (durations: seconds, about 115
/// days): durations become nanosecond counts, and this keeps every conversion in range.
inline constexpr double max_number = 1e7;
/// The smallest non-zero duration, in seconds: durations are used in whole
/// milliseconds (SQLite's busy timeout, PostgreSQL's statement_timeout), so a
/// smaller one would silently become 0, which often means "off" or "at once".
inline constexpr double resolution_seconds = 0.001;

/// One key's declaration, without the field it sets (Key adds that).
struct KeySpec {
  std::string_view name{};
  Kind kind = Kind::boolean;
  Section section = Section::core;
  double min = 0;                   ///< integer, number, duration: the lower bound
  bool min_inclusive = true;        ///< false: the value must be greater than min
  std::optional<double> max{};      ///< a bound of its own, below the kind's limit
  std::string_view choices{};       ///< choice, level: the names, '|'-separated
  Backends backends = Backends::all;
  bool required = false;
  std::string_view doc{};           ///< one line, for the README table
};

/// A declaration: the spec and the field it sets, reached from a DatabaseConfig
/// (generic, so that this header needs no DatabaseConfig).
template <class Field>
struct Key {
  KeySpec spec{};
  Field field{};
};
// Aggregate deduction (P1816) is not in clang before 17: the guide says it.
template <class Field>
Key(KeySpec, Field) -> Key<Field>;

/// A broken rule: which one, and the bound it names.
struct Violation {
  enum Rule { not_finite, not_integer, below, not_above, above, below_resolution, both } rule;
  double bound = 0;
};

/// Checks a number given for key `k` (integer, number or duration kinds), in the
/// order DatabaseConfig::from reports them.
constexpr std::optional<Violation> check_number(const KeySpec& k, double x) noexcept {
  constexpr double huge = std::numeric_limits<double>::max();
  if (k.kind == Kind::integer) {
    const bool whole = x >= -9.0e18 && x <= 9.0e18 && static_cast<double>(static_cast<std::int64_t>(x)) == x;
    if (!whole) return Violation{Violation::not_integer};
    if (x < k.min) return Violation{Violation::below, k.min};
    if (x > max_integer) return Violation{Violation::above, max_integer};
    return std::nullopt;
  }
  if (x != x || x > huge || x < -huge) return Violation{Violation::not_finite};
  if (x > max_number) return Violation{Violation::above, max_number};
  if (k.min_inclusive ? x < k.min : x <= k.min)
    return Violation{k.min_inclusive ? Violation::below : Violation::not_above, k.min};
  if (k.max && x > *k.max) return Violation{Violation::above, *k.max};
  const bool duration = k.kind == Kind::duration || k.kind == Kind::optional_duration;
  if (duration && x != 0 && (x < 0 ? -x : x) < resolution_seconds)
    return Violation{Violation::below_resolution, resolution_seconds};
  return std::nullopt;
}

/// The words of a broken rule; those with a bound are followed by it ("must be at
/// least " 1). The run-time messages (detail::describe) and the compile-time ones
/// (fixed options) are both written from these.
constexpr std::string_view rule_words(Violation::Rule rule) noexcept {
  switch (rule) {
    case Violation::not_finite: return "expected a finite number";
    case Violation::not_integer: return "expected an integer";
    case Violation::below: return "must be at least ";
    case Violation::not_above: return "must be greater than ";
    case Violation::above: return "must be at most ";
    case Violation::below_resolution: return "below the resolution of durations, 1 ms";
    case Violation::both: return "not together";  // a not_both rule; its message is the rule's own
  }
  return "invalid";
}
constexpr bool has_bound(Violation::Rule rule) noexcept {
  return rule == Violation::below || rule == Violation::not_above || rule == Violation::above;
}

/// The position of `text` among the '|'-separated choices of `k`, if there.
constexpr std::optional<std::size_t> choice_index(const KeySpec& k, std::string_view text) noexcept {
  std::string_view rest = k.choices;
  for (std::size_t i = 0;; ++i) {
    const std::size_t bar = rest.find('|');
    if (rest.substr(0, bar) == text) return i;
    if (bar == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(bar + 1);
  }
}

/// How many choices key `k` has, and the name of choice `i`.
constexpr std::size_t choice_count(const KeySpec& k) noexcept {
  std::size_t n = k.choices.empty() ? 0 : 1;
  for (char c : k.choices) n += c == '|';
  return n;
}
constexpr std::string_view choice_name(const KeySpec& k, std::size_t i) noexcept {
  std::string_view rest = k.choices;
  for (; i > 0 && rest.find('|') != std::string_view::npos; --i) rest.remove_prefix(rest.find('|') + 1);
  return rest.substr(0, rest.find('|'));
}

/// What a choice key expects ("expected 'lifo' or 'fifo'", "expected one of trace,
/// debug, ..."), given piece by piece to `put(std::string_view)`: constexpr, so the
/// compile-time messages of fixed options use the same words.
template <class Put>
constexpr void expected_choice_words(const KeySpec& k, Put&& put) {
  put(k.kind == Kind::level ? "expected one of " : "expected ");
  for (std::size_t i = 0, n = choice_count(k); i < n; ++i) {
    if (k.kind == Kind::level) {
      put(i == 0 ? "" : ", ");
      put(choice_name(k, i));
    } else {
      put(i == 0 ? "'" : i + 1 == n ? " or '" : ", '");
      put(choice_name(k, i));
      put("'");
    }
  }
}

/// True when `text` is a value key `k` (a choice or a level) accepts.
constexpr bool is_choice(const KeySpec& k, std::string_view text) noexcept {
  if (k.kind == Kind::level) return log::find_level(text).has_value();
  return choice_index(k, text).has_value();
}

/// True when `item` is a name key `k` accepts (schema; one of the extensions).
constexpr bool is_valid_name(const KeySpec& k, std::string_view item) noexcept {
  return is_identifier(item, k.kind == Kind::name_list);
}

/// True when a database with this url scheme rejects key `k`.
constexpr bool rejected_on(const KeySpec& k, std::string_view scheme) noexcept {
  return k.backends == Backends::postgresql && scheme == "sqlite";
}

/// A rule between two keys.
struct CrossRule {
  enum Relation {
    at_most,   ///< key ≤ other, checked when key is read (other is read before it)
    not_both,  ///< key and other not both true, checked after every key is read
  } relation;
  std::string_view key{}, other{};
  bool clamp_default = false;  ///< at_most: when key is not given, its default is lowered to other
  std::string_view why{};      ///< not_both: the reason, for the message
};

inline constexpr std::array cross_rules{
    CrossRule{CrossRule::at_most, "min_idle", "pool_size"},
    // pre_ping_window 0 asks for a round trip on every checkout: the default grace follows it.
    CrossRule{CrossRule::at_most, "pre_ping_grace", "pre_ping_window", true},
    CrossRule{CrossRule::not_both, "create_db", "readonly", false, "a read-only database cannot create itself"},
};

/// Checks a cross rule on the two values (booleans as 0 and 1).
constexpr std::optional<Violation> check_cross(const CrossRule& r, double key, double other) noexcept {
  if (r.relation == CrossRule::at_most && key > other) return Violation{Violation::above, other};
  if (r.relation == CrossRule::not_both && key != 0 && other != 0) return Violation{Violation::both};
  return std::nullopt;
}

/// The keys, in the order of the unknown-key message's list (and of reading).
inline constexpr std::tuple keys{
    Key{KeySpec{.name = "url", .kind = Kind::text, .required = true, .doc = "the scheme picks the backend"},
        [](auto& c) -> auto& { return c.url; }},
    Key{KeySpec{.name = "readonly", .doc = "picks the `ReadOnly` backend"},
        [](auto& c) -> auto& { return c.readonly; }},
    Key{KeySpec{.name = "create_db", .doc = "create the database if missing; not with `readonly`"},
        [](auto& c) -> auto& { return c.create_db; }},
    Key{KeySpec{.name = "pool_size", .kind = Kind::integer, .section = Section::pool, .min = 1,
                .doc = "connections kept"},
        [](auto& c) -> auto& { return c.pool.pool_size; }},
    Key{KeySpec{.name = "max_overflow", .kind = Kind::integer, .section = Section::pool,
                .doc = "extra connections under load"},
        [](auto& c) -> auto& { return c.pool.max_overflow; }},
    Key{KeySpec{.name = "pool_timeout", .kind = Kind::duration, .section = Section::pool, .min_inclusive = false,
                .doc = "longest wait for a connection"},
        [](auto& c) -> auto& { return c.pool.timeout; }},
    Key{KeySpec{.name = "pool_recycle", .kind = Kind::duration, .section = Section::pool, .min = -1,
                .doc = "maximum age of a connection; negative: never"},
        [](auto& c) -> auto& { return c.pool.recycle; }},
    Key{KeySpec{.name = "pool_pre_ping", .section = Section::pool,
                .doc = "check a connection at checkout: a socket check (unless within `pre_ping_grace`), a round "
                       "trip after `pre_ping_window` idle"},
        [](auto& c) -> auto& { return c.pool.pre_ping; }},
    Key{KeySpec{.name = "echo", .section = Section::query_log, .doc = "log every statement (at info)"},
        [](auto& c) -> auto& { return c.query_log.echo; }},
    Key{KeySpec{.name = "auto_reconnect", .section = Section::setup,
                .doc = "retry a failed connect at setup; false: no retries"},
        [](auto& c) -> auto& { return c.setup.auto_reconnect; }},
    Key{KeySpec{.name = "max_retries", .kind = Kind::integer, .section = Section::setup,
                .doc = "connect retries at setup (none on SQLite)"},
        [](auto& c) -> auto& { return c.pool.max_retries; }},
    Key{KeySpec{.name = "retry_delay", .kind = Kind::duration, .section = Section::setup,
                .doc = "first backoff delay, doubled each retry (at setup, and between background setup attempts)"},
        [](auto& c) -> auto& { return c.pool.retry_delay; }},
    Key{KeySpec{.name = "query_lg_level", .kind = Kind::level, .section = Section::query_log,
                .choices = "trace|debug|info|warning|error|critical|off", .doc = "log every statement at this level"},
        [](auto& c) -> auto& { return c.query_log.level; }},
    Key{KeySpec{.name = "pool_reuse", .kind = Kind::choice, .section = Section::pool, .choices = "lifo|fifo",
                .doc = "idle connection taken: most recently returned (`lifo`) or least (`fifo`)"},
        [](auto& c) -> auto& { return c.pool.reuse; }},
    Key{KeySpec{.name = "pool_recycle_jitter", .kind = Kind::number, .section = Section::pool, .max = 1.0,
                .doc = "each connection's maximum age is shortened by up to this fraction, at random"},
        [](auto& c) -> auto& { return c.pool.recycle_jitter; }},
    Key{KeySpec{.name = "pre_ping_window", .kind = Kind::duration, .section = Section::pool,
                .doc = "idle time from which pre-ping makes a round trip"},
        [](auto& c) -> auto& { return c.pool.pre_ping_window; }},
    Key{KeySpec{.name = "pre_ping_grace", .kind = Kind::duration, .section = Section::pool,
                .doc = "a connection checked out last less than this ago (held and idle together) is handed out "
                       "unchecked (HikariCP's `aliveBypassWindowMs`); 0: check every checkout"},
        [](auto& c) -> auto& { return c.pool.pre_ping_grace; }},
    Key{KeySpec{.name = "min_idle", .kind = Kind::integer, .section = Section::pool,
                .doc = "connections opened at setup and never closed for idleness"},
        [](auto& c) -> auto& { return c.pool.min_idle; }},
    Key{KeySpec{.name = "lazy_min_idle", .section = Section::pool, .doc = "open only one connection at setup"},
        [](auto& c) -> auto& { return c.pool.lazy_min_idle; }},
    Key{KeySpec{.name = "idle_timeout", .kind = Kind::duration, .section = Section::pool, .min = -1,
                .doc = "close connections idle this long, down to `min_idle`; negative: never"},
        [](auto& c) -> auto& { return c.pool.idle_timeout; }},
    Key{KeySpec{.name = "overflow_idle_timeout", .kind = Kind::duration, .section = Section::pool, .min = -1,
                .doc = "close connections beyond `pool_size` idle this long; 0: on return; negative: never"},
        [](auto& c) -> auto& { return c.pool.overflow_idle_timeout; }},
    Key{KeySpec{.name = "hold_warning", .kind = Kind::duration, .section = Section::pool, .min = -1,
                .doc = "log a connection held this long; negative: never"},
        [](auto& c) -> auto& { return c.pool.hold_warning; }},
    // Accepted (and unused) on SQLite, as it always was.
    Key{KeySpec{.name = "statement_timeout", .kind = Kind::optional_duration, .section = Section::postgresql,
                .min_inclusive = false, .doc = "set on every connection"},
        [](auto& c) -> auto& { return c.pg.statement_timeout; }},
    Key{KeySpec{.name = "keepalives", .section = Section::postgresql, .backends = Backends::postgresql,
                .doc = "TCP keepalives, unless the url sets them"},
        [](auto& c) -> auto& { return c.pg.keepalives; }},
    Key{KeySpec{.name = "query_log_params", .section = Section::query_log,
                .doc = "log parameter values with statements"},
        [](auto& c) -> auto& { return c.query_log.params; }},
    Key{KeySpec{.name = "extensions", .kind = Kind::name_list, .section = Section::postgresql,
                .backends = Backends::postgresql, .doc = "created before migrations"},
        [](auto& c) -> auto& { return c.pg.extensions; }},
    Key{KeySpec{.name = "schema", .kind = Kind::name, .section = Section::postgresql,
                .backends = Backends::postgresql, .doc = "created before migrations"},
        [](auto& c) -> auto& { return c.pg.schema; }},
    Key{KeySpec{.name = "password_file", .kind = Kind::text, .section = Section::postgresql,
                .backends = Backends::postgresql,
                .doc = "a file holding the password (Docker and Kubernetes secrets), read for each new connection; one "
                       "trailing newline is dropped; not with a password in `url`"},
        [](auto& c) -> auto& { return c.pg.password_file; }},
    Key{KeySpec{.name = "setup_retry", .section = Section::setup,
                .doc = "a database whose setup failed for a reason that may pass (`ConnectionError`, "
                       "`PoolTimeoutError`) is set up again in the background until it succeeds; false: it stays "
                       "failed"},
        [](auto& c) -> auto& { return c.setup.retry; }},
    Key{KeySpec{.name = "setup_retry_max_interval", .kind = Kind::duration, .section = Section::setup,
                .min_inclusive = false, .doc = "longest wait between two background setup attempts"},
        [](auto& c) -> auto& { return c.setup.retry_max_interval; }},
    Key{KeySpec{.name = "prepare_threshold", .kind = Kind::integer, .section = Section::postgresql,
                .backends = Backends::postgresql,
                .doc = "runs of one statement text on a connection after which `execute()` prepares it there; 0: "
                       "never (needed behind PgBouncer in transaction mode)"},
        [](auto& c) -> auto& { return c.pg.prepare_threshold; }},
    Key{KeySpec{.name = "prepared_cache_size", .kind = Kind::integer,
                .doc = "statements kept prepared per connection, the least recently used dropped first; 0: none"},
        [](auto& c) -> auto& { return c.prepared_cache_size; }},
};

/// Every key's spec, in declaration order.
inline constexpr auto key_specs =
    std::apply([](const auto&... k) { return std::array<KeySpec, sizeof...(k)>{k.spec...}; }, keys);

/// The spec of key `name`; null when there is no such key. In a constant expression
/// use is_key() to ask whether there is one: g++ 12 with -fsanitize=undefined cannot
/// compare this pointer with null during constant evaluation.
constexpr const KeySpec* find_key(std::string_view name) noexcept {
  for (const auto& k : key_specs)
    if (k.name == name) return &k;
  return nullptr;
}

constexpr std::size_t key_position(std::string_view name) noexcept {
  for (std::size_t i = 0; i < key_specs.size(); ++i)
    if (key_specs[i].name == name) return i;
  return key_specs.size();
}

/// Whether `name` is a declared key.
constexpr bool is_key(std::string_view name) noexcept { return key_position(name) < key_specs.size(); }

// Each cross rule names declared keys, and an at_most rule's other key is read
// before its key (the check runs as the key is read).
static_assert([] {
  for (const auto& r : cross_rules)
    if (!is_key(r.key) || !is_key(r.other) ||
        (r.relation == CrossRule::at_most && key_position(r.other) > key_position(r.key)))
      return false;
  return true;
}());

}  // namespace appinfra::db::detail
