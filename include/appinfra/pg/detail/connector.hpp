#pragma once
// The connector of a PostgreSQL database: opens, checks and resets its pooled
// connections; holds what they share (the query log, the prepared statements).

#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/failure_counter.hpp>
#include <appinfra/db/detail/query_log.hpp>
#include <appinfra/db/detail/statement_cache.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/pg/detail/conninfo.hpp>
#include <appinfra/pg/detail/create_database.hpp>
#include <appinfra/pg/detail/password_file.hpp>
#include <appinfra/pg/detail/pg_conn.hpp>
#include <appinfra/pg/detail/pooler.hpp>
#include <appinfra/pg/detail/prepared.hpp>
#include <appinfra/pg/detail/server_message.hpp>
#include <appinfra/pg/detail/translate.hpp>

#include <fmt/core.h>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace appinfra::pg::detail {

/// Opens connections to one PostgreSQL database.
template <class L>
class Connector {
 public:
  using connection_type = PgConn;

  /// Throws ConfigError (key 'url') for a url libpq would reject or misread
  /// (db::Url::problem(): an unencoded '@' or '/' in the password, a NUL, a bad
  /// percent escape, an unknown parameter), without quoting it; and ConfigError (key
  /// 'password_file', naming the path) for a password_file it cannot read.
  Connector(const L& logger, const db::DatabaseConfig& c, bool read_only)
      : name_(checked(c)),
        redact_(c.pg.password_file.empty() ? db::detail::Redactor(c.url) : db::detail::Redactor(c.url).learning()),
        conninfo_(conninfo(c)),
        target_(c.url.redacted()),
        config_(c),
        read_only_(read_only),
        setup_sql_(session_setup(c, read_only)),
        reset_sql_(session_reset(c, read_only)),
        pooled_transaction_(PooledTransaction::of(c, read_only)),
        logger_(logger),
        query_log_(logger, c.name, c.query_log_level(), c.query_log.params, redact_) {
    // A file missing at setup is a mistake in the configuration, not a passing failure.
    if (!c.pg.password_file.empty())
      if (const auto r = read_password_file(c.pg.password_file); !r.error.empty())
        throw db::ConfigError(name_, "password_file", db::detail::shown(c.pg.password_file),
                              password_file_error(name_, c.pg.password_file, r.error));
    if (c.create_db) ensure_database();
  }

