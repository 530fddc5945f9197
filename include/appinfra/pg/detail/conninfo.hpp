#pragma once
// The text libpq connects with, and the SQL that sets up and resets a session of
// one PostgreSQL database. Pure functions of the configuration, no libpqxx.

#include <appinfra/db/config.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

namespace appinfra::pg::detail {

/// Decodes %XX escapes of a url component.
inline std::string percent_decode(std::string_view s) {
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// True when the server cannot take writes: in recovery (a standby) or with
/// default_transaction_read_only on.
inline constexpr const char* role_sql = "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'";

/// The url as given, plus what it does not say: connect_timeout (without it libpq
/// waits for an unreachable host as long as TCP does) and TCP keepalives (a dead
/// peer is noticed in about two minutes, not hours). Multi-host lists and
/// target_session_attrs pass through to libpq untouched.
inline std::string conninfo(const db::DatabaseConfig& c) {
  std::string text = c.url.text();
  const auto add = [&](std::string_view key, const std::string& value) {
    if (text.find(std::string(key) + "=") != std::string::npos) return;
    text += (text.find('?') == std::string::npos ? "?" : "&") + std::string(key) + "=" + value;
  };
  add("connect_timeout", std::to_string(std::max(2L, static_cast<long>(std::ceil(c.pool_timeout.count())))));
  if (c.keepalives) {
    add("keepalives", "1");
    add("keepalives_idle", "60");
    add("keepalives_interval", "10");
    add("keepalives_count", "6");
  }
  return text;
}

/// The settings every connection of the database is opened with, ';'-separated.
inline std::string session_settings(const db::DatabaseConfig& c, bool read_only) {
  std::string sql;
  // Also the default for autocommit statements; sessions say READ ONLY themselves.
  if (read_only) sql += "SET default_transaction_read_only = on; ";
  if (c.statement_timeout)
    sql += fmt::format("SET statement_timeout = {}; ", static_cast<long long>(c.statement_timeout->count() * 1000.0));
  return sql;
}

/// Run once on a new connection, in one round trip: the settings, then one row
/// whose one column says whether the server cannot take writes (always false for a
/// read-only database, which does not care).
inline std::string session_setup(const db::DatabaseConfig& c, bool read_only) {
  return session_settings(c, read_only) + (read_only ? "SELECT false" : role_sql);
}

/// Run, in one round trip, on a returned connection that a borrower may have
/// changed: what DISCARD ALL does but DEALLOCATE ALL (the prepared statements of
/// the registry stay), then the settings the connection was opened with. Ends an
/// open or failed transaction, SETs (search_path, default_transaction_read_only,
/// roles), cursors, LISTENs, session advisory locks and temporary tables.
inline std::string session_reset(const db::DatabaseConfig& c, bool read_only) {
  return "ROLLBACK; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; CLOSE ALL; UNLISTEN *; "
         "SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES; " +
         session_settings(c, read_only);
}

}  // namespace appinfra::pg::detail
