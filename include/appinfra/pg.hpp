#pragma once
/// @file appinfra/pg.hpp
/// The PostgreSQL backends: appinfra::pg::PG<Access, Pool, Logger>, and
/// pg::Replicated<Pool, Logger> (a primary and its replicas). Needs libpqxx 6.
///
/// With APPINFRA_SEPARATE_COMPILATION (the `appinfra-compiled` dependency), PG<>
/// and PG<db::ReadOnly> are compiled into the library and this header declares
/// them only, without libpqxx; other policies, and pg::Replicated, come
/// header-only from <appinfra/pg/pg.hpp> and <appinfra/pg/replicated.hpp>.

#ifdef APPINFRA_SEPARATE_COMPILATION
#include <appinfra/pg/compiled.hpp>
#else
#include <appinfra/pg/pg.hpp>
#include <appinfra/pg/replicated.hpp>
#endif
