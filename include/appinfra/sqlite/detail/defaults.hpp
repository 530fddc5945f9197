#pragma once
// What an in-memory SQLite connection was opened with, and how a reset puts it
// back: its data lives in that one connection, so it is never reopened.

#include <appinfra/sqlite/detail/exec.hpp>

#include <sqlite3.h>

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace appinfra::sqlite::detail {

/// Quotes `s` for SQL: `quote` doubled inside, around both ends.
inline std::string quoted(std::string_view s, char quote) {
  std::string out(1, quote);
  for (char c : s) {
    out += c;
    if (c == quote) out += c;
  }
  return out + quote;
}

/// The connection-scoped settings a borrower can change with a PRAGMA (or through
/// native()), read when the connection was opened. Settings stored in the database
/// itself (user_version, page_size, auto_vacuum, ...) are data, not listed.
inline constexpr std::string_view connection_pragmas[] = {
    "analysis_limit", "automatic_index", "busy_timeout", "cache_size", "cache_spill", "cell_size_check",
    "defer_foreign_keys", "foreign_keys", "ignore_check_constraints", "journal_mode", "legacy_alter_table",
    "locking_mode", "mmap_size", "query_only", "read_uncommitted", "recursive_triggers",
    "reverse_unordered_selects", "secure_delete", "synchronous", "temp_store", "threads", "trusted_schema",
    "writable_schema"};

/// A connection's settings as opened: the pragmas above (and case_sensitive_like,
/// which cannot be read: found from what LIKE does) and the sqlite3_limit()s.
struct Defaults {
  std::vector<std::pair<std::string, std::string>> pragmas;
  std::array<int, SQLITE_LIMIT_WORKER_THREADS + 1> limits{};

  static Defaults read(sqlite3* db) {
    Defaults d;
    for (std::string_view p : connection_pragmas)
      if (auto v = query_value(db, ("PRAGMA " + std::string(p)).c_str())) d.pragmas.emplace_back(p, std::move(*v));
    if (auto like = query_value(db, "SELECT 'a' LIKE 'A'"))
      d.pragmas.emplace_back("case_sensitive_like", *like == "1" ? "0" : "1");
    for (int i = 0; i <= SQLITE_LIMIT_WORKER_THREADS; ++i)
      d.limits[static_cast<std::size_t>(i)] = sqlite3_limit(db, i, -1);
    return d;
  }
};

/// Undoes, on a connection with no open transaction, what a borrower may have
/// changed beyond a transaction: callbacks set through native() are removed, the
/// limits and pragmas are those of `d` again, attached databases are detached, and
/// TEMP tables, views and triggers are dropped. What it cannot undo: functions,
/// collations and extensions added through native(), sqlite3_db_config() options,
/// and process-wide settings (soft_heap_limit, hard_heap_limit). Returns false when
/// a step failed (the others are still done).
inline bool restore(sqlite3* db, const Defaults& d) noexcept {
  bool ok = true;
  const auto run = [&](const std::string& sql) {
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) ok = false;
  };
  try {
    sqlite3_commit_hook(db, nullptr, nullptr);
    sqlite3_rollback_hook(db, nullptr, nullptr);
    sqlite3_update_hook(db, nullptr, nullptr);
    sqlite3_progress_handler(db, 0, nullptr, nullptr);
    sqlite3_trace_v2(db, 0, nullptr, nullptr);
    for (int i = 0; i <= SQLITE_LIMIT_WORKER_THREADS; ++i) sqlite3_limit(db, i, d.limits[static_cast<std::size_t>(i)]);
    run("PRAGMA query_only = OFF");  // for the DROPs; set back with the other pragmas below
    // Attached databases: main is 0 and temp 1; the others are detached.
    for (int i = 2; const char* name = sqlite3_db_name(db, i);) {
      if (sqlite3_exec(db, ("DETACH " + detail::quoted(name, '"')).c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
        ok = false;
        ++i;  // skip the one that stays
      }
    }
    // TEMP objects: triggers first (a temp trigger may be on a main table), then
    // views, then tables (their indexes go with them).
    for (const char* type : {"trigger", "view", "table"}) {
      std::vector<std::string> names;
      sqlite3_stmt* st = nullptr;
      const std::string list = fmt::format(
          "SELECT name FROM temp.sqlite_master WHERE type = '{}' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", type);
      if (sqlite3_prepare_v2(db, list.c_str(), -1, &st, nullptr) != SQLITE_OK) {
        ok = false;
      } else {
        while (sqlite3_step(st) == SQLITE_ROW)
          names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
      }
      sqlite3_finalize(st);
      for (const auto& n : names) run(fmt::format("DROP {} IF EXISTS temp.{}", type, detail::quoted(n, '"')));
    }
    for (const auto& [name, value] : d.pragmas) run("PRAGMA " + name + " = " + detail::quoted(value, '\''));
  } catch (...) {  // memory for a statement's text
    return false;
  }
  return ok;
}

}  // namespace appinfra::sqlite::detail
