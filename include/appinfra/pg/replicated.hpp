#pragma once
// pg::Replicated: one PostgreSQL database served by a primary and its streaming
// replicas; writes to the primary, reads to a fit replica when the code asks.

#include <appinfra/db/access.hpp>
#include <appinfra/db/concepts/backend.hpp>
#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/deadline.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/detail/transaction.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/health.hpp>
#include <appinfra/db/migrations.hpp>
#include <appinfra/db/pool/queue_pool.hpp>
#include <appinfra/db/replica.hpp>
#include <appinfra/db/stats.hpp>
#include <appinfra/log/logger.hpp>
#include <appinfra/pg/detail/replica_check.hpp>
#include <appinfra/pg/pg.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace appinfra::pg {

/// One PostgreSQL database with a primary (`url`) and streaming replicas
/// (`replicas`, a list of urls). `connect()`, `session()`, `transaction()` and
/// `migrate()` go to the primary, exactly as on PG<>; reads go to a replica only
/// where the code asks for one: `connect(db::replica)`, `session(db::replica)`
/// (read-only connections, as PG<ReadOnly>'s).
///
/// Every host has its own pools (PG<ReadWrite> for writes, opened on the primary
/// only; PG<ReadOnly> for reads and checks) and its own checker thread, which every
/// `replica_check_interval` runs one statement there: its role (in recovery or not)
/// and lag (the age of the last replayed transaction; 0 when all that was received
/// is replayed and the replica is not behind the position the primary reported at
/// its last check: a replica cut off from the primary replays all it received
/// too). A read goes to the fit replicas in turn (round-robin): standbys
/// that answered their last check within `max_replica_lag`; one that is down,
/// starting, too far behind or whose checkout failed is skipped until a check
/// finds it fit again. With none fit, reads go to the primary
/// (`replica_fallback: primary`) or fail with ConnectionError (`error`).
///
/// Roles change without a restart: when the host that takes writes is down or in
/// recovery and another host's check finds it out of recovery (a promoted
/// replica), writes go there. A caller waiting for a write connection tries the
/// current primary `replica_check_interval` at a time until its deadline (or
/// `pool_timeout`), so it follows the switch. A `url` with several hosts and
/// `target_session_attrs=read-write` still fails over inside libpq as on PG<>.
///
/// get_pool_status() sums the hosts' pools and lists each host (HostPoolStatus:
/// role, lag, fitness, its pools); health_check() is the primary's, with each host's
/// state. Errors name the database and the host, never a password.
///
/// Thread safety: every member but close() and drain() is thread-safe. Lifetime:
/// connections and sessions may outlive it. The checker threads are joined by
/// close(), drain() and the destructor.
template <class PoolP = db::UseQueuePool<>, db::Logger L = log::Logger>
class Replicated {
 public:
  using logger_type = L;
  using access_type = db::ReadWrite;
  /// The backend of each host's writes and of its reads.
  using primary_type = detail::BasicPG<db::ReadWrite, PoolP, L>;
  using replica_type = detail::BasicPG<db::ReadOnly, PoolP, L>;
  static constexpr std::string_view schemes = "postgresql, postgres (with replicas)";

  /// A postgresql:// database that is read-write and has `replicas`.
  static bool accepts(const db::DatabaseConfig& c) noexcept {
    const auto& s = c.url.scheme();
    return (s == "postgresql" || s == "postgres") && !c.readonly && !c.pg.replicas.empty();
  }

  /// A connection to the primary: PG<>'s, as a type of its own (a Manager's
  /// AnyConnection holds one alternative per backend).
  class Connection : public primary_type::Connection {
   public:
    explicit Connection(typename primary_type::Connection&& c) : primary_type::Connection(std::move(c)) {}
  };
  /// A session on the primary (see Connection).
  class Session : public primary_type::Session {
   public:
    explicit Session(typename primary_type::Session&& s) : primary_type::Session(std::move(s)) {}
  };
  /// What connect(db::replica) and session(db::replica) return: read-only.
  using ReadConnection = typename replica_type::Connection;
  using ReadSession = typename replica_type::Session;

