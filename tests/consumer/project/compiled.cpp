// appinfra-compiled: the default backends come from libappinfra; this translation
// unit sees their declarations only, so it must not have included libpqxx or
// sqlite3.h (their include guards would be defined).
#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>
#include <appinfra/sqlite.hpp>

#if !defined(APPINFRA_SEPARATE_COMPILATION) || defined(PQXX_H_RESULT) || defined(PQXX_H_CONNECTION_BASE) || \
    defined(SQLITE3_H)
#error "appinfra-compiled: expected the compiled mode's declarations only"
#endif

int main() {
  using namespace appinfra;
  db::Manager<pg::PG<>, sqlite::SQLite<>> m(log::Logger(log::Level::warning), {{"main", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  return m.db("main").connect().execute("SELECT $1 + 2", 40).scalar<int>() == 42 ? 0 : 1;
}
