#pragma once
// Which statements change a SQLite connection beyond its transaction: decided from
// what SQLite's parser reports to the authorizer, not from the SQL text, so that
// `CREATE TABLE temp.t`, a PRAGMA after a comment or in a multi-statement string
// are seen as surely as `CREATE TEMP TABLE`.

#include <sqlite3.h>

#include <string_view>

namespace appinfra::sqlite::detail {

/// Whether an action reported to the authorizer (its code, first and second
/// argument, database name) leaves state on the connection that outlives the
/// transaction: a PRAGMA that sets something, ATTACH and DETACH, a TEMP table,
/// view, index or trigger, or anything created in database `temp`. Transactions are not counted:
/// sqlite3_get_autocommit() says whether one is open. Null arguments are absent.
constexpr bool changes_connection(int action, const char* arg1, const char* arg2, const char* database) noexcept {
  const auto is = [](const char* s, std::string_view v) { return s != nullptr && std::string_view(s) == v; };
  switch (action) {
    case SQLITE_PRAGMA: {
      if (arg2 == nullptr) return false;  // `PRAGMA name`: a read
      // Pragmas whose argument names what to read; they set nothing.
      for (std::string_view r : {"table_info", "table_xinfo", "table_list", "index_info", "index_xinfo",
                                 "index_list", "foreign_key_list", "foreign_key_check", "integrity_check",
                                 "quick_check"})
        if (is(arg1, r)) return false;
      return true;
    }
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
      return true;
    // `CREATE TABLE temp.t` is reported as a plain CREATE in database "temp".
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_VTABLE:
      return is(database, "temp");
    default:
      return false;
  }
}

}  // namespace appinfra::sqlite::detail
