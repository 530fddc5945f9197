#pragma once
// What the run-time Manager and the compile-time StaticManager share: setup
// bookkeeping, setup errors, statistics, health checks and closing.

#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/health.hpp>
#include <appinfra/db/migrations.hpp>
#include <appinfra/db/ordered_map.hpp>
#include <appinfra/db/stats.hpp>

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace appinfra::db::detail {

/// The state every named database entry has, whatever its backend storage.
struct EntryState {
  explicit EntryState(std::string n) : name(std::move(n)) {}
  std::string name;
  std::string error;            // why setup failed; empty otherwise
  std::exception_ptr cause;     // the original exception, nested into db()'s SetupError
  bool configured = true;       // false: declared (StaticManager) but missing from the config
  bool set_up = false;
  std::atomic<bool> closed{false};

  [[nodiscard]] bool available() const noexcept { return set_up && !closed.load(std::memory_order_acquire); }

  /// Throws the error db(name) gives for an entry that is not available.
  [[noreturn]] void throw_unavailable() const {
    if (!error.empty()) {
      try {
        std::rethrow_exception(cause);
      } catch (...) {
        std::throw_with_nested(
            SetupError(fmt::format("Database '{}' setup failed: {}", name, without_db(error, name))));
      }
    }
    if (closed) throw ClosedError(fmt::format("Database '{}' is closed (close_all() was called)", name));
    throw SetupError(fmt::format("Database '{}' is not set up (call setup() first)", name));
  }
};

/// CRTP base. Derived provides `for_each_entry(f)`, calling f(state, backend*) for
/// each entry in configuration order, backend being null when not set up, and
/// `setup_entries()`, which calls setup_entry() for each entry.
template <class Derived, Logger L>
class ManagerBase {
 public:
  using logger_type = L;

  [[nodiscard]] const L& logger() const noexcept { return logger_; }
  [[nodiscard]] const Config& config() const noexcept { return config_; }

  /// Sets up every configured database in configuration order. A database that
  /// fails is logged and recorded (get_setup_errors()) and the others go on.
  /// Throws SetupError when the configuration names no database or when none
  /// could be set up; UsageError when called twice.
  void setup() {
    if (setup_called_) throw UsageError("setup() was already called");
    setup_called_ = true;
    if (config_.empty())
      throw SetupError("no databases configured: the 'dbs' section is missing or empty");
    derived().setup_entries();
    std::size_t ok = 0, failed = 0;
    std::string errors;
    derived().for_each_entry([&](const EntryState& s, const auto*) {
      if (s.set_up) ++ok;
      if (!s.error.empty()) {
        ++failed;
        errors += fmt::format("{}'{}': {}", errors.empty() ? "" : "; ", s.name, without_db(s.error, s.name));
      }
    });
    if (ok == 0) throw SetupError("Failed to setup any database connections: " + errors);
    if (failed > 0)
      detail::log(logger_, log::Level::warning, "set up {} of {} databases; {} failed: {}", ok, ok + failed, failed,
                  errors);
    else
      detail::log(logger_, log::Level::info, "set up {} database{}", ok, ok == 1 ? "" : "s");
  }

  /// Names of the databases that are set up and open, in configuration order.
  [[nodiscard]] std::vector<std::string> list_databases() const {
    std::vector<std::string> names;
    derived().for_each_entry([&](const EntryState& s, const auto*) {
      if (s.available()) names.push_back(s.name);
    });
    return names;
  }

  /// Why each failed database failed, in configuration order (a copy).
  [[nodiscard]] OrderedMap<std::string> get_setup_errors() const {
    OrderedMap<std::string> out;
    derived().for_each_entry([&](const EntryState& s, const auto*) {
      if (!s.error.empty()) out.insert_or_assign(s.name, s.error);
    });
    return out;
  }

  [[nodiscard]] ManagerStats get_stats() const {
    ManagerStats st;
    derived().for_each_entry([&](const EntryState& s, const auto*) {
      if (s.configured) ++st.total_configured;
      if (s.set_up) {
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

  /// Health of every configured database, in configuration order: a timed
  /// `SELECT 1` for each available one; a database whose setup failed is unhealthy
  /// with its setup error. Never throws for a database's failure.
  [[nodiscard]] HealthReport health_check() { return health(nullptr); }

  /// Health of one database; an unknown name gives an empty report.
  [[nodiscard]] HealthReport health_check(std::string_view name) { return health(&name); }

  /// Migrates every available read-write database with `m` (a read-only backend
  /// has no migrate(): it is skipped, by its type). Every database is tried; if
  /// any failed, throws MigrationError naming each failure after the others ran.
  /// Returns what was applied, by database.
  OrderedMap<MigrateResult> migrate(const Migrations& m, MigrateOptions o = {}) {
    OrderedMap<MigrateResult> out;
    std::string errors;
    derived().for_each_entry([&](EntryState& s, auto* backend) {
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

  /// Closes every pool: stops handing out connections, waits up to `timeout`
  /// (altogether, not per database) for checked-out ones to come back, then closes
  /// everything; one still out after that is closed when returned, and logged.
  /// Never throws; safe to call twice. Setup errors are kept; db() then reports the
  /// database as closed.
  void close_all(std::chrono::duration<double> timeout = std::chrono::seconds(5)) noexcept {
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
    derived().for_each_entry([&](EntryState& s, auto* backend) {
      if (backend == nullptr || s.closed.exchange(true)) return;
      if (const std::size_t out = backend->drain(deadline); out > 0) {
        try {
          detail::log(logger_, log::Level::warning,
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

  /// Runs `build(config)` for one entry, recording its failure.
  template <class Build>
  void setup_entry(EntryState& s, const Options* options, Build&& build) {
    try {
      if (options == nullptr)
        throw ConfigError(s.name, "", "",
                          fmt::format("database '{}' is declared but has no configuration", s.name));
      build(DatabaseConfig::from(s.name, *options));
      s.set_up = true;
    } catch (const std::exception& e) {
      s.error = e.what();
      s.cause = std::current_exception();
      detail::log(logger_, log::Level::error, "failed to setup database '{}': {}", s.name,
                  without_db(s.error, s.name));
    }
  }

  L logger_;
  Config config_;

 private:
  HealthReport health(const std::string_view* only) {
    HealthReport report;
    derived().for_each_entry([&](const EntryState& s, auto* backend) {
      if (only != nullptr && *only != s.name) return;
      if (backend != nullptr && s.available()) {
        report.insert_or_assign(s.name, backend->health_check());
      } else if (!s.error.empty() || s.closed) {
        HealthResult r;
        r.error = s.error.empty() ? "closed" : "setup failed: " + s.error;
        report.insert_or_assign(s.name, std::move(r));
      }
    });
    return report;
  }

  Derived& derived() noexcept { return static_cast<Derived&>(*this); }
  const Derived& derived() const noexcept { return static_cast<const Derived&>(*this); }

  bool setup_called_ = false;
};

}  // namespace appinfra::db::detail
