#pragma once
/// @file appinfra/sqlite.hpp
/// The SQLite backend: appinfra::sqlite::SQLite<Access, Pool, Logger>. Needs sqlite3.
///
/// With APPINFRA_SEPARATE_COMPILATION (the `appinfra-compiled` dependency),
/// SQLite<> and SQLite<db::ReadOnly> are compiled into the library and this header
/// declares them only, without <sqlite3.h>; other policies come header-only from
/// <appinfra/sqlite/sqlite.hpp>.

#ifdef APPINFRA_SEPARATE_COMPILATION
#include <appinfra/sqlite/compiled.hpp>
#else
#include <appinfra/sqlite/sqlite.hpp>
#endif
