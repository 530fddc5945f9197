#pragma once
// create_db: creating a missing database through the maintenance database.

#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/detail/redact.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/url.hpp>
#include <appinfra/pg/detail/conninfo.hpp>
#include <appinfra/pg/detail/translate.hpp>

#include <fmt/core.h>
#include <pqxx/connection>
#include <pqxx/nontransaction>

#include <string>
#include <string_view>

namespace appinfra::pg::detail {

// libpqxx 6 silently reconnects a broken connection on its next use, losing
// session state unseen; replacing broken connections is the pool's job.
inline void no_reactivation(pqxx::connection& c) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  c.inhibit_reactivation(true);
#pragma GCC diagnostic pop
}

/// Creates the database the url names when it is missing, through the maintenance
/// database `postgres` on the same server. Several processes may start at once: an
/// advisory lock serialises them, and a duplicate_database error from a racing
/// creator counts as success. Throws ConfigError when the url names no database,
/// ConnectionError otherwise; messages show the url redacted (`redact`).
/// `password`: the one read from the database's password_file, if any.
template <class L>
void ensure_database(const L& logger, const db::DatabaseConfig& c, const db::detail::Redactor& redact,
                     std::string_view password = {}) {
  const auto* parse = c.url.libpq();
  const auto* db_param = parse != nullptr ? parse->find("dbname") : nullptr;
  const std::string dbname = db_param != nullptr ? db_param->value : std::string();
  if (dbname.empty())
    throw db::ConfigError(c.name, "create_db", "true",
                          fmt::format("database '{}': key 'create_db' is true but url '{}' names no database", c.name,
                                      c.url.redacted()));
  try {
    pqxx::connection admin(with_password(conninfo(c, "postgres"), password));
    no_reactivation(admin);
    pqxx::nontransaction t(admin);
    t.exec("SELECT pg_advisory_lock(hashtext('appinfra.create_db'))");
    if (t.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", dbname).empty()) {
      try {
        t.exec("CREATE DATABASE " + admin.quote_name(dbname));
        db::detail::log_at(logger, log::Level::info, "database '{}': created database {}", c.name, dbname);
      } catch (const pqxx::sql_error& e) {
        if (e.sqlstate() != "42P04") throw;  // 42P04: duplicate_database
      }
    }
    t.exec("SELECT pg_advisory_unlock(hashtext('appinfra.create_db'))");
  } catch (const pqxx::failure& e) {
    throw db::ConnectionError(fmt::format("database '{}': create_db: cannot create database '{}' on {}: {}", c.name,
                                          dbname, c.url.redacted(), scrub(e.what(), redact)));
  }
}

}  // namespace appinfra::pg::detail