  [[nodiscard]] bool read_only() const noexcept { return read_only_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const L& logger() const noexcept { return logger_; }
  [[nodiscard]] const db::detail::QueryLog<L>& query_log() const noexcept { return query_log_; }
  [[nodiscard]] ErrorContext errors() const noexcept { return {name_, redact_, read_only_}; }
  [[nodiscard]] const PreparedRegistry& prepared() const noexcept { return prepared_; }
  /// A pooler in transaction mode is in front of the server (key `pooler`).
  [[nodiscard]] bool behind_pooler() const noexcept { return behind_transaction_pooler(config_); }
  /// What wraps an autocommit statement behind such a pooler (empty otherwise).
  [[nodiscard]] const PooledTransaction& pooled_transaction() const noexcept { return pooled_transaction_; }
  /// Runs of a statement text on a connection before execute() prepares it; 0: never,
  /// and always behind a pooler in transaction mode, however the configuration was
  /// built (statement names are per connection: another client's could be found).
  [[nodiscard]] std::size_t prepare_threshold() const noexcept {
    return behind_pooler() ? 0 : config_.pg.prepare_threshold;
  }
  /// The automatic preparation's counters, summed over this database's connections.
  [[nodiscard]] db::detail::StatementCacheCounters& statement_cache_counters() const noexcept {
    return *cache_counters_;
  }
  /// Adds them to get_pool_status().
  void add_to(db::PoolStatus& s) const noexcept { cache_counters_->add_to(s); }
  /// Failures by kind, for get_pool_status(): open(), round_trip() and every
  /// statement (run_statement) count theirs.
  [[nodiscard]] const db::detail::FailureCounter& failures() const noexcept { return failures_; }

  /// Creates the database when it is missing (see detail::ensure_database). Behind
  /// a pooler in transaction mode a ConfigError: its session advisory lock and the
  /// CREATE DATABASE outside a transaction need the server itself.
  void ensure_database() const {
    if (behind_pooler())
      throw db::ConfigError(name_, "pooler", "'transaction'",
                            fmt::format("database '{}': create_db / create_database() cannot work behind a pooler in "
                                        "transaction mode (key 'pooler' is 'transaction'): CREATE DATABASE runs "
                                        "outside a transaction, under a session advisory lock; create the database "
                                        "with a configuration that connects to the server directly (no pooler)",
                                        name_));
    detail::ensure_database(logger_, config_, redact_, password());
  }

  /// Registers a prepared statement for every connection of this database.
  void prepare(const std::string& name, const std::string& sql) { prepared_.add(name_, name, sql); }

  /// One connection attempt (the pool retries). Throws ConnectionError naming the
  /// database and the url without its password, with the server's SQLSTATE when it
  /// gave one (57P03: starting up), or ReadOnlyServerError. With a password_file,
  /// the password is read from it now (ConnectionError naming the path when it
  /// cannot be): a rotated secret takes effect at the next connection.
  [[nodiscard]] PgConn open() const {
    return failures_.counting([&] { return open_once(); });
  }

  /// Without a round trip: is the socket still open, with nothing but benign
  /// messages waiting (read_pending)? Anything it cannot judge gets a ping.
  bool alive(PgConn& conn) const noexcept {
    if (!conn.pq || !conn.pq->is_open() || !conn.goodbye->sqlstate.empty()) return false;
    const int fd = conn.pq->sock();
    if (fd < 0) return false;
    char bytes[512];
    const ssize_t n = ::recv(fd, bytes, sizeof bytes, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return false;                                                     // closed by the server
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;  // nothing waiting
    switch (read_pending(std::string_view(bytes, static_cast<std::size_t>(n))).verdict) {
      case Pending::usable: return true;
      case Pending::dead: return false;
      case Pending::ask: break;
    }
    return ping(conn);
  }

  /// A round trip on a connection that libpq still thinks is open: `SELECT 1`, or
  /// for a read-write database the role check, which a `SELECT 1` would pass on a
  /// server that turned read-only after a failover.
  bool ping(PgConn& conn) const noexcept {
    if (!conn.pq || !conn.pq->is_open()) return false;
    try {
      pqxx::nontransaction t(*conn.pq);
      if (read_only_) {
        t.exec("SELECT 1");
        return true;
      }
      return !t.exec(role_sql)[0][0].as<bool>();
    } catch (...) {
      return false;
    }
  }

  /// Undoes what a borrower left on a dirty connection (session_reset), in one
  /// round trip; a clean one costs nothing. False: close it instead.
  bool reset(PgConn& conn) const noexcept {
    if (!conn.dirty) return true;
    try {
      pqxx::nontransaction t(*conn.pq);
      t.exec(reset_sql_);
      conn.dirty = false;
      return true;
    } catch (...) {
      return false;
    }
  }

  /// One `SELECT 1`, throwing appinfra's errors.
  void round_trip(PgConn& conn) const {
    failures_.counting([&] {
      translate(errors(), &conn, [] {}, [&] {
        pqxx::nontransaction t(*conn.pq);
        t.exec("SELECT 1");
      });
    });
  }

 private:
  [[nodiscard]] PgConn open_once() const {
    std::unique_ptr<pqxx::connection> c;
    bool server_read_only = false;
    const std::string pw = password();
    try {
      c = std::make_unique<pqxx::connection>(pw.empty() ? conninfo_ : with_password(conninfo_, pw));
      no_reactivation(*c);
      // One round trip: the session's settings, and for a read-write database the
      // server's role.
      pqxx::nontransaction t(*c);
      const pqxx::result r = t.exec(setup_sql_);
      server_read_only = !read_only_ && r[0][0].as<bool>();
    } catch (const pqxx::failure& e) {
      std::string state = sqlstate_of_goodbye(e.what());
      throw db::ConnectionError(
          fmt::format("database '{}': cannot connect to {}: {}", name_, target_, scrub(e.what(), redact_)),
          state.empty() ? "08001" : state);
    }
    if (server_read_only)
      throw db::ReadOnlyServerError(fmt::format("database '{}': the server at {} is read-only (in recovery, or "
                                                "default_transaction_read_only is on); a read-write database needs the "
                                                "primary",
                                                name_, target_));
    return PgConn(std::move(c), config_.prepared_cache_size);
  }

  static const std::string& checked(const db::DatabaseConfig& c) {
    if (const std::string why = c.url.problem(); !why.empty())
      throw db::ConfigError(c.name, "url", "'" + c.url.redacted() + "'",
                            fmt::format("database '{}': key 'url' is not a connection string libpq reads as written: "
                                        "{} (url '{}')",
                                        c.name, why, c.url.redacted()));
    return c.name;
  }

  // The password in the password_file now, learnt by the redactor before any use;
  // empty without a password_file.
  std::string password() const {
    const std::string& path = config_.pg.password_file;
    if (path.empty()) return {};
    PasswordFileRead r = read_password_file(path);
    if (!r.error.empty()) throw db::ConnectionError(password_file_error(name_, path, r.error), "08001");
    redact_.learn(r.password);
    return std::move(r.password);
  }

  std::string name_;
  db::detail::Redactor redact_;
  std::string conninfo_;
  std::string target_;
  db::DatabaseConfig config_;
  bool read_only_;
  std::string setup_sql_;
  std::string reset_sql_;
  PooledTransaction pooled_transaction_;
  L logger_;
  PreparedRegistry prepared_;
  db::detail::QueryLog<L> query_log_;
  // On the heap: the connector moves into its pool, atomics do not move.
  std::unique_ptr<db::detail::StatementCacheCounters> cache_counters_ =
      std::make_unique<db::detail::StatementCacheCounters>();
  db::detail::FailureCounter failures_;
};

}  // namespace appinfra::pg::detail
