// The seed's "Session Management": a scoped session, and the manual form.

#include "example_url.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>
#include <appinfra/sqlite.hpp>

#include <fmt/core.h>

using namespace appinfra;

int main() {
  auto logger = log::LoggerFactory::create_root(log::LogConfig::from_params("info"));
  db::Manager<pg::PG<>, sqlite::SQLite<>> manager(logger, {{"primary", {{"url", example_url()}}}});
  manager.setup();
  auto& db = manager.db("primary");

  db.connect().execute("CREATE TABLE IF NOT EXISTS example_users (name TEXT)");
  db.connect().execute("DELETE FROM example_users");

  // Scoped session: rolled back unless committed, the connection returned at the end
  {
    auto session = db.session();
    session.execute("INSERT INTO example_users (name) VALUES ('Ann')");
    auto users = session.execute("SELECT * FROM example_users");
    fmt::print("inside the session: {} user(s)\n", users.size());
  }  // not committed: rolled back

  // Manual session management
  auto session = db.session();
  try {
    session.execute("INSERT INTO example_users (name) VALUES ($1)", "John");
    session.commit();
  } catch (const db::Error& e) {
    fmt::print("insert failed: {}\n", e.what());
  }
  session.close();

  auto users = db.connect().execute("SELECT name FROM example_users");
  for (auto row : users) fmt::print("user: {}\n", row["name"].view());
  db.connect().execute("DROP TABLE example_users");
  return users.size() == 1 && users[0][0].view() == "John" ? 0 : 1;
}
