#pragma once
// What the run-time Manager and the compile-time StaticManager share: setup
// bookkeeping, setup errors, statistics, health checks and closing.

#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/entry_state.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/detail/setup_retry.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/health.hpp>
#include <appinfra/db/migrations.hpp>
#include <appinfra/db/ordered_map.hpp>
#include <appinfra/db/stats.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace appinfra::db::detail {

/// `B*` as const as `Self`: the null backend pointer a manager's
/// `visit_entries(self, f)` passes for an entry that is not set up.
template <class Self, class B>
using backend_ptr = std::conditional_t<std::is_const_v<Self>, const B, B>*;

/// CRTP base. Derived provides `static visit_entries(self, f)`, calling
/// f(state, backend*) for each entry of `self` (a const or non-const Derived) in
/// configuration order, backend being null when not set up (see backend_ptr);
/// `setup_entries()`, which calls setup_entry() for each entry; and
/// `build(state, config)`, which emplaces the entry's backend (or throws), used by
/// setup() and by the background retry (SetupRetry) alike.
template <class Derived, Logger L>
class ManagerBase {
 public:
  using logger_type = L;

  [[nodiscard]] const L& logger() const noexcept { return logger_; }
  [[nodiscard]] const Config& config() const noexcept { return config_; }

  /// Sets up every configured database in configuration order. A database that
  /// fails is logged and recorded (get_setup_errors()) and the others go on; one
  /// that failed for a reason that may pass (the server refused, was starting, was
  /// a standby, or did not answer in time) is set up again in the background, with
  /// backoff, until it succeeds, unless its `setup_retry` is false.
  ///
  /// Throws SetupError when the configuration names no database, or when no database
  /// could be set up and none is being retried; UsageError when called twice. When
  /// every database failed but at least one is being retried, setup() returns (and
  /// logs a warning): db() throws SetupError, saying when the next attempt is, until
  /// the database is up.
  void setup() {
    if (setup_called_) throw UsageError("setup() was already called");
    setup_called_ = true;
    if (config_.empty() && !Derived::has_fixed_options)
      throw SetupError("no databases configured: the 'dbs' section is missing or empty");
    derived().setup_entries();
    std::size_t ok = 0, failed = 0, retrying = 0;
    std::string errors;
    for_each_entry([&](const EntryState& s, const auto*) {
      std::lock_guard lock(s.mutex);
      if (s.set_up.load(std::memory_order_acquire)) ++ok;
      if (!s.error.empty()) {
        ++failed;
        if (s.retry_config) ++retrying;
        errors += fmt::format("{}'{}': {}", errors.empty() ? "" : "; ", s.name, without_db(s.error, s.name));
      }
    });
    if (ok == 0 && retrying == 0) throw SetupError("Failed to setup any database connections: " + errors);
    if (retrying > 0)
      retry_.start([this](auto&& f) { for_each_entry(f); },
                   [this](EntryState& s, const DatabaseConfig& c) { derived().build(s, c); }, logger_);
    if (ok == 0)
      log_at(logger_, log::Level::warning,
             "no database is available yet: {} failed, {} retried in the background "
             "(db() throws SetupError until it is up): {}",
             failed, retrying, errors);
    else if (failed > 0)
      log_at(logger_, log::Level::warning, "set up {} of {} databases; {} failed{}: {}", ok, ok + failed, failed,
             retrying > 0 ? fmt::format(" ({} retried in the background)", retrying) : std::string(), errors);
    else
      log_at(logger_, log::Level::info, "set up {} database{}", ok, ok == 1 ? "" : "s");
  }

  /// Names of the databases that are set up and open, in configuration order.
  [[nodiscard]] std::vector<std::string> list_databases() const {
    std::vector<std::string> names;
    for_each_entry([&](const EntryState& s, const auto*) {
      if (s.available()) names.push_back(s.name);
    });
    return names;
  }

  /// Why each failed database failed, in configuration order (a copy). A database
  /// still being retried is listed with its last error; once its setup succeeds it
  /// is no longer listed.
  [[nodiscard]] OrderedMap<std::string> get_setup_errors() const {
    OrderedMap<std::string> out;
    for_each_entry([&](const EntryState& s, const auto*) {
      if (std::string e = s.setup_error(); !e.empty()) out.insert_or_assign(s.name, std::move(e));
    });
    return out;
  }

