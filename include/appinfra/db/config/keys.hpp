#pragma once
// Every configuration key, declared once (detail::keys): the core's here,
// PostgreSQL's with its options (db/config/pg_options.hpp). From that list come
// the known-key list of the unknown-key error, the defaults (each field's default
// member initializer), the validation and its messages (DatabaseConfig::from), and
// the README's option table (detail::options_table_markdown).

#include <appinfra/db/config/key.hpp>
#include <appinfra/db/config/pg_options.hpp>
#include <appinfra/db/config/query_log.hpp>
#include <appinfra/db/config/setup_options.hpp>
#include <appinfra/db/pool/options.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

namespace appinfra::db::detail {

/// The rules between two keys.
inline constexpr std::array cross_rules{
    CrossRule{CrossRule::at_most, "min_idle", "pool_size"},
    // pre_ping_window 0 asks for a round trip on every checkout: the default grace follows it.
    CrossRule{CrossRule::at_most, "pre_ping_grace", "pre_ping_window", true},
    CrossRule{CrossRule::not_both, "create_db", "readonly", false, "a read-only database cannot create itself"},
    // A pooler in transaction mode runs each transaction where it likes: a prepared
    // statement is on one server connection only (PgBouncer 1.18 does not track them).
    CrossRule{CrossRule::not_both, "prepare_threshold", "pooler", true,
              "a statement prepared on one server connection is not on the next; leave prepare_threshold out (it is "
              "then 0) or set it to 0"},
    // CREATE DATABASE cannot run in a transaction, and the advisory lock that keeps
    // processes starting together from racing must outlive one.
    CrossRule{CrossRule::not_both, "create_db", "pooler", false,
              "CREATE DATABASE runs outside a transaction, under a session advisory lock, which a pooler in "
              "transaction mode cannot keep: create the database with a configuration that connects to the server "
              "directly (no pooler), e.g. appinfra-db create-db"},
};

/// The keys of every database, whatever its backend (the pool's among them).
inline constexpr std::tuple core_keys{
    Key{KeySpec{.name = "url", .kind = Kind::text, .required = true, .doc = "the scheme picks the backend"},
        field<Url>([](auto& c) -> auto& { return c.url; })},
    Key{KeySpec{.name = "readonly", .doc = "picks the `ReadOnly` backend"},
        field<bool>([](auto& c) -> auto& { return c.readonly; })},
    Key{KeySpec{.name = "create_db", .doc = "create the database if missing; not with `readonly`"},
        field<bool>([](auto& c) -> auto& { return c.create_db; })},
    Key{KeySpec{.name = "pool_size", .kind = Kind::integer, .section = Section::pool, .min = 1,
                .doc = "connections kept"},
        field<std::size_t>([](auto& c) -> auto& { return c.pool.pool_size; })},
    Key{KeySpec{.name = "max_overflow", .kind = Kind::integer, .section = Section::pool,
                .doc = "extra connections under load"},
        field<std::size_t>([](auto& c) -> auto& { return c.pool.max_overflow; })},
    Key{KeySpec{.name = "pool_timeout", .kind = Kind::duration, .section = Section::pool, .min_inclusive = false,
                .doc = "longest wait for a connection"},
        field<Seconds>([](auto& c) -> auto& { return c.pool.timeout; })},
    Key{KeySpec{.name = "pool_recycle", .kind = Kind::duration, .section = Section::pool, .min = -1,
                .doc = "maximum age of a connection; negative: never"},
        field<Seconds>([](auto& c) -> auto& { return c.pool.recycle; })},
    Key{KeySpec{.name = "pool_pre_ping", .section = Section::pool,
                .doc = "check a connection at checkout: a socket check (unless within `pre_ping_grace`), a round "
                       "trip after `pre_ping_window` idle"},
        field<bool>([](auto& c) -> auto& { return c.pool.pre_ping; })},
    Key{KeySpec{.name = "echo", .section = Section::query_log, .doc = "log every statement (at info)"},
        field<bool>([](auto& c) -> auto& { return c.query_log.echo; })},
    Key{KeySpec{.name = "auto_reconnect", .section = Section::setup,
                .doc = "retry a failed connect at setup; false: no retries"},
        field<bool>([](auto& c) -> auto& { return c.setup.auto_reconnect; })},
    Key{KeySpec{.name = "max_retries", .kind = Kind::integer, .section = Section::setup,
                .doc = "connect retries at setup (none on SQLite)"},
        field<int>([](auto& c) -> auto& { return c.pool.max_retries; })},
    Key{KeySpec{.name = "retry_delay", .kind = Kind::duration, .section = Section::setup,
                .doc = "first backoff delay, doubled each retry (at setup, and between background setup attempts)"},
        field<Seconds>([](auto& c) -> auto& { return c.pool.retry_delay; })},
    Key{KeySpec{.name = "query_lg_level", .kind = Kind::level, .section = Section::query_log,
                .choices = "trace|debug|info|warning|error|critical|off", .doc = "log every statement at this level"},
        field<std::optional<log::Level>>([](auto& c) -> auto& { return c.query_log.level; })},
    Key{KeySpec{.name = "pool_reuse", .kind = Kind::choice, .section = Section::pool, .choices = "lifo|fifo",
                .doc = "idle connection taken: most recently returned (`lifo`) or least (`fifo`)"},
        field<ReuseOrder>([](auto& c) -> auto& { return c.pool.reuse; })},
    Key{KeySpec{.name = "pool_recycle_jitter", .kind = Kind::number, .section = Section::pool, .max = 1.0,
                .doc = "each connection's maximum age is shortened by up to this fraction, at random"},
        field<double>([](auto& c) -> auto& { return c.pool.recycle_jitter; })},
    Key{KeySpec{.name = "pre_ping_window", .kind = Kind::duration, .section = Section::pool,
                .doc = "idle time from which pre-ping makes a round trip"},
        field<Seconds>([](auto& c) -> auto& { return c.pool.pre_ping_window; })},
    Key{KeySpec{.name = "pre_ping_grace", .kind = Kind::duration, .section = Section::pool,
                .doc = "a connection checked out last less than this ago (held and idle together) is handed out "
                       "unchecked (HikariCP's `aliveBypassWindowMs`); 0: check every checkout"},
        field<Seconds>([](auto& c) -> auto& { return c.pool.pre_ping_grace; })},
    Key{KeySpec{.name = "min_idle", .kind = Kind::integer, .section = Section::pool,
                .doc = "connections opened at setup and never closed for idleness"},
        field<std::size_t>([](auto& c) -> auto& { return c.pool.min_idle; })},
    Key{KeySpec{.name = "lazy_min_idle", .section = Section::pool, .doc = "open only one connection at setup"},
        field<bool>([](auto& c) -> auto& { return c.pool.lazy_min_idle; })},
    Key{KeySpec{.name = "idle_timeout", .kind = Kind::duration, .section = Section::pool, .min = -1,
                .doc = "close connections idle this long, down to `min_idle`; negative: never"},
        field<Seconds>([](auto& c) -> auto& { return c.pool.idle_timeout; })},
    Key{KeySpec{.name = "overflow_idle_timeout", .kind = Kind::duration, .section = Section::pool, .min = -1,
                .doc = "close connections beyond `pool_size` idle this long; 0: on return; negative: never"},
        field<Seconds>([](auto& c) -> auto& { return c.pool.overflow_idle_timeout; })},
    Key{KeySpec{.name = "handoff_after", .kind = Kind::duration, .section = Section::pool,
                .doc = "a caller that has waited this long for a connection is handed the next one returned; until "
                       "then whoever asks first takes it; 0: strict first come, first served"},
        field<Seconds>([](auto& c) -> auto& { return c.pool.handoff_after; })},
    Key{KeySpec{.name = "hold_warning", .kind = Kind::duration, .section = Section::pool, .min = -1,
                .doc = "log a connection held this long; negative: never"},
        field<Seconds>([](auto& c) -> auto& { return c.pool.hold_warning; })},
    Key{KeySpec{.name = "query_log_params", .section = Section::query_log,
                .doc = "log parameter values with statements"},
        field<bool>([](auto& c) -> auto& { return c.query_log.params; })},
    Key{KeySpec{.name = "setup_retry", .section = Section::setup,
                .doc = "a database whose setup failed for a reason that may pass (`ConnectionError`, "
                       "`PoolTimeoutError`) is set up again in the background until it succeeds; false: it stays "
                       "failed"},
        field<bool>([](auto& c) -> auto& { return c.setup.retry; })},
    Key{KeySpec{.name = "setup_retry_max_interval", .kind = Kind::duration, .section = Section::setup,
                .min_inclusive = false, .doc = "longest wait between two background setup attempts"},
        field<Seconds>([](auto& c) -> auto& { return c.setup.retry_max_interval; })},
    Key{KeySpec{.name = "prepared_cache_size", .kind = Kind::integer,
                .doc = "statements kept prepared per connection, the least recently used dropped first; 0: none"},
        field<std::size_t>([](auto& c) -> auto& { return c.prepared_cache_size; })},
};

// std::tuple_cat and std::apply instantiate their machinery over every key; one pack
// expansion is enough.
template <class... A, class... B, std::size_t... I, std::size_t... J>
constexpr std::tuple<A..., B...> join_keys(const std::tuple<A...>& a, const std::tuple<B...>& b,
                                           std::index_sequence<I...>, std::index_sequence<J...>) {
  return {std::get<I>(a)..., std::get<J>(b)...};
}
template <class Keys, std::size_t... I>
constexpr std::array<KeySpec, sizeof...(I)> specs_of(const Keys& k, std::index_sequence<I...>) {
  return {std::get<I>(k).spec...};
}

/// Every key, in the order of the unknown-key message's list (and of reading): the
/// core's, then PostgreSQL's (pg_keys, declared with PgOptions).
inline constexpr auto keys =
    join_keys(core_keys, pg_keys, std::make_index_sequence<std::tuple_size_v<decltype(core_keys)>>{},
              std::make_index_sequence<std::tuple_size_v<decltype(pg_keys)>>{});

/// Every key's spec, in declaration order.
inline constexpr auto key_specs = specs_of(keys, std::make_index_sequence<std::tuple_size_v<decltype(keys)>>{});

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

// The keys' accessors are instantiated at the end of the translation unit, where
// they need the complete DatabaseConfig.
#include <appinfra/db/config/database_config.hpp>
