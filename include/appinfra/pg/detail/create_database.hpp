#pragma once
// create_db: creating a missing database through the maintenance database.

#include <appinfra/db/detail/log.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/url.hpp>
#include <appinfra/pg/detail/conninfo.hpp>
#include <appinfra/pg/detail/translate.hpp>

#include <fmt/core.h>
#include <pqxx/connection>
#include <pqxx/nontransaction>

#include <string>

namespace appinfra::pg::detail {

// libpqxx 6 silently reconnects a broken connection on its next use, losing
// session state unseen; replacing broken connections is the pool's job.
inline void no_reactivation(pqxx::connection& c) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  c.inhibit_reactivation(true);
#pragma GCC diagnostic pop
}

/// Creates the database `url` names when it is missing, through the maintenance
/// database `postgres` on the same server. Several processes may start at once: an
/// advisory lock serialises them, and a duplicate_database error from a racing
/// creator counts as success. Throws ConfigError when the url names no database,
/// ConnectionError otherwise.
template <class L>
void ensure_database(const L& logger, const std::string& name, const db::Url& url, const std::string& password) {
  const std::string dbname = percent_decode(url.path());
  if (dbname.empty())
    throw db::ConfigError(name, "create_db", "true",
                          fmt::format("database '{}': key 'create_db' is true but url '{}' names no database", name,
                                      url.redacted()));
  try {
    const std::string admin_url = url.with_path("postgres");
    pqxx::connection admin(admin_url + (admin_url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=10");
    no_reactivation(admin);
    pqxx::nontransaction t(admin);
    t.exec("SELECT pg_advisory_lock(hashtext('appinfra.create_db'))");
    if (t.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", dbname).empty()) {
      try {
        t.exec("CREATE DATABASE " + admin.quote_name(dbname));
        db::detail::log(logger, log::Level::info, "database '{}': created database {}", name, dbname);
      } catch (const pqxx::sql_error& e) {
        if (e.sqlstate() != "42P04") throw;  // 42P04: duplicate_database
      }
    }
    t.exec("SELECT pg_advisory_unlock(hashtext('appinfra.create_db'))");
  } catch (const pqxx::failure& e) {
    throw db::ConnectionError(fmt::format("database '{}': create_db: cannot create database '{}' on {}: {}", name,
                                          dbname, url.redacted(), scrub(e.what(), password)));
  }
}

}  // namespace appinfra::pg::detail