  /// The seed's five statistics. A database still being retried counts as failed
  /// (failed_setups, failed_databases); once its setup succeeds, as successful and
  /// available.
  [[nodiscard]] ManagerStats get_stats() const {
    ManagerStats st;
    for_each_entry([&](const EntryState& s, const auto*) {
      std::lock_guard lock(s.mutex);  // set_up and error change together, under it
      if (s.configured) ++st.total_configured;
      if (s.set_up.load(std::memory_order_acquire)) {
        ++st.successful_setups;
        if (s.available()) st.available_databases.push_back(s.name);
      }
      if (!s.error.empty()) {
        ++st.failed_setups;
        st.failed_databases.push_back(s.name);
      }
    });
    return st;
  }

  /// Every configured database's setup state, setup attempts, last setup failure
  /// kind and (when set up) pool status, in configuration order: what the metrics
  /// (appinfra/db/metrics.hpp) expose. A snapshot; takes no connection.
  [[nodiscard]] std::vector<DatabaseState> get_database_states() const {
    std::vector<DatabaseState> out;
    for_each_entry([&](const EntryState& s, const auto* backend) {
      DatabaseState d;
      d.name = s.name;
      std::exception_ptr cause;
      {
        std::lock_guard lock(s.mutex);
        d.attempts = s.attempts;
        if (s.set_up.load(std::memory_order_acquire))
          d.state = s.closed.load(std::memory_order_acquire) ? SetupState::closed : SetupState::up;
        else if (!s.error.empty())
          d.state = s.retry_config ? SetupState::retrying : SetupState::failed;
        cause = s.cause;
      }
      if (d.state == SetupState::failed || d.state == SetupState::retrying) d.setup_failure = failure_of(cause);
      if (backend != nullptr && d.state != SetupState::pending) {
        d.has_pool = true;
        d.pool = backend->get_pool_status();
      }
      out.push_back(std::move(d));
    });
    return out;
  }

  /// Health of every configured database, in configuration order: a timed
  /// `SELECT 1` for each available one; a database whose setup failed is unhealthy
  /// with its setup error, and, while it is retried, when the next attempt is.
  /// Never throws for a database's failure.
  [[nodiscard]] HealthReport health_check() { return health(nullptr); }

  /// Health of one database; an unknown name gives an empty report.
  [[nodiscard]] HealthReport health_check(std::string_view name) { return health(&name); }

  /// Migrates every available read-write database with `m` (a read-only backend
  /// has no migrate(): it is skipped, by its type). A database still being retried
  /// is not available, so it is skipped: call migrate() again once it is up
  /// (list_databases()). Every database is tried; if any failed, throws
  /// MigrationError naming each failure after the others ran. Returns what was
  /// applied, by database.
  OrderedMap<MigrateResult> migrate(const Migrations& m, MigrateOptions o = {}) {
    OrderedMap<MigrateResult> out;
    std::string errors;
    for_each_entry([&](EntryState& s, auto* backend) {
      using B = std::remove_pointer_t<decltype(backend)>;
      if constexpr (requires(B& b) { b.migrate(m, o); }) {
        if (backend == nullptr || !s.available()) return;
        try {
          out.insert_or_assign(s.name, backend->migrate(m, o));
        } catch (const std::exception& e) {
          errors += fmt::format("{}{}", errors.empty() ? "" : "; ", e.what());
        }
      }
    });
    if (!errors.empty()) throw MigrationError("migrate failed: " + errors, 0, "");
    return out;
  }

  /// Stops the background setup retry (at once; an attempt under way is finished
  /// first), then closes every pool: stops handing out connections, waits up to
  /// `timeout` (altogether, not per database) for checked-out ones to come back, then
  /// closes everything; one still out after that is closed when returned, and logged.
  /// Never throws; safe to call twice. Setup errors are kept; db() then reports the
  /// database as closed, or its setup error when it never came up.
  void close_all(std::chrono::duration<double> timeout = std::chrono::seconds(5)) noexcept {
    retry_.stop();
    for_each_entry([&](EntryState& s, auto*) {
      std::lock_guard lock(s.mutex);
      s.retry_config.reset();  // no longer "retrying" in messages
    });
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
    for_each_entry([&](EntryState& s, auto* backend) {
      if (backend == nullptr || s.closed.exchange(true)) return;
      if (const std::size_t out = backend->drain(deadline); out > 0) {
        try {
          log_at(logger_, log::Level::warning,
                 "database '{}': {} connection{} still checked out after close_all(); closed when returned",
                 s.name, out, out == 1 ? "" : "s");
        } catch (...) {  // a log line must not break closing
        }
      }
    });
  }

