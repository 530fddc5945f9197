#pragma once
// What the managers do that depends on no backend and no logger: reading an entry's
// configuration, recording setup outcomes, the statistics, setup errors and names
// over every entry. ManagerBase calls these with its entries, and writes the log
// lines they return; compiled once in compiled mode (APPINFRA_DECL).

#include <appinfra/db/config/options.hpp>
#include <appinfra/db/detail/entry_state.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/health.hpp>
#include <appinfra/db/ordered_map.hpp>
#include <appinfra/db/stats.hpp>
#include <appinfra/detail/decl.hpp>

#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace appinfra::db::detail {

/// A manager's entries, in configuration order (they never move).
using Entries = std::vector<EntryState*>;
using ConstEntries = std::vector<const EntryState*>;

/// setup()'s outcome once every entry was tried: whether to start the background
/// retry, and the line to log. Throws SetupError when no database could be set up
/// and none is being retried.
struct SetupOutcome {
  bool retry = false;
  LogRecord record;
};
APPINFRA_DECL SetupOutcome setup_outcome(const ConstEntries& entries);

/// Entry `s`'s validated configuration from `options` (null: declared but not
/// configured). Throws ConfigError.
APPINFRA_DECL DatabaseConfig entry_config(const EntryState& s, const Options* options);
/// Records that `s` is set up by setup() (its first attempt).
APPINFRA_DECL void record_set_up(EntryState& s);
/// Records why `s`'s setup failed and, when the failure may pass and `config`
/// allows it, schedules its retry (taking `config`). Returns the line to log.
APPINFRA_DECL LogRecord record_setup_failure(EntryState& s, const std::exception_ptr& cause,
                                             std::optional<DatabaseConfig>& config, double random_fraction);
/// Records a failure found without building (StaticManager: an undeclared name).
APPINFRA_DECL LogRecord record_failure(EntryState& s, std::string error, std::exception_ptr cause);

APPINFRA_DECL std::vector<std::string> available_names(const ConstEntries& entries);
APPINFRA_DECL OrderedMap<std::string> setup_errors(const ConstEntries& entries);
APPINFRA_DECL ManagerStats manager_stats(const ConstEntries& entries);
/// `s`'s state without its pool (the caller adds the pool's status when set up).
APPINFRA_DECL DatabaseState database_state(const EntryState& s);
/// The health of an entry that is not available: its setup error (and retry
/// schedule), "closed", or nothing before setup(); `recheck` is set when it was set
/// up meanwhile (by the retry thread) and should be checked after all.
APPINFRA_DECL std::optional<HealthResult> unavailable_health(const EntryState& s, bool& recheck);
/// Forgets an entry's retry schedule (close_all(): no longer "retrying").
APPINFRA_DECL void forget_retry(EntryState& s) noexcept;

}  // namespace appinfra::db::detail

#ifndef APPINFRA_SEPARATE_COMPILATION
#include <appinfra/db/detail/impl/manager_core.ipp>
#endif
