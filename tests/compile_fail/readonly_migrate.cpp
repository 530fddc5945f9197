// Must not compile: a read-only database cannot migrate.
#include <appinfra/pg.hpp>

void use(appinfra::pg::PG<appinfra::db::ReadOnly>& ro) { ro.migrate(appinfra::db::Migrations()); }
