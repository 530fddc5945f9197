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

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace appinfra::db::detail {

/// Whether a setup failure may pass by itself, so that setup is tried again: the
/// server refused, was starting, was a standby (ReadOnlyServerError, a standby may be
/// promoted) or did not answer in time. A bad configuration or an unknown url scheme
/// (ConfigError, UnknownDBTypeException) and anything else never pass.
inline bool setup_failure_may_pass(const std::exception_ptr& e) noexcept {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const ConnectionError&) {
    return true;
  } catch (const PoolTimeoutError&) {
    return true;
  } catch (...) {
    return false;
  }
}

/// The wait before background setup attempt `n` (0 for the first after setup()):
/// retry_delay * 2^n (retry_delay at least 10 ms, so that 0 does not spin), capped at
/// setup_retry_max_interval, times a jitter of 0.5 to 1 (`fraction` in [0, 1)), so
/// that processes started together do not retry in lockstep. Never above the cap.
inline std::chrono::duration<double> setup_retry_interval(const DatabaseConfig& c, int n, double fraction) noexcept {
  const double step = std::max(c.pool.retry_delay.count(), 0.01) * std::pow(2.0, std::clamp(n, 0, 60));
  return std::chrono::duration<double>(std::min(step, c.setup.retry_max_interval.count()) *
                                       (0.5 + 0.5 * std::clamp(fraction, 0.0, 1.0)));
}

/// The state every named database entry has, whatever its backend storage.
///
/// Threads: `set_up` is stored (release) once the backend is in place and loaded
/// (acquire) before the backend is touched, so a database set up by the retry thread
/// is safe to use from any thread. What the retry thread changes after setup() (the
/// error, its cause and the retry schedule) is read and written under `mutex`.
struct EntryState {
  using Clock = std::chrono::steady_clock;

  explicit EntryState(std::string n) : name(std::move(n)) {}
  const std::string name;
  bool configured = true;         // false: declared (StaticManager) but missing from the config; fixed by setup()
  std::atomic<bool> set_up{false};
  std::atomic<bool> closed{false};

  mutable std::mutex mutex;       // guards the members below
  std::string error;              // why setup failed (the last attempt); empty otherwise
  std::exception_ptr cause;       // the original exception, nested into db()'s SetupError
  std::optional<DatabaseConfig> retry_config;  // engaged while setup is retried in the background
  int attempts = 0;               // setup attempts made; setup() is the first
  bool attempt_running = false;   // the retry thread is trying now
  Clock::time_point next_attempt{};

  [[nodiscard]] bool available() const noexcept {
    return set_up.load(std::memory_order_acquire) && !closed.load(std::memory_order_acquire);
  }
  /// Why setup failed (a copy), empty if it did not or has since succeeded.
  [[nodiscard]] std::string setup_error() const {
    std::lock_guard lock(mutex);
    return error;
  }
  [[nodiscard]] bool retrying() const {
    std::lock_guard lock(mutex);
    return retry_config.has_value();
  }

  /// "; retrying, next attempt in 1.6 s (attempt 4)" while setup is retried, else
  /// empty. Call with `mutex` held.
  [[nodiscard]] std::string retry_note_locked(Clock::time_point now) const {
    if (!retry_config) return {};
    if (attempt_running || next_attempt <= now) return fmt::format("; retrying, attempt {} under way", attempts + 1);
    return fmt::format("; retrying, next attempt in {:.1f} s (attempt {})",
                       std::chrono::duration<double>(next_attempt - now).count(), attempts + 1);
  }

  /// Returns when the entry is available; otherwise throws the error db(name) gives.
  void require_available() const {
    if (available()) return;
    std::string why;
    std::exception_ptr original;
    {
      std::lock_guard lock(mutex);
      // Again, under the lock: the retry thread may have set it up since the check
      // above, and it clears the error and sets set_up together, under this lock.
      if (available()) return;
      if (!error.empty()) why = std::string(without_db(error, name)) + retry_note_locked(Clock::now());
      original = cause;
    }
    if (!why.empty()) {
      if (!original) throw SetupError(fmt::format("Database '{}' setup failed: {}", name, why));
      try {
        std::rethrow_exception(original);
      } catch (...) {
        std::throw_with_nested(SetupError(fmt::format("Database '{}' setup failed: {}", name, why)));
      }
    }
    if (closed) throw ClosedError(fmt::format("Database '{}' is closed (close_all() was called)", name));
    throw UsageError(fmt::format("Database '{}' is not set up: db() was called before setup(); call setup() first",
                                 name));
  }
};

