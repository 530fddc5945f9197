#pragma once
/// @file appinfra/sqlite.hpp
/// The SQLite backend: appinfra::sqlite::SQLite<Access, Pool, Logger>. Needs sqlite3.

#include <appinfra/sqlite/sqlite.hpp>
