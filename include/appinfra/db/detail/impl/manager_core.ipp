#pragma once
// The definitions of db/detail/manager_core.hpp (APPINFRA_DECL): included by it in
// header-only mode; compiled once into the library with APPINFRA_SEPARATE_COMPILATION.

#include <appinfra/db/detail/manager_core.hpp>
#include <appinfra/db/detail/setup_retry.hpp>

#include <fmt/core.h>

#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace appinfra::db::detail {

namespace manager_core {
// The Failure kind an exception carries, if any.
inline std::optional<Failure> failure_of(const std::exception_ptr& e) noexcept {
  if (!e) return std::nullopt;
  try {
    std::rethrow_exception(e);
  } catch (const Classified& c) {
    return c.failure();
  } catch (...) {
  }
  return std::nullopt;
}
}  // namespace manager_core

APPINFRA_DECL SetupOutcome setup_outcome(const ConstEntries& entries) {
  std::size_t ok = 0, failed = 0, retrying = 0;
  std::string errors;
  for (const EntryState* s : entries) {
    std::lock_guard lock(s->mutex);
    if (s->set_up.load(std::memory_order_acquire)) ++ok;
    if (!s->error.empty()) {
      ++failed;
      if (s->retry_config) ++retrying;
      errors += fmt::format("{}'{}': {}", errors.empty() ? "" : "; ", s->name, without_db(s->error, s->name));
    }
  }
  if (ok == 0 && retrying == 0) throw SetupError("Failed to setup any database connections: " + errors);
  SetupOutcome out;
  out.retry = retrying > 0;
  if (ok == 0)
    out.record = {log::Level::warning,
                  fmt::format("no database is available yet: {} failed, {} retried in the background "
                              "(db() throws SetupError until it is up): {}",
                              failed, retrying, errors)};
  else if (failed > 0)
    out.record = {log::Level::warning,
                  fmt::format("set up {} of {} databases; {} failed{}: {}", ok, ok + failed, failed,
                              retrying > 0 ? fmt::format(" ({} retried in the background)", retrying) : std::string(),
                              errors)};
  else
    out.record = {log::Level::info, fmt::format("set up {} database{}", ok, ok == 1 ? "" : "s")};
  return out;
}

APPINFRA_DECL DatabaseConfig entry_config(const EntryState& s, const Options* options) {
  if (options == nullptr)
    throw ConfigError(s.name, "", "", fmt::format("database '{}' is declared but has no configuration", s.name));
  return DatabaseConfig::from(s.name, *options);
}

APPINFRA_DECL void record_set_up(EntryState& s) {
  std::lock_guard lock(s.mutex);
  s.attempts = 1;
  s.set_up.store(true, std::memory_order_release);
}

APPINFRA_DECL LogRecord record_setup_failure(EntryState& s, const std::exception_ptr& cause,
                                             std::optional<DatabaseConfig>& config, double random_fraction) {
  std::string what = "unknown error";
  try {
    std::rethrow_exception(cause);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  const bool again = config && config->setup.retry && setup_failure_may_pass(cause);
  std::chrono::duration<double> wait{0};
  {
    std::lock_guard lock(s.mutex);
    s.error = what;
    s.cause = cause;
    s.attempts = 1;
    if (again) {
      wait = setup_retry_interval(*config, 0, random_fraction);
      s.retry_config = std::move(config);
      s.next_attempt = EntryState::Clock::now() + std::chrono::duration_cast<EntryState::Clock::duration>(wait);
    }
  }
  if (again)
    return {log::Level::error, fmt::format("failed to setup database '{}': {}; retrying in the background in {:.3f} s",
                                           s.name, without_db(what, s.name), wait.count())};
  return {log::Level::error, fmt::format("failed to setup database '{}': {}", s.name, without_db(what, s.name))};
}

APPINFRA_DECL LogRecord record_failure(EntryState& s, std::string error, std::exception_ptr cause) {
  {
    std::lock_guard lock(s.mutex);
    s.error = std::move(error);
    s.cause = std::move(cause);
    s.attempts = 1;
  }
  return {log::Level::error, fmt::format("failed to setup database '{}': {}", s.name, s.setup_error())};
}

APPINFRA_DECL std::vector<std::string> available_names(const ConstEntries& entries) {
  std::vector<std::string> names;
  for (const EntryState* s : entries)
    if (s->available()) names.push_back(s->name);
  return names;
}

APPINFRA_DECL OrderedMap<std::string> setup_errors(const ConstEntries& entries) {
  OrderedMap<std::string> out;
  for (const EntryState* s : entries)
    if (std::string e = s->setup_error(); !e.empty()) out.insert_or_assign(s->name, std::move(e));
  return out;
}

APPINFRA_DECL ManagerStats manager_stats(const ConstEntries& entries) {
  ManagerStats st;
  for (const EntryState* s : entries) {
    std::lock_guard lock(s->mutex);  // set_up and error change together, under it
    if (s->configured) ++st.total_configured;
    if (s->set_up.load(std::memory_order_acquire)) {
      ++st.successful_setups;
      if (s->available()) st.available_databases.push_back(s->name);
    }
    if (!s->error.empty()) {
      ++st.failed_setups;
      st.failed_databases.push_back(s->name);
    }
  }
  return st;
}

APPINFRA_DECL DatabaseState database_state(const EntryState& s) {
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
  if (d.state == SetupState::failed || d.state == SetupState::retrying) d.setup_failure = manager_core::failure_of(cause);
  return d;
}

APPINFRA_DECL std::optional<HealthResult> unavailable_health(const EntryState& s, bool& recheck) {
  HealthResult r;
  std::lock_guard lock(s.mutex);
  if (!s.error.empty()) r.error = "setup failed: " + s.error + s.retry_note_locked(EntryState::Clock::now());
  else if (s.closed) r.error = "closed";
  else if (s.set_up.load(std::memory_order_acquire)) recheck = true;
  else return std::nullopt;  // before setup()
  return r;
}

APPINFRA_DECL void forget_retry(EntryState& s) noexcept {
  std::lock_guard lock(s.mutex);
  s.retry_config.reset();  // no longer "retrying" in messages
}

}  // namespace appinfra::db::detail
