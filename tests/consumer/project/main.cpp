#include <appinfra/db.hpp>
#include <appinfra/sqlite.hpp>

int main() {
  using namespace appinfra;
  db::Manager<sqlite::SQLite<>> m(log::Logger(log::Level::warning), {{"main", {{"url", "sqlite:///:memory:"}}}});
  m.setup();
  return m.db("main").connect().execute("SELECT 40 + 2").scalar<int>() == 42 ? 0 : 1;
}
