#pragma once
/// @file appinfra/sqlite/src.hpp
/// The SQLite part of the compiled library: SQLite<> and SQLite<db::ReadOnly> with
/// their connections and sessions. Included once, in the library's own source
/// (appinfra/src.hpp), compiled with APPINFRA_SEPARATE_COMPILATION.

#ifndef APPINFRA_SEPARATE_COMPILATION
#error "appinfra/sqlite/src.hpp builds the compiled library: define APPINFRA_SEPARATE_COMPILATION"
#endif

#include <appinfra/sqlite/impl/compiled.ipp>

template class appinfra::sqlite::detail::CompiledConnection<appinfra::db::ReadWrite>;
template class appinfra::sqlite::detail::CompiledConnection<appinfra::db::ReadOnly>;
template class appinfra::sqlite::detail::CompiledSession<appinfra::db::ReadWrite>;
template class appinfra::sqlite::detail::CompiledSession<appinfra::db::ReadOnly>;
template class appinfra::sqlite::detail::CompiledSQLite<appinfra::db::ReadWrite>;
template class appinfra::sqlite::detail::CompiledSQLite<appinfra::db::ReadOnly>;
