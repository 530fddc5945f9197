#pragma once
/// @file appinfra/pg/src.hpp
/// The PostgreSQL part of the compiled library: PG<> and PG<db::ReadOnly> with
/// their connections and sessions. Included once, in the library's own source
/// (appinfra/src.hpp), compiled with APPINFRA_SEPARATE_COMPILATION.

#ifndef APPINFRA_SEPARATE_COMPILATION
#error "appinfra/pg/src.hpp builds the compiled library: define APPINFRA_SEPARATE_COMPILATION"
#endif

#include <appinfra/pg/impl/compiled.ipp>

template class appinfra::pg::detail::CompiledConnection<appinfra::db::ReadWrite>;
template class appinfra::pg::detail::CompiledConnection<appinfra::db::ReadOnly>;
template class appinfra::pg::detail::CompiledSession<appinfra::db::ReadWrite>;
template class appinfra::pg::detail::CompiledSession<appinfra::db::ReadOnly>;
template class appinfra::pg::detail::CompiledPG<appinfra::db::ReadWrite>;
template class appinfra::pg::detail::CompiledPG<appinfra::db::ReadOnly>;