  /// Opens the primary's pool (throws as PG<> does when it cannot: the Manager
  /// retries), then the replicas' (one that cannot be opened is down until a check
  /// opens it), and waits for each host's first check, at most `pool_timeout`.
  Replicated(const L& logger, const db::DatabaseConfig& config) : logger_(logger), config_(config) {
    hosts_.push_back(std::make_unique<Host>(config, config.url, true));
    for (const auto& u : config.pg.replicas) hosts_.push_back(std::make_unique<Host>(config, u, false));
    Host& first = *hosts_.front();
    first.rw_owner = std::make_unique<primary_type>(logger_, first.rw_config);
    first.rw.store(first.rw_owner.get(), std::memory_order_release);
    try {
      for (auto& h : hosts_) checkers_.emplace_back([this, &h = *h] { run_checks(h); });
    } catch (...) {  // no destructor runs after a constructor throws: join those started
      stop_checks();
      throw;
    }
    std::unique_lock lock(stop_mutex_);
    stop_cv_.wait_for(lock, config_.pool.timeout, [&] { return first_checks_ == hosts_.size(); });
  }
  Replicated(const Replicated&) = delete;
  Replicated& operator=(const Replicated&) = delete;
  ~Replicated() { close(); }

  // Writes: the primary.
  [[nodiscard]] Connection connect(std::source_location where = std::source_location::current()) {
    return connect(db::Deadline{}, where);
  }
  [[nodiscard]] Connection connect(db::Deadline deadline, std::source_location where = std::source_location::current()) {
    return Connection(on_writer(deadline, [&](primary_type& p, db::Deadline checkout) {
      return p.connect_within(checkout, deadline, where);
    }));
  }
  [[nodiscard]] Session session(std::source_location where = std::source_location::current()) {
    return session(db::Deadline{}, where);
  }
  [[nodiscard]] Session session(db::Deadline deadline, std::source_location where = std::source_location::current()) {
    return Session(on_writer(deadline, [&](primary_type& p, db::Deadline checkout) {
      return p.session_within(checkout, deadline, where);
    }));
  }

  // Reads: a fit replica, else the fallback.
  [[nodiscard]] ReadConnection connect(db::ReplicaTag, std::source_location where = std::source_location::current()) {
    return connect(db::replica, db::Deadline{}, where);
  }
  [[nodiscard]] ReadConnection connect(db::ReplicaTag, db::Deadline deadline,
                                       std::source_location where = std::source_location::current()) {
    return on_replica(deadline, [&](replica_type& r, db::Deadline checkout) {
      return r.connect_within(checkout, deadline, where);
    });
  }
  [[nodiscard]] ReadSession session(db::ReplicaTag, std::source_location where = std::source_location::current()) {
    return session(db::replica, db::Deadline{}, where);
  }
  [[nodiscard]] ReadSession session(db::ReplicaTag, db::Deadline deadline,
                                    std::source_location where = std::source_location::current()) {
    return on_replica(deadline, [&](replica_type& r, db::Deadline checkout) {
      return r.session_within(checkout, deadline, where);
    });
  }

  /// PG<>::transaction() on the primary.
  template <class F>
  decltype(auto) transaction(F&& f, int max_attempts = 3, std::source_location where = std::source_location::current()) {
    return db::detail::run_transaction(*this, logger_, std::forward<F>(f), max_attempts, where);
  }

  /// PG<>::migrate() on the primary (the replicas replay it).
  db::MigrateResult migrate(const db::Migrations& m, db::MigrateOptions o = {},
                            std::source_location where = std::source_location::current()) {
    return writer().migrate(m, o, where);
  }
  std::vector<db::MigrationState> migration_status(const db::Migrations& m,
                                                   std::source_location where = std::source_location::current()) {
    return writer().migration_status(m, where);
  }