/// CRTP base. Derived provides `for_each_entry(f)`, calling f(state, backend*) for
/// each entry in configuration order, backend being null when not set up;
/// `setup_entries()`, which calls setup_entry() for each entry; and
/// `build(state, config)`, which emplaces the entry's backend (or throws), used by
/// setup() and by the retry thread alike.
///
/// Background setup retry: one thread per manager, started by setup() only when a
/// database failed for a reason that may pass (setup_failure_may_pass) and has
/// `setup_retry` on. It sleeps on a condition variable until the earliest next
/// attempt, so close_all() (and the destructor) wakes it and joins it at once,
/// waiting at most for an attempt already under way (one connect: each background
/// attempt makes a single connection attempt, the thread's schedule being the backoff).
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
    derived().for_each_entry([&](const EntryState& s, const auto*) {
      std::lock_guard lock(s.mutex);
      if (s.set_up.load(std::memory_order_acquire)) ++ok;
      if (!s.error.empty()) {
        ++failed;
        if (s.retry_config) ++retrying;
        errors += fmt::format("{}'{}': {}", errors.empty() ? "" : "; ", s.name, without_db(s.error, s.name));
      }
    });
    if (ok == 0 && retrying == 0) throw SetupError("Failed to setup any database connections: " + errors);
    if (retrying > 0) retry_thread_ = std::thread([this] { retry_loop(); });
    if (ok == 0)
      detail::log(logger_, log::Level::warning,
                  "no database is available yet: {} failed, {} retried in the background "
                  "(db() throws SetupError until it is up): {}",
                  failed, retrying, errors);
    else if (failed > 0)
      detail::log(logger_, log::Level::warning, "set up {} of {} databases; {} failed{}: {}", ok, ok + failed, failed,
                  retrying > 0 ? fmt::format(" ({} retried in the background)", retrying) : std::string(), errors);
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

  /// Why each failed database failed, in configuration order (a copy). A database
  /// still being retried is listed with its last error; once its setup succeeds it
  /// is no longer listed.
  [[nodiscard]] OrderedMap<std::string> get_setup_errors() const {
    OrderedMap<std::string> out;
    derived().for_each_entry([&](const EntryState& s, const auto*) {
      if (std::string e = s.setup_error(); !e.empty()) out.insert_or_assign(s.name, std::move(e));
    });
    return out;
  }

  /// The seed's five statistics. A database still being retried counts as failed
  /// (failed_setups, failed_databases); once its setup succeeds, as successful and
  /// available.
  [[nodiscard]] ManagerStats get_stats() const {
    ManagerStats st;
    derived().for_each_entry([&](const EntryState& s, const auto*) {
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

  /// Stops the background setup retry (at once; an attempt under way is finished
  /// first), then closes every pool: stops handing out connections, waits up to
  /// `timeout` (altogether, not per database) for checked-out ones to come back, then
  /// closes everything; one still out after that is closed when returned, and logged.
  /// Never throws; safe to call twice. Setup errors are kept; db() then reports the
  /// database as closed, or its setup error when it never came up.
  void close_all(std::chrono::duration<double> timeout = std::chrono::seconds(5)) noexcept {
    stop_retrying();
    derived().for_each_entry([&](EntryState& s, auto*) {
      std::lock_guard lock(s.mutex);
      s.retry_config.reset();  // no longer "retrying" in messages
    });
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
  // Derived destructors call close_all(), which joins the retry thread while their
  // entries still exist; this is the last resort against std::terminate.
  ~ManagerBase() { stop_retrying(); }

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
          wait = setup_retry_interval(*config, 0, random_fraction());
          s.retry_config = std::move(config);
          s.next_attempt = EntryState::Clock::now() + std::chrono::duration_cast<EntryState::Clock::duration>(wait);
        }
      }
      if (again)
        detail::log(logger_, log::Level::error, "failed to setup database '{}': {}; retrying in the background in {:.3f} s",
                    s.name, without_db(e.what(), s.name), wait.count());
      else
        detail::log(logger_, log::Level::error, "failed to setup database '{}': {}", s.name, without_db(e.what(), s.name));
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
    detail::log(logger_, log::Level::error, "failed to setup database '{}': {}", s.name, s.setup_error());
  }

  L logger_;
  Config config_;

 private:
  HealthReport health(const std::string_view* only) {
    HealthReport report;
    std::vector<std::string> recheck;  // set up by the retry thread during this pass
    derived().for_each_entry([&](const EntryState& s, auto* backend) {
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
      derived().for_each_entry([&](const EntryState& s, auto* backend) {
        if (backend == nullptr || std::find(recheck.begin(), recheck.end(), s.name) == recheck.end()) return;
        if (s.available()) report.insert_or_assign(s.name, backend->health_check());
        else report.insert_or_assign(s.name, HealthResult{HealthStatus::unhealthy, 0.0, "closed"});
      });
    return report;
  }

  // The retry thread: sleeps until the earliest next attempt of any retried entry,
  // tries the due ones, and ends when none is left or stop_retrying() is called.
  void retry_loop() noexcept {
    try {
      std::unique_lock lock(retry_mutex_);
      while (!retry_stop_) {
        const auto now = EntryState::Clock::now();
        EntryState* due = nullptr;
        std::optional<EntryState::Clock::time_point> next;
        derived().for_each_entry([&](EntryState& s, auto*) {
          std::lock_guard entry_lock(s.mutex);
          if (!s.retry_config) return;
          if (s.next_attempt <= now) {
            if (due == nullptr) due = &s;
          } else if (!next || s.next_attempt < *next) {
            next = s.next_attempt;
          }
        });
        if (due != nullptr) {
          lock.unlock();  // close_all() may ask to stop meanwhile
          retry_once(*due);
          lock.lock();
          continue;
        }
        if (!next) return;  // nothing left to retry
        retry_cv_.wait_until(lock, *next, [&] { return retry_stop_; });
      }
    } catch (...) {  // a lock that cannot be taken: stop retrying rather than terminate
    }
  }

  void retry_once(EntryState& s) {
    DatabaseConfig config;
    int attempt = 0;
    std::string previous;
    {
      std::lock_guard lock(s.mutex);
      config = *s.retry_config;
      attempt = s.attempts + 1;
      s.attempt_running = true;
      previous = s.error;
    }
    config.pool.max_retries = 0;  // one connection attempt: this thread's schedule is the backoff
    std::exception_ptr failure;
    try {
      derived().build(s, config);
    } catch (...) {
      failure = std::current_exception();
    }
    if (!failure) {
      {
        std::lock_guard lock(s.mutex);
        s.error.clear();
        s.cause = nullptr;
        s.retry_config.reset();
        s.attempts = attempt;
        s.attempt_running = false;
        s.set_up.store(true, std::memory_order_release);
      }
      try {
        detail::log(logger_, log::Level::info, "database '{}' is set up and available (attempt {}, after: {})", s.name,
                    attempt, without_db(previous, s.name));
      } catch (...) {
      }
      return;
    }
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    const bool again = setup_failure_may_pass(failure);
    std::chrono::duration<double> wait{0};
    {
      std::lock_guard lock(s.mutex);
      s.error = what;
      s.cause = failure;
      s.attempts = attempt;
      s.attempt_running = false;
      if (again) {
        wait = setup_retry_interval(*s.retry_config, attempt - 1, random_fraction());
        s.next_attempt = EntryState::Clock::now() + std::chrono::duration_cast<EntryState::Clock::duration>(wait);
      } else {
        s.retry_config.reset();
      }
    }
    try {
      if (!again)
        detail::log(logger_, log::Level::error, "database '{}': setup attempt {} failed ({}); not retried: this error "
                    "does not pass by itself", s.name, attempt, without_db(what, s.name));
      else  // a database down for long would fill the log: say it again when it changes, or at attempts 2, 4, 8, ...
        detail::log(logger_, what != previous || (attempt & (attempt - 1)) == 0 ? log::Level::warning : log::Level::debug,
                    "database '{}': setup attempt {} failed ({}); next attempt in {:.3f} s", s.name, attempt,
                    without_db(what, s.name), wait.count());
    } catch (...) {
    }
  }

  void stop_retrying() noexcept {
    try {
      {
        std::lock_guard lock(retry_mutex_);
        retry_stop_ = true;
      }
      retry_cv_.notify_all();
      if (retry_thread_.joinable()) retry_thread_.join();
    } catch (...) {  // join() cannot fail here (joinable, not this thread); a lock failure leaves it running
    }
  }

  // Jitter for the retry schedule: splitmix64 over a counter and the clock. Used by
  // setup() before the retry thread starts, then by that thread only.
  double random_fraction() noexcept {
    std::uint64_t x = (seed_ += 0x9E3779B97F4A7C15ull) ^
                      static_cast<std::uint64_t>(EntryState::Clock::now().time_since_epoch().count());
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    return static_cast<double>(x >> 11) / static_cast<double>(std::uint64_t{1} << 53);
  }

  Derived& derived() noexcept { return static_cast<Derived&>(*this); }
  const Derived& derived() const noexcept { return static_cast<const Derived&>(*this); }

  bool setup_called_ = false;
  std::uint64_t seed_ = 0;
  std::mutex retry_mutex_;
  std::condition_variable retry_cv_;
  bool retry_stop_ = false;  // guarded by retry_mutex_
  std::thread retry_thread_;
};

}  // namespace appinfra::db::detail