 protected:
  ManagerBase(L logger, Config config) : logger_(std::move(logger)), config_(std::move(config)) {}
  ~ManagerBase() = default;

  [[nodiscard]] bool setup_called() const noexcept { return setup_called_; }

  /// Validates one entry's options and builds it with derived().build(), recording
  /// its failure and scheduling a background retry when the failure may pass.
  void setup_entry(EntryState& s, const Options* options) {
    std::optional<DatabaseConfig> config;
    try {
      if (options == nullptr)
        throw ConfigError(s.name, "", "",
                          fmt::format("database '{}' is declared but has no configuration", s.name));
      config = DatabaseConfig::from(s.name, *options);
      derived().build(s, *config);
      std::lock_guard lock(s.mutex);
      s.attempts = 1;
      s.set_up.store(true, std::memory_order_release);
    } catch (const std::exception& e) {
      const std::exception_ptr cause = std::current_exception();
      const bool again = config && config->setup.retry && setup_failure_may_pass(cause);
      std::chrono::duration<double> wait{0};
      {
        std::lock_guard lock(s.mutex);
        s.error = e.what();
        s.cause = cause;
        s.attempts = 1;
        if (again) {
          wait = setup_retry_interval(*config, 0, retry_.random_fraction());
          s.retry_config = std::move(config);
          s.next_attempt = EntryState::Clock::now() + std::chrono::duration_cast<EntryState::Clock::duration>(wait);
        }
      }
      if (again)
        log_at(logger_, log::Level::error, "failed to setup database '{}': {}; retrying in the background in {:.3f} s",
               s.name, without_db(e.what(), s.name), wait.count());
      else
        log_at(logger_, log::Level::error, "failed to setup database '{}': {}", s.name, without_db(e.what(), s.name));
    }
  }

  /// Records a failure found without building (StaticManager: an undeclared name).
  void record_failure(EntryState& s, std::string error, std::exception_ptr cause) {
    {
      std::lock_guard lock(s.mutex);
      s.error = std::move(error);
      s.cause = std::move(cause);
      s.attempts = 1;
    }
    log_at(logger_, log::Level::error, "failed to setup database '{}': {}", s.name, s.setup_error());
  }

  L logger_;
  Config config_;

 private:
  HealthReport health(const std::string_view* only) {
    HealthReport report;
    std::vector<std::string> recheck;  // set up by the retry thread during this pass
    for_each_entry([&](const EntryState& s, auto* backend) {
      if (only != nullptr && *only != s.name) return;
      if (backend != nullptr && s.available()) {
        report.insert_or_assign(s.name, backend->health_check());
        return;
      }
      HealthResult r;
      {
        std::lock_guard lock(s.mutex);
        if (!s.error.empty()) r.error = "setup failed: " + s.error + s.retry_note_locked(EntryState::Clock::now());
        else if (s.closed) r.error = "closed";
        else if (s.set_up.load(std::memory_order_acquire)) recheck.push_back(s.name);
        else return;  // before setup()
      }
      report.insert_or_assign(s.name, std::move(r));  // keeps its place if checked again below
    });
    if (!recheck.empty())
      for_each_entry([&](const EntryState& s, auto* backend) {
        if (backend == nullptr || std::find(recheck.begin(), recheck.end(), s.name) == recheck.end()) return;
        if (s.available()) report.insert_or_assign(s.name, backend->health_check());
        else report.insert_or_assign(s.name, HealthResult{HealthStatus::unhealthy, 0.0, "closed", {}});
      });
    return report;
  }

  // The Failure kind an exception carries, if any.
  static std::optional<Failure> failure_of(const std::exception_ptr& e) noexcept {
    if (!e) return std::nullopt;
    try {
      std::rethrow_exception(e);
    } catch (const detail::Classified& c) {
      return c.failure();
    } catch (...) {
    }
    return std::nullopt;
  }

  // Derived::visit_entries over this manager, const or not.
  template <class F>
  void for_each_entry(F&& f) {
    Derived::visit_entries(derived(), f);
  }
  template <class F>
  void for_each_entry(F&& f) const {
    Derived::visit_entries(derived(), f);
  }

  Derived& derived() noexcept { return static_cast<Derived&>(*this); }
  const Derived& derived() const noexcept { return static_cast<const Derived&>(*this); }

  bool setup_called_ = false;
  // Last: destroyed (stopped) first. Derived destructors call close_all(), which
  // stops it while their entries still exist; this is the last resort against
  // std::terminate.
  SetupRetry retry_;
};

}  // namespace appinfra::db::detail
