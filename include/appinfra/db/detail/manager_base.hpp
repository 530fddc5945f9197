#pragma once
// What the run-time Manager and the compile-time StaticManager share: setup
// bookkeeping, setup errors, statistics, health checks and closing.

#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/entry_state.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/detail/manager_core.hpp>
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
    const SetupOutcome outcome = setup_outcome(std::as_const(*this).entries());
    if (outcome.retry)
      retry_.start(entries(), [this](EntryState& s, const DatabaseConfig& c) { derived().build(s, c); }, logger_);
    write(outcome.record);
  }

  /// Names of the databases that are set up and open, in configuration order.
  [[nodiscard]] std::vector<std::string> list_databases() const { return available_names(entries()); }

  /// Why each failed database failed, in configuration order (a copy). A database
  /// still being retried is listed with its last error; once its setup succeeds it
  /// is no longer listed.
  [[nodiscard]] OrderedMap<std::string> get_setup_errors() const { return setup_errors(entries()); }

  /// The seed's five statistics. A database still being retried counts as failed
  /// (failed_setups, failed_databases); once its setup succeeds, as successful and
  /// available.
  [[nodiscard]] ManagerStats get_stats() const { return manager_stats(entries()); }

  /// Every configured database's setup state, setup attempts, last setup failure
  /// kind and (when set up) pool status, in configuration order: what the metrics
  /// (appinfra/db/metrics.hpp) expose. A snapshot; takes no connection.
  [[nodiscard]] std::vector<DatabaseState> get_database_states() const {
    std::vector<DatabaseState> out;
    for_each_entry([&](const EntryState& s, const auto* backend) {
      DatabaseState d = database_state(s);
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
    for_each_entry([](EntryState& s, auto*) { forget_retry(s); });  // no allocation: close_all() is noexcept
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
      config = entry_config(s, options);
      derived().build(s, *config);
      record_set_up(s);
    } catch (const std::exception&) {
      write(record_setup_failure(s, std::current_exception(), config, retry_.random_fraction()));
    }
  }

  /// Records a failure found without building (StaticManager: an undeclared name).
  void record_failure(EntryState& s, std::string error, std::exception_ptr cause) {
    write(detail::record_failure(s, std::move(error), std::move(cause)));
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
      bool set_up_meanwhile = false;
      std::optional<HealthResult> r = unavailable_health(s, set_up_meanwhile);
      if (set_up_meanwhile) recheck.push_back(s.name);
      if (r) report.insert_or_assign(s.name, std::move(*r));  // keeps its place if checked again below
    });
    if (!recheck.empty())
      for_each_entry([&](const EntryState& s, auto* backend) {
        if (backend == nullptr || std::find(recheck.begin(), recheck.end(), s.name) == recheck.end()) return;
        if (s.available()) report.insert_or_assign(s.name, backend->health_check());
        else report.insert_or_assign(s.name, HealthResult{HealthStatus::unhealthy, 0.0, "closed", {}});
      });
    return report;
  }

  // Every entry, in configuration order, for the code that needs no backend.
  Entries entries() {
    Entries out;
    for_each_entry([&](EntryState& s, auto*) { out.push_back(&s); });
    return out;
  }
  ConstEntries entries() const {
    ConstEntries out;
    for_each_entry([&](const EntryState& s, const auto*) { out.push_back(&s); });
    return out;
  }

  void write(const LogRecord& r) const noexcept {
    try {
      log_at(logger_, r.level, "{}", r.message);
    } catch (...) {  // a log line must not break setup or closing
    }
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
