// Must not compile: a read-only database cannot create itself.
#include <appinfra/pg.hpp>

void use(appinfra::pg::PG<appinfra::db::ReadOnly>& ro) { ro.create_database(); }
