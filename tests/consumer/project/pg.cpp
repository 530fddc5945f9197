// appinfra-pg: the PostgreSQL backend compiles, and libpq and libpqxx link (no server
// is needed: nothing connects).
#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>

#include <libpq-fe.h>

int main() {
  using namespace appinfra;
  static_assert(db::Interface<pg::PG<>>);
  return PQlibVersion() > 0 && !pqxx::encrypt_password("app", "secret").empty() ? 0 : 1;
}
