#pragma once
// appinfra-db's commands, over a Manager of both backends. Each returns the exit
// code: 0 when every database did what was asked, 1 when one did not.

#include "config_source.hpp"

#include <appinfra/db.hpp>
#include <appinfra/db/metrics.hpp>
#include <appinfra/pg.hpp>
#include <appinfra/sqlite.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace appinfra_db {

namespace db = appinfra::db;
using Manager = db::Manager<appinfra::pg::PG<>, appinfra::pg::PG<db::ReadOnly>, appinfra::pg::Replicated<>,
                            appinfra::sqlite::SQLite<>, appinfra::sqlite::SQLite<db::ReadOnly>>;

/// Sets up every database once. A database that failed is recorded by the Manager
/// (get_setup_errors(), health_check()); when all failed, setup() throws and the
/// commands report each one from those records.
inline void set_up(Manager& m) {
  try {
    m.setup();
  } catch (const db::SetupError&) {
  }
}

/// `text` on one line: libpq's messages continue on indented lines ("\n\tIs the
/// server running..."), and each database gets one line.
inline std::string one_line(std::string_view text) {
  std::string out;
  bool space = false;
  for (const char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || (space && c == ' ')) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

inline std::size_t name_width(const Manager& m) {
  std::size_t w = 0;
  for (const auto& [name, options] : m.config()) w = std::max(w, name.size());
  return w;
}

/// Prints why each database that failed setup failed; true when none did.
inline bool report_setup_errors(const Manager& m) {
  const auto errors = m.get_setup_errors();
  for (const auto& [name, error] : errors) fmt::print(stderr, "appinfra-db: database '{}': setup failed: {}\n", name, one_line(error));
  return errors.empty();
}

inline int check(Manager& m) {
  set_up(m);
  const auto report = m.health_check();
  const std::size_t w = name_width(m);
  bool all = true;
  for (const auto& [name, r] : report) {
    if (r.healthy()) {
      fmt::print("{:<{}}  healthy    {:.2f} ms\n", name, w, r.response_time_ms);
    } else {
      all = false;
      fmt::print("{:<{}}  unhealthy  {}\n", name, w, one_line(r.error));
    }
  }
  return all ? 0 : 1;
}

inline int status(Manager& m, bool json) {
  set_up(m);
  const db::ManagerStats st = m.get_stats();
  if (json) {
    fmt::print("{}\n", db::metrics_json(m));
    return st.failed_setups == 0 ? 0 : 1;
  }
  const auto errors = m.get_setup_errors();
  for (const auto& [name, options] : m.config()) {
    if (const std::string* e = errors.find(name)) {
      fmt::print("{}: setup failed: {}\n", name, one_line(*e));
      continue;
    }
    const db::PoolStatus p = m.db(name).get_pool_status();
    fmt::print("{}: up\n", name);
    fmt::print("  pool: size {}, idle {}, checked out {}, overflow {}, total {}, waiting {}, invalid {}\n", p.pool_size,
               p.checked_in, p.checked_out, p.overflow, p.total_connections, p.waiting, p.invalid);
    if (p.statistics) {
      fmt::print("  since setup: acquired {}, timeouts {}, created {}, recycled {}, invalidated {}\n", p.acquired_total,
                 p.timeouts_total, p.created_total, p.recycled_total, p.invalidated_total);
      fmt::print("  acquire wait p50 {:.3f} ms, p99 {:.3f} ms; hold p50 {:.3f} ms, p99 {:.3f} ms\n",
                 p.acquire_wait_p50_ms, p.acquire_wait_p99_ms, p.hold_time_p50_ms, p.hold_time_p99_ms);
      fmt::print("  statement cache: hits {}, misses {}, evictions {}\n", p.statement_cache_hits_total,
                 p.statement_cache_misses_total, p.statement_cache_evictions_total);
    }
  }
  fmt::print("{} configured, {} set up, {} failed\n", st.total_configured, st.successful_setups, st.failed_setups);
  return st.failed_setups == 0 ? 0 : 1;
}

/// Calls f(name, backend) for each available read-write database (one that can
/// migrate); says which are skipped as read-only. Returns false when a database
/// failed setup or f threw (its error printed).
template <class F>
bool for_each_writable(Manager& m, F&& f) {
  bool ok = report_setup_errors(m);
  for (const auto& name : m.list_databases()) {
    try {
      m.db(name).visit([&](auto& backend) {
        if constexpr (requires { backend.migration_status(db::Migrations{}); })
          f(name, backend);
        else
          fmt::print("{}: read-only, skipped\n", name);
      });
    } catch (const std::exception& e) {
      ok = false;
      std::fflush(stdout);
      // The library's errors name the database already (MigrationError, QueryError).
      const std::string what = one_line(e.what());
      if (what.find("database '" + name + "'") != std::string::npos) fmt::print(stderr, "appinfra-db: {}\n", what);
      else fmt::print(stderr, "appinfra-db: database '{}': {}\n", name, what);
    }
  }
  return ok;
}

/// The migrations up to `version` (Migrations holds no hooks here: they come from
/// a folder).
inline db::Migrations up_to(const db::Migrations& all, std::int64_t version) {
  db::Migrations out;
  for (const auto& mig : all.list())
    if (mig.version <= version) out.add(mig.version, mig.name, mig.sql);
  return out;
}

inline std::string name_of(const db::Migrations& all, std::int64_t version) {
  for (const auto& mig : all.list())
    if (mig.version == version) return mig.name;
  return {};
}

inline db::Migrations read_migrations(const std::string& dir, std::optional<std::int64_t> to) {
  db::Migrations all = db::Migrations::from_directory(dir);
  if (to && std::none_of(all.list().begin(), all.list().end(), [&](const db::Migration& x) { return x.version == *to; }))
    throw UsageError(fmt::format("--to {}: no migration has that version in '{}'", *to, dir));
  return all;
}

/// Applies the pending migrations up to `to` (all without it) one at a time, each
/// through the backend's migrate() (its lock, transaction and record), so that
/// each one's progress and time can be shown.
inline int migrate(Manager& m, const std::string& dir, bool dry_run, std::optional<std::int64_t> to) {
  const db::Migrations all = read_migrations(dir, to);
  const std::int64_t target = to ? *to : all.list().empty() ? 0 : all.list().back().version;
  set_up(m);
  using Clock = std::chrono::steady_clock;
  const bool ok = for_each_writable(m, [&](const std::string& name, auto& backend) {
    // A dry run first, always: it refuses an edited migration before anything runs.
    const db::MigrateResult plan = backend.migrate(up_to(all, target), {.dry_run = true});
    if (plan.applied.empty()) {
      fmt::print("{}: up to date ({} applied{})\n", name, plan.skipped,
                 to ? fmt::format(", target version {}", target) : std::string());
      return;
    }
    fmt::print("{}: {} pending{}\n", name, plan.applied.size(), to ? fmt::format(" up to version {}", target) : "");
    if (dry_run) {
      for (const auto v : plan.applied) fmt::print("{}: would apply {} {}\n", name, v, name_of(all, v));
      fmt::print("{}: dry run, nothing changed\n", name);
      return;
    }
    const auto start = Clock::now();
    std::size_t done = 0;
    for (const auto v : plan.applied) {
      fmt::print("{}: applying {} {} ... ", name, v, name_of(all, v));
      std::fflush(stdout);
      const auto t0 = Clock::now();
      const db::MigrateResult r = backend.migrate(up_to(all, v));
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      const bool ran = std::find(r.applied.begin(), r.applied.end(), v) != r.applied.end();
      fmt::print("{} in {:.1f} ms\n", ran ? "done" : "already applied by another runner", ms);
      done += ran ? 1 : 0;
    }
    fmt::print("{}: applied {} migration{} in {:.1f} ms\n", name, done, done == 1 ? "" : "s",
               std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  });
  return ok ? 0 : 1;
}

/// Each migration's state on each database. Exit 1 also when one was edited after
/// it was applied (`modified`): migrate would refuse to run.
inline int migration_status(Manager& m, const std::string& dir) {
  const db::Migrations all = db::Migrations::from_directory(dir);
  set_up(m);
  bool modified = false;
  const bool ok = for_each_writable(m, [&](const std::string& name, auto& backend) {
    const auto states = backend.migration_status(all);
    std::size_t w = 4;
    for (const auto& s : states) w = std::max(w, s.name.size());
    fmt::print("{}:\n", name);
    if (states.empty()) fmt::print("  no migrations in '{}'\n", dir);
    for (const auto& s : states) {
      modified = modified || s.state == db::MigrationState::modified;
      fmt::print("  {:>6}  {:<{}}  {:<8}  {}\n", s.version, s.name.empty() ? "?" : s.name, w, db::to_string(s.state),
                 s.applied_at);
    }
  });
  return ok && !modified ? 0 : 1;
}

/// Setup with create_db on (select() sets it): PostgreSQL creates a missing
/// database (under an advisory lock), SQLite a missing file.
inline int create_db(Manager& m) {
  set_up(m);
  bool ok = report_setup_errors(m);
  for (const auto& name : m.list_databases()) {
    const bool readonly = m.db(name).visit([](auto& b) { return b.config().readonly; });
    if (readonly) fmt::print("{}: read-only, skipped (create it through a read-write configuration)\n", name);
    else fmt::print("{}: exists (created if it was missing)\n", name);
  }
  return ok ? 0 : 1;
}

}  // namespace appinfra_db
