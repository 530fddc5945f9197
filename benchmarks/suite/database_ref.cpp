// A translation unit that only runs queries through databases handed to it, as
// most of a service's units do: no Manager is built here. scripts/bench.sh compiles
// it in compiled mode (APPINFRA_SEPARATE_COMPILATION) and header-only, beside the
// libpqxx hello world (issue 13's third compile-time row).

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>
#include <appinfra/sqlite.hpp>

#include <string>

using namespace appinfra;

// Through the run-time Manager's database handle: static dispatch over its backends.
int count_users(db::Database<pg::PG<>, sqlite::SQLite<>>& database, const std::string& name) {
  auto c = database.connect();
  return c.execute("SELECT count(*) FROM users WHERE name = $1", name).scalar<int>();
}

// Through a concrete backend, in a transaction.
void rename_user(pg::PG<>& primary, long id, const std::string& name) {
  primary.transaction([&](auto& s) { s.execute("UPDATE users SET name = $1 WHERE id = $2", name, id); });
}