  /// PG<>::prepare() on every host's pools, those opened later too.
  void prepare(const std::string& name, const std::string& sql) {
    // A pool is published under prepared_mutex_ (reads_of, writes_of): it is
    // either seen here or given the list there.
    std::lock_guard lock(prepared_mutex_);
    prepared_.emplace_back(name, sql);
    each_pool([&](auto& pool) { pool.prepare(name, sql); });
  }

  [[nodiscard]] const std::string& name() const noexcept { return config_.name; }
  [[nodiscard]] const db::DatabaseConfig& config() const noexcept { return config_; }

  /// Each host as its last check found it, in configuration order (`url` first).
  [[nodiscard]] std::vector<db::HostState> host_states() const {
    std::vector<db::HostState> out;
    const std::size_t w = writer_.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < hosts_.size(); ++i) out.push_back(hosts_[i]->state(i == w));
    return out;
  }

  /// The primary's health check (a timed `SELECT 1`), with each host's state.
  /// Never throws.
  [[nodiscard]] db::HealthResult health_check(std::source_location where = std::source_location::current()) noexcept {
    db::HealthResult r = writer().health_check(where);
    try {
      r.hosts = host_states();
    } catch (...) {
    }
    return r;
  }

  /// Every host's pools summed, and each host apart (HostPoolStatus).
  [[nodiscard]] db::PoolStatus get_pool_status() const {
    db::PoolStatus sum;
    const std::size_t w = writer_.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < hosts_.size(); ++i) {
      const Host& h = *hosts_[i];
      db::HostPoolStatus hs{h.state(i == w), std::nullopt, std::nullopt};
      if (const primary_type* p = h.rw.load(std::memory_order_acquire)) hs.writes = p->get_pool_status();
      if (const replica_type* r = h.ro.load(std::memory_order_acquire)) hs.reads = r->get_pool_status();
      if (hs.writes) detail::add_pool_status(sum, *hs.writes);
      if (hs.reads) detail::add_pool_status(sum, *hs.reads);
      sum.hosts.push_back(std::move(hs));
    }
    return sum;
  }

  /// Stops the checks and closes every pool. Idempotent.
  void close() noexcept {
    stop_checks();
    each_pool([](auto& pool) { pool.close(); });
  }
  /// Stops the checks and drains every pool against one deadline; returns how many
  /// connections were still out.
  std::size_t drain(std::chrono::steady_clock::time_point deadline) noexcept {
    stop_checks();
    std::size_t out = 0;
    each_pool([&](auto& pool) { out += pool.drain(deadline); });
    return out;
  }

 private:
  // One host: its configurations, its pools (opened once, kept until the end, so
  // that a pointer read once stays valid), and what its last check found.
  struct Host {
    Host(const db::DatabaseConfig& c, const db::Url& url, bool primary) : configured_primary(primary) {
      rw_config = c;
      rw_config.url = url;
      rw_config.pg.replicas.clear();
      rw_config.create_db = primary && c.create_db;
      if (!primary) rw_config.setup.auto_reconnect = false;  // opened by a check: one attempt
      ro_config = rw_config;
      ro_config.readonly = true;
      ro_config.create_db = false;
      ro_config.setup.auto_reconnect = false;
      shown = url.redacted();
    }

    db::HostState state(bool writer) const {
      db::HostState s;
      s.host = shown;
      s.configured_primary = configured_primary;
      s.role = role.load(std::memory_order_acquire);
      s.writer = writer;
      s.fit = fit.load(std::memory_order_acquire);
      if (const double l = lag_s.load(std::memory_order_relaxed); l >= 0) s.lag_s = l;
      s.checks_total = checks.load(std::memory_order_relaxed);
      s.check_failures_total = check_failures.load(std::memory_order_relaxed);
      std::lock_guard lock(error_mutex);
      s.error = error;
      return s;
    }
    void set_error(std::string e) {
      std::lock_guard lock(error_mutex);
      error = std::move(e);
    }

    db::DatabaseConfig rw_config, ro_config;
    std::string shown;  // the url, password redacted
    bool configured_primary;
    std::mutex open_mutex;  // one opening at a time; taken before prepared_mutex_, never after
    std::unique_ptr<primary_type> rw_owner;
    std::unique_ptr<replica_type> ro_owner;
    std::atomic<primary_type*> rw{nullptr};
    std::atomic<replica_type*> ro{nullptr};
    std::atomic<db::HostRole> role{db::HostRole::unknown};
    std::atomic<bool> fit{false};
    std::atomic<double> lag_s{-1};  // negative: unknown
    std::atomic<std::uint64_t> checks{0}, check_failures{0};
    mutable std::mutex error_mutex;
    std::string error;
  };

  using Seconds = std::chrono::duration<double>;
  [[nodiscard]] std::chrono::steady_clock::duration interval() const {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(config_.pg.replica_check_interval);
  }
  [[nodiscard]] db::Deadline overall(db::Deadline caller) const {
    return caller ? caller : db::Deadline::in(config_.pool.timeout);
  }

  primary_type& writer() const { return *hosts_[writer_.load(std::memory_order_acquire)]->rw.load(std::memory_order_acquire); }

  // Takes a write connection from whichever host takes writes now, trying it one
  // check interval at a time, so that a caller waiting on a primary that is gone
  // moves to its successor as soon as a check finds it.
  template <class Get>
  auto on_writer(db::Deadline caller, Get&& get) {
    const db::Deadline until = overall(caller);
    for (;;) {
      const db::Deadline slice = earliest(until, db::Deadline::in(interval()));
      try {
        return get(writer(), slice);
      } catch (const db::PoolTimeoutError&) {
        if (slice.at >= until.at || until.passed()) throw;
      }
    }
  }

  // Takes a read connection from a fit replica, in turn; a replica whose checkout
  // fails is skipped until its next check; then the fallback.
  template <class Get>
  auto on_replica(db::Deadline caller, Get&& get) {
    const db::Deadline until = overall(caller);
    const std::size_t n = hosts_.size();
    std::size_t fit = 0;
    for (const auto& h : hosts_) fit += h->fit.load(std::memory_order_acquire) ? 1 : 0;
    if (fit > 0) {
      // The k-th fit host first, then the others after it.
      std::size_t k = next_.fetch_add(1, std::memory_order_relaxed) % fit;
      std::size_t start = 0;
      for (std::size_t i = 0; i < n; ++i)
        if (hosts_[i]->fit.load(std::memory_order_acquire) && k-- == 0) {
          start = i;
          break;
        }
      for (std::size_t j = 0; j < n; ++j) {
        Host& h = *hosts_[(start + j) % n];
        replica_type* r = h.ro.load(std::memory_order_acquire);
        if (r == nullptr || !h.fit.load(std::memory_order_acquire)) continue;
        const db::Deadline slice = earliest(until, db::Deadline::in(interval()));
        try {
          return get(*r, slice);
        } catch (const db::PoolTimeoutError& e) {
          if (until.passed()) throw;  // the caller's time is up, not necessarily the replica's fault
          if (saturated(e)) continue;  // busy, not broken: the next fit one, without marking this one
          h.fit.store(false, std::memory_order_release);
          h.set_error(e.what());
        }
      }
    }
    if (config_.pg.replica_fallback == db::PgOptions::ReplicaFallback::error)
      throw db::ConnectionError(no_fit_replica(), "08006");
    return get(reads_of(*hosts_[writer_.load(std::memory_order_acquire)]), until);
  }

  std::string no_fit_replica() const {
    std::string why;
    for (std::size_t i = 1; i < hosts_.size(); ++i) {
      const db::HostState s = hosts_[i]->state(false);
      why += fmt::format("{}{}: {}{}", why.empty() ? "" : "; ", s.host, db::to_string(s.role),
                         s.error.empty() ? "" : " (" + s.error + ")");
    }
    return fmt::format("database '{}': no replica is fit for reads ({}) and replica_fallback is 'error'",
                       config_.name, why);
  }

  // The host's read or write pool, opened now when it has none (one connection
  // attempt), with the prepared statements declared so far.
  replica_type& reads_of(Host& h) { return pool_of(h, h.ro, h.ro_owner, h.ro_config); }
  primary_type& writes_of(Host& h) { return pool_of(h, h.rw, h.rw_owner, h.rw_config); }
  template <class P>
  P& pool_of(Host& h, std::atomic<P*>& published, std::unique_ptr<P>& owner, const db::DatabaseConfig& c) {
    if (P* p = published.load(std::memory_order_acquire)) return *p;
    std::lock_guard lock(h.open_mutex);
    if (owner) return *owner;
    auto made = std::make_unique<P>(logger_, c);  // connects: outside prepared_mutex_
    std::lock_guard p(prepared_mutex_);
    for (const auto& [name, sql] : prepared_) made->prepare(name, sql);
    owner = std::move(made);
    published.store(owner.get(), std::memory_order_release);
    return *owner;
  }
  // Calls f on every pool opened so far, each host's write pool then its read pool.
  template <class F>
  void each_pool(F&& f) const {
    for (const auto& h : hosts_) {
      if (primary_type* p = h->rw.load(std::memory_order_acquire)) f(*p);
      if (replica_type* r = h->ro.load(std::memory_order_acquire)) f(*r);
    }
  }

  // One host's checker: a check now, then one every interval until stopped.
  void run_checks(Host& h) {
    bool first = true;
    std::unique_lock lock(stop_mutex_);
    while (!stop_) {
      lock.unlock();
      check(h);
      lock.lock();
      if (first) {
        first = false;
        ++first_checks_;
        stop_cv_.notify_all();
      }
      stop_cv_.wait_for(lock, config_.pg.replica_check_interval, [&] { return stop_; });
    }
  }

  // The role and lag check, on the host's read pool; never throws.
  void check(Host& h) noexcept {
    h.checks.fetch_add(1, std::memory_order_relaxed);
    try {
      replica_type& r = reads_of(h);
      const auto timeout = std::max<Seconds>(config_.pg.replica_check_interval, Seconds(0.1));
      auto c = r.connect(db::Deadline::in(std::min<Seconds>(timeout, config_.pool.timeout)));
      const db::Result row = c.execute(detail::replica_check_sql);
      const bool in_recovery = row[0][0].template as<bool>();
      const double position = row[0][3].template as<std::optional<double>>().value_or(0);
      if (!in_recovery) primary_position_.store(position, std::memory_order_relaxed);
      const std::optional<double> lag =
          in_recovery ? detail::replica_lag(row[0][1].template as<bool>(),
                                            row[0][2].template as<std::optional<double>>(), position,
                                            primary_position_.load(std::memory_order_relaxed))
                      : std::optional<double>(0.0);
      const detail::CheckVerdict v = detail::judge(in_recovery, lag, config_.pg.max_replica_lag.count());
      h.lag_s.store(lag ? *lag : -1, std::memory_order_relaxed);
      h.set_error(v.error);
      const db::HostRole was = h.role.exchange(v.role, std::memory_order_acq_rel);
      // A promoted replica takes the writes before it stops taking reads: the reads
      // that then fall back go to it, not to the primary it replaced.
      if (v.role == db::HostRole::primary) follow_primary();
      h.fit.store(v.fit, std::memory_order_release);
      if (was != v.role && was != db::HostRole::unknown)
        db::detail::log_at(logger_, log::Level::warning, "database '{}': host {} is now {} (was {})", config_.name,
                           h.shown, db::to_string(v.role), db::to_string(was));
    } catch (const std::exception& e) {
      if (saturated(e)) return;  // its connections are all busy: it is up; the state stands until a check gets through
      h.check_failures.fetch_add(1, std::memory_order_relaxed);
      const db::HostRole role = starting(e) ? db::HostRole::starting : db::HostRole::down;
      h.fit.store(false, std::memory_order_release);
      h.lag_s.store(-1, std::memory_order_relaxed);
      const db::HostRole was = h.role.exchange(role, std::memory_order_acq_rel);
      follow_primary();  // when this host took the writes, another primary may take them now
      try {  // what allocates last, so that a failure here loses only the message
        h.set_error(e.what());
        if (was != role)
          db::detail::log_at(logger_, log::Level::warning, "database '{}': host {} is {}: {}", config_.name, h.shown,
                             db::to_string(role), e.what());
      } catch (...) {
      }
    } catch (...) {
      h.check_failures.fetch_add(1, std::memory_order_relaxed);
      h.fit.store(false, std::memory_order_release);
      h.role.store(db::HostRole::down, std::memory_order_release);
    }
  }

  // Whether `e` is the PoolTimeoutError of a pool whose connections are all in use
  // (one of a database that cannot be reached nests the connect error).
  static bool saturated(const std::exception& e) {
    if (dynamic_cast<const db::PoolTimeoutError*>(&e) == nullptr) return false;
    try {
      std::rethrow_if_nested(e);
    } catch (...) {
      return false;
    }
    return true;
  }

  // Whether the error (or one it nests) says the server is starting up (57P03).
  static bool starting(const std::exception& e) {
    if (const auto* c = dynamic_cast<const db::ConnectionError*>(&e); c && c->failure() == db::Failure::server_starting)
      return true;
    try {
      std::rethrow_if_nested(e);
    } catch (const std::exception& nested) {
      return starting(nested);
    } catch (...) {
    }
    return false;
  }

  // When the host taking writes is no longer a primary and another is (promoted),
  // writes go there. A primary that is still one keeps them (no flapping between
  // two primaries after a split).
  void follow_primary() noexcept {
    std::lock_guard lock(writer_mutex_);
    const std::size_t w = writer_.load(std::memory_order_acquire);
    const db::HostRole now = hosts_[w]->role.load(std::memory_order_acquire);
    if (now == db::HostRole::primary || now == db::HostRole::unknown) return;  // unknown: not checked yet
    for (std::size_t i = 0; i < hosts_.size(); ++i) {
      Host& h = *hosts_[i];
      if (i == w || h.role.load(std::memory_order_acquire) != db::HostRole::primary) continue;
      try {
        writes_of(h);
      } catch (const std::exception& e) {
        h.set_error(e.what());
        continue;
      } catch (...) {
        continue;
      }
      writer_.store(i, std::memory_order_release);
      try {
        db::detail::log_at(logger_, log::Level::warning, "database '{}': writes now go to {} ({} is {})",
                           config_.name, h.shown, hosts_[w]->shown,
                           db::to_string(hosts_[w]->role.load(std::memory_order_acquire)));
      } catch (...) {  // the switch is made; only its message is lost
      }
      return;
    }
  }

  void stop_checks() noexcept {
    {
      std::lock_guard lock(stop_mutex_);
      stop_ = true;
    }
    stop_cv_.notify_all();
    for (auto& t : checkers_)
      if (t.joinable()) t.join();
  }

  L logger_;
  db::DatabaseConfig config_;
  std::vector<std::unique_ptr<Host>> hosts_;  // url first, then replicas; fixed after construction
  std::atomic<std::size_t> writer_{0};        // the host that takes writes
  std::atomic<double> primary_position_{0};   // a primary's WAL position at its last check (replica_lag)
  std::atomic<std::size_t> next_{0};          // round-robin over fit replicas
  std::mutex writer_mutex_;
  std::mutex prepared_mutex_;
  std::vector<std::pair<std::string, std::string>> prepared_;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::size_t first_checks_ = 0;
  std::vector<std::thread> checkers_;  // last: started once everything else exists
};

}  // namespace appinfra::pg

static_assert(appinfra::db::Interface<appinfra::pg::Replicated<>>);
