#pragma once
// Running statements on a sqlite3 connection: binding, stepping, error translation.

#include <appinfra/db/detail/query_log.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/param.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/sqlite/detail/statements.hpp>

#include <fmt/core.h>
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace appinfra::sqlite::detail {

inline std::string error_text(sqlite3* db, int rc) {
  return db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
}

/// The extended result code of a failure `rc` on `db`: what db::classify() needs to
/// tell SQLITE_BUSY_SNAPSHOT or SQLITE_LOCKED_SHAREDCACHE from other errors. The
/// connection's code is taken when it is the same primary error.
inline int extended_code(sqlite3* db, int rc) noexcept {
  if (db == nullptr) return rc;
  const int ext = sqlite3_extended_errcode(db);
  return (ext & 0xff) == (rc & 0xff) ? ext : rc;
}

/// The QueryError for a failure `rc` of `sql` on `db`; sqlstate() is "SQLITE_<extended code>".
inline db::QueryError query_error(sqlite3* db, int rc, std::string_view database, std::string_view sql) {
  const int code = extended_code(db, rc);
  return db::QueryError(fmt::format("database '{}': {} (SQLite error {}) in: {}", database, error_text(db, rc), code,
                                    db::detail::normalize_sql(sql)),
                        fmt::format("SQLITE_{}", code));
}

/// Binds one parameter; integers, floating point, bool, texts, nullptr and
/// std::optional of those.
template <class T>
int bind_one(sqlite3_stmt* st, int i, const T& v) {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<U, db::Param>) {
    switch (v.kind()) {
      case db::Param::Kind::null: return sqlite3_bind_null(st, i);
      case db::Param::Kind::boolean: return sqlite3_bind_int64(st, i, v.boolean() ? 1 : 0);
      case db::Param::Kind::integer: return sqlite3_bind_int64(st, i, v.integer());
      case db::Param::Kind::unsigned_integer: return bind_one(st, i, v.unsigned_integer());
      case db::Param::Kind::real:
      case db::Param::Kind::real32: return sqlite3_bind_double(st, i, v.real());
      case db::Param::Kind::text: break;
    }
    return bind_one(st, i, v.text());
  } else if constexpr (std::is_same_v<U, std::nullptr_t> || std::is_same_v<U, std::nullopt_t>) {
    return sqlite3_bind_null(st, i);
  } else if constexpr (requires { v.has_value(); *v; }) {
    return v.has_value() ? bind_one(st, i, *v) : sqlite3_bind_null(st, i);
  } else if constexpr (std::is_same_v<U, bool> || std::is_integral_v<U>) {
    return sqlite3_bind_int64(st, i, static_cast<sqlite3_int64>(v));
  } else if constexpr (std::is_floating_point_v<U>) {
    return sqlite3_bind_double(st, i, static_cast<double>(v));
  } else if constexpr (std::is_pointer_v<U>) {  // a C string; a null one is NULL, as libpqxx binds it
    return v == nullptr ? sqlite3_bind_null(st, i) : bind_one(st, i, std::string_view(v));
  } else {
    const std::string_view s(v);
    return sqlite3_bind_text64(st, i, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  }
}

/// The index of parameter $i (1-based) in `st`, or `i` when the statement has no
/// $i (it numbers its parameters with `?`). No allocation: this runs per parameter
/// of every statement.
inline int parameter_index(sqlite3_stmt* st, int i) noexcept {
  char name[16] = {'$'};
  char digits[12];
  int n = 0;
  for (int v = i; v > 0; v /= 10) digits[n++] = static_cast<char>('0' + v % 10);
  for (int k = 0; k < n; ++k) name[1 + k] = digits[n - 1 - k];
  name[1 + n] = '\0';
  const int at = sqlite3_bind_parameter_index(st, name);
  return at > 0 ? at : i;
}

/// Runs `sql` on `db`, with the statements `kept` keeps (null: none, each
/// statement prepared and finalized here). Without parameters, several statements
/// separated by ';' may be given and the rows of the last one are returned (such
/// a text is never kept). Parameters are numbered $1, $2, ... as in PostgreSQL
/// (`?` works too). Throws QueryError for what SQLite refuses, UsageError for a
/// parameter count that does not fit (nothing is run then, and the connection
/// stays usable).
template <class... Args>
db::Result exec_kept(Statements* kept, sqlite3* db, const std::string& database, std::string_view sql,
                     const Args&... args) {
  const Statements::Running running(kept);
  Statements* const cache = running.cache();
  std::vector<std::string> columns;
  std::vector<std::optional<std::string>> cells;
  std::int64_t affected = 0;
  const char* tail = sql.data();
  const char* const end = sql.data() + sql.size();
  bool ran = false;
  Statements::Lease st;
  if (cache != nullptr && cache->take(sql, st)) tail = end;  // a kept statement is the whole text
  for (;;) {
    if (st.get() == nullptr) {
      if (tail >= end) break;
      sqlite3_stmt* raw = nullptr;
      if (cache != nullptr) cache->before_prepare();
      const int rc = sqlite3_prepare_v2(db, tail, static_cast<int>(end - tail), &raw, &tail);
      if (rc != SQLITE_OK) throw query_error(db, rc, database, sql);
      if (raw == nullptr) continue;  // white space or a comment
      st.own(raw);
      if (cache != nullptr && !ran && std::string_view(tail, static_cast<std::size_t>(end - tail))
                                              .find_first_not_of(" \t\n\r\f\v") == std::string_view::npos)
        cache->keep(sql, st);
    }
    sqlite3_stmt* const raw = st.get();
    const std::size_t given = db::detail::param_count(args...);
    if (given == 0) {
      if (sqlite3_bind_parameter_count(raw) > 0)  // SQLite would bind NULL to each
        throw db::UsageError(fmt::format("database '{}': statement has {} parameters, none given: {}", database,
                                         sqlite3_bind_parameter_count(raw), db::detail::normalize_sql(sql)));
    } else {
      if (ran)
        throw db::UsageError(fmt::format("database '{}': parameters need a single statement, got several in: {}",
                                         database, db::detail::normalize_sql(sql)));
      const int expected = sqlite3_bind_parameter_count(raw);
      if (expected < 0 || static_cast<std::size_t>(expected) != given)
        throw db::UsageError(fmt::format("database '{}': statement has {} parameters, {} given: {}", database,
                                         expected, given, db::detail::normalize_sql(sql)));
      int i = 0;
      db::detail::for_each_param([&](const auto& a) {
        ++i;
        const int brc = bind_one(raw, parameter_index(raw, i), a);
        if (brc != SQLITE_OK) throw query_error(db, brc, database, sql);
      }, args...);
    }
    ran = true;
    const sqlite3_int64 changes_before = sqlite3_total_changes64(db);
    columns.clear();
    cells.clear();
    // The columns are read after the first step: a kept statement that the step
    // prepared again (the schema changed: ALTER TABLE, DROP and CREATE) may have
    // other columns than before it.
    int rc = sqlite3_step(raw);
    const int ncols = sqlite3_column_count(raw);
    for (int c = 0; c < ncols; ++c) columns.emplace_back(sqlite3_column_name(raw, c));
    for (; rc == SQLITE_ROW; rc = sqlite3_step(raw)) {
      for (int c = 0; c < ncols; ++c) {
        if (sqlite3_column_type(raw, c) == SQLITE_NULL) {
          cells.emplace_back();
        } else {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, c));
          cells.emplace_back(std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(raw, c))));
        }
      }
    }
    if (rc != SQLITE_DONE) throw query_error(db, rc, database, sql);
    // sqlite3_changes64() keeps the count of the last INSERT, UPDATE or DELETE
    // through other statements (DDL, say); the difference of the totals does not.
    affected = sqlite3_total_changes64(db) - changes_before;
    st.own(nullptr);  // reset (kept) or finalized before the next statement
  }
  return db::Result(std::move(columns), std::move(cells), affected);
}

/// exec_kept() without kept statements: each is prepared and finalized here.
template <class... Args>
db::Result exec(sqlite3* db, const std::string& database, std::string_view sql, const Args&... args) {
  return exec_kept(static_cast<Statements*>(nullptr), db, database, sql, args...);
}

/// The first column of the first row of `sql` (no parameters), or nullopt when
/// there is no row or it fails; for the connector's own bookkeeping.
inline std::optional<std::string> query_value(sqlite3* db, const char* sql) noexcept {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK || st == nullptr) return std::nullopt;
  std::optional<std::string> out;
  try {
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
      out = std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                        static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
  } catch (...) {
  }
  sqlite3_finalize(st);
  return out;
}

}  // namespace appinfra::sqlite::detail
