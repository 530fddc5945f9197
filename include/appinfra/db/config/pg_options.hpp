#pragma once
// PostgreSQL's options and their keys (detail::pg_keys), declared here without
// libpqxx so that the configuration (the core) parses them without depending on the
// backend; pg/ re-exports them as pg::Options.

#include <appinfra/db/config/key.hpp>
#include <appinfra/db/url.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <tuple>
#include <string>
#include <vector>

namespace appinfra::db {

/// What stands between the application and the PostgreSQL server (key `pooler`).
/// `transaction`: a pooler in transaction mode (PgBouncer's `pool_mode =
/// transaction`), which may run each transaction on another server connection, so
/// nothing may be left on a session: settings are applied per transaction, session
/// state is refused, nothing is prepared at the protocol level (README, "Behind
/// PgBouncer (transaction mode)").
enum class Pooler { none, transaction };

/// A DatabaseConfig's `pg`: the keys only PostgreSQL reads. Value type.
struct PgOptions {
  using Seconds = std::chrono::duration<double>;

  std::optional<Seconds> statement_timeout;  ///< set on every connection when given
  bool keepalives = true;                    ///< TCP keepalives, unless the url sets them
  /// Runs of one statement text through execute() on a connection after which it
  /// is prepared there (pgjdbc's prepareThreshold, psycopg's prepare_threshold); 0: never.
  /// (0 when `pooler` is transaction and prepare_threshold is not given.)
  std::size_t prepare_threshold = 5;
  Pooler pooler = Pooler::none;  ///< a pooler in transaction mode in front of the server
  // Migrations: created before the migrations run.
  std::vector<std::string> extensions;  ///< CREATE EXTENSION IF NOT EXISTS each; names [a-z][a-z0-9_-]*
  std::string schema;                   ///< CREATE SCHEMA IF NOT EXISTS; name [a-z][a-z0-9_]*
  /// A file holding the password, read for each new connection (a rotated secret
  /// takes effect without a restart); empty: none. Never with a password in the url.
  std::string password_file;

  // Replicas (pg::Replicated): the hosts reads may go to, and when one is fit.
  /// What reads do when no replica is fit: go to the primary, or fail.
  enum class ReplicaFallback { primary, error };
  std::vector<Url> replicas;                  ///< streaming standbys of `url`; empty: none
  Seconds max_replica_lag{10};                ///< a replica further behind is skipped
  Seconds replica_check_interval{1};          ///< how often each host's role and lag are checked
  ReplicaFallback replica_fallback = ReplicaFallback::primary;
};

}  // namespace appinfra::db

namespace appinfra::db::detail {

/// PostgreSQL's keys (PgOptions), in the order of the unknown-key message's list;
/// each is rejected on a sqlite: url, except statement_timeout (accepted and unused
/// on SQLite, as it always was).
inline constexpr std::tuple pg_keys{
    Key{KeySpec{.name = "statement_timeout", .kind = Kind::optional_duration, .section = Section::postgresql,
                .min_inclusive = false, .doc = "set on every connection"},
        field<std::optional<Seconds>>([](auto& c) -> auto& { return c.pg.statement_timeout; })},
    Key{KeySpec{.name = "keepalives", .section = Section::postgresql, .backends = Backends::postgresql,
                .doc = "TCP keepalives, unless the url sets them"},
        field<bool>([](auto& c) -> auto& { return c.pg.keepalives; })},
    Key{KeySpec{.name = "extensions", .kind = Kind::name_list, .section = Section::postgresql,
                .backends = Backends::postgresql, .doc = "created before migrations"},
        field<std::vector<std::string>>([](auto& c) -> auto& { return c.pg.extensions; })},
    Key{KeySpec{.name = "schema", .kind = Kind::name, .section = Section::postgresql,
                .backends = Backends::postgresql, .doc = "created before migrations"},
        field<std::string>([](auto& c) -> auto& { return c.pg.schema; })},
    Key{KeySpec{.name = "password_file", .kind = Kind::text, .section = Section::postgresql,
                .backends = Backends::postgresql,
                .doc = "a file holding the password (Docker and Kubernetes secrets), read for each new connection; one "
                       "trailing newline is dropped; not with a password in `url`"},
        field<std::string>([](auto& c) -> auto& { return c.pg.password_file; })},
    Key{KeySpec{.name = "prepare_threshold", .kind = Kind::integer, .section = Section::postgresql,
                .backends = Backends::postgresql,
                .doc = "runs of one statement text on a connection after which `execute()` prepares it there; 0: "
                       "never; not above 0 with `pooler: transaction`"},
        field<std::size_t>([](auto& c) -> auto& { return c.pg.prepare_threshold; })},
    Key{KeySpec{.name = "replicas", .kind = Kind::url_list, .section = Section::postgresql,
                .backends = Backends::postgresql,
                .doc = "urls of streaming replicas of `url`, for reads asked for with `db::replica` (`pg::Replicated`)"},
        field<std::vector<Url>>([](auto& c) -> auto& { return c.pg.replicas; })},
    Key{KeySpec{.name = "max_replica_lag", .kind = Kind::duration, .section = Section::postgresql,
                .backends = Backends::postgresql,
                .doc = "a replica further behind gets no reads (its lag: the age of its last replayed transaction, "
                       "0 when it has replayed all it received)"},
        field<Seconds>([](auto& c) -> auto& { return c.pg.max_replica_lag; })},
    Key{KeySpec{.name = "replica_check_interval", .kind = Kind::duration, .section = Section::postgresql,
                .min_inclusive = false, .backends = Backends::postgresql,
                .doc = "how often the role and lag of each host of a replicated database are checked"},
        field<Seconds>([](auto& c) -> auto& { return c.pg.replica_check_interval; })},
    Key{KeySpec{.name = "replica_fallback", .kind = Kind::choice, .section = Section::postgresql,
                .choices = "primary|error", .backends = Backends::postgresql,
                .doc = "reads when no replica is fit: to the primary, or a `ConnectionError`"},
        field<PgOptions::ReplicaFallback>([](auto& c) -> auto& { return c.pg.replica_fallback; })},
    Key{KeySpec{.name = "pooler", .kind = Kind::choice, .section = Section::postgresql, .choices = "none|transaction",
                .backends = Backends::postgresql,
                .doc = "`transaction`: a pooler in transaction mode (PgBouncer) is in front of the server: settings "
                       "per transaction, session state refused, nothing prepared (see \"Behind PgBouncer\")"},
        field<Pooler>([](auto& c) -> auto& { return c.pg.pooler; })},
};

}  // namespace appinfra::db::detail

// The keys' accessors need the complete DatabaseConfig by the end of the
// translation unit: keys.hpp brings it.
#include <appinfra/db/config/keys.hpp>
