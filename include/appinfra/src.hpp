#pragma once
/// @file appinfra/src.hpp
/// The compiled library (APPINFRA_SEPARATE_COMPILATION), as Boost.MySQL's src.hpp:
/// include it in exactly one translation unit of the program, compiled with
/// APPINFRA_SEPARATE_COMPILATION like every other, and link libpqxx, libpq and
/// sqlite3. Meson builds it for you as the `appinfra-compiled` dependency
/// (pkg-config: appinfra-compiled). APPINFRA_NO_PG or APPINFRA_NO_SQLITE leaves a
/// backend out.

#include <appinfra/db/src.hpp>
#ifndef APPINFRA_NO_PG
#include <appinfra/pg/src.hpp>
#endif
#ifndef APPINFRA_NO_SQLITE
#include <appinfra/sqlite/src.hpp>
#endif
