// Must compile: the control for readonly_create_database.cpp.
#include <appinfra/pg.hpp>

void use(appinfra::pg::PG<>& rw) { rw.create_database(); }
