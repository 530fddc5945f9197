#pragma once
// The text libpq connects with, and the SQL that sets up and resets a session of
// one PostgreSQL database. Pure functions of the configuration, no libpqxx.

#include <appinfra/db/config.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace appinfra::pg::detail {

/// True when the server cannot take writes: in recovery (a standby) or with
/// default_transaction_read_only on.
inline constexpr const char* role_sql = "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'";

/// A value quoted for a libpq key/value string: inside '...', a backslash
/// escapes the next character.
inline std::string conninfo_quote(std::string_view value) {
  std::string out = "'";
  for (char ch : value) {
    if (ch == '\\' || ch == '\'') out += '\\';
    out += ch;
  }
  return out + "'";
}

/// The text libpq connects with: the url read as libpq reads it (a URL or a
/// key/value string; db::detail::parse_conninfo), written again as a key/value
/// string, so that nothing in a value (a '?' or a '=' in the password) can be taken
/// for structure and an upper-case scheme works; plus what the url does not say:
/// connect_timeout (without it libpq waits for an unreachable host as long as TCP
/// does) and TCP keepalives (a dead peer is noticed in about two minutes, not
/// hours). `dbname`, when given, replaces the database (create_db connects to
/// `postgres`). Multi-host lists and target_session_attrs pass through untouched.
/// A url libpq would reject is returned as written: the connector refuses it first.
inline std::string conninfo(const db::DatabaseConfig& c, std::string_view dbname = {}) {
  const auto* parse = c.url.libpq();
  if (parse == nullptr || !parse->ok()) return c.url.text();
  std::vector<std::pair<std::string, std::string>> params;  // the last value of each key, in first-seen order
  const auto set = [&](std::string_view key, std::string value, bool replace) {
    for (auto& [k, v] : params)
      if (k == key) {
        if (replace) v = std::move(value);
        return;
      }
    params.emplace_back(std::string(key), std::move(value));
  };
  for (const auto& p : parse->params) set(p.key, p.value, true);
  if (!dbname.empty()) set("dbname", std::string(dbname), true);
  set("connect_timeout", std::to_string(std::max(2L, static_cast<long>(std::ceil(c.pool.timeout.count())))), false);
  if (c.pg.keepalives) {
    set("keepalives", "1", false);
    set("keepalives_idle", "60", false);
    set("keepalives_interval", "10", false);
    set("keepalives_count", "6", false);
  }
  std::string text;
  for (const auto& [k, v] : params) text += (text.empty() ? "" : " ") + k + "=" + conninfo_quote(v);
  return text;
}

/// `conninfo` (from conninfo()) with the password read from a password_file, when
/// there is one; a url with a password of its own takes no password_file
/// (DatabaseConfig::from), so this is the only one libpq reads.
inline std::string with_password(std::string conninfo, std::string_view password) {
  if (password.empty()) return conninfo;
  return conninfo + (conninfo.empty() ? "" : " ") + "password=" + conninfo_quote(password);
}

/// The settings every connection of the database is opened with, ';'-separated.
inline std::string session_settings(const db::DatabaseConfig& c, bool read_only) {
  std::string sql;
  // Also the default for autocommit statements; sessions say READ ONLY themselves.
  if (read_only) sql += "SET default_transaction_read_only = on; ";
  if (c.pg.statement_timeout)
    sql += fmt::format("SET statement_timeout = {}; ",
                       static_cast<long long>(c.pg.statement_timeout->count() * 1000.0));
  return sql;
}

/// Whether a pooler in transaction mode is in front of the server (key `pooler`):
/// nothing may then be left on a session, settings are applied per transaction.
inline bool behind_transaction_pooler(const db::DatabaseConfig& c) noexcept {
  return c.pg.pooler == db::Pooler::transaction;
}

/// Behind a pooler in transaction mode, the settings each transaction begins with
/// (SET LOCAL, which ends with it), ';'-separated; empty when there are none. The
/// read-only access mode is said by the BEGIN itself.
inline std::string transaction_settings(const db::DatabaseConfig& c) {
  if (!c.pg.statement_timeout) return {};
  return fmt::format("SET LOCAL statement_timeout = {}",
                     static_cast<long long>(c.pg.statement_timeout->count() * 1000.0));
}

/// Run once on a new connection, in one round trip: the settings, then one row
/// whose one column says whether the server cannot take writes (always false for a
/// read-only database, which does not care). Behind a pooler in transaction mode no
/// setting is sent: it would stay on a server connection other clients use next.
inline std::string session_setup(const db::DatabaseConfig& c, bool read_only) {
  return (behind_transaction_pooler(c) ? std::string() : session_settings(c, read_only)) +
         (read_only ? "SELECT false" : role_sql);
}

/// Run, in one round trip, on a returned connection that a borrower may have
/// changed: what DISCARD ALL does but DEALLOCATE ALL (the prepared statements of
/// the registry stay), then the settings the connection was opened with. Ends an
/// open or failed transaction, SETs (search_path, default_transaction_read_only,
/// roles), cursors, LISTENs, session advisory locks and temporary tables.
///
/// Behind a pooler in transaction mode only the ROLLBACK: the next transaction may
/// run on another server connection, so nothing else can be undone from here (and
/// a RESET ALL or pg_advisory_unlock_all() would act on whichever server connection
/// the pooler picked); what could be left is refused before it is sent instead.
inline std::string session_reset(const db::DatabaseConfig& c, bool read_only) {
  if (behind_transaction_pooler(c)) return "ROLLBACK";
  return "ROLLBACK; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; CLOSE ALL; UNLISTEN *; "
         "SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES; " +
         session_settings(c, read_only);
}

}  // namespace appinfra::pg::detail
