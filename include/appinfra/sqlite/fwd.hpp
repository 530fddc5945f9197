#pragma once
// The SQLite backend's name and default policies, without its definition
// (<appinfra/sqlite/sqlite.hpp>; compiled into the library:
// <appinfra/sqlite/compiled.hpp>).

#include <appinfra/db/access.hpp>
#include <appinfra/db/concepts/access.hpp>
#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/pool/policy.hpp>
#include <appinfra/log/logger.hpp>

namespace appinfra::sqlite {

template <db::Access A = db::ReadWrite, class PoolP = db::UseQueuePool<>, db::Logger L = log::Logger>
class SQLite;

namespace detail {
template <db::Access A, class PoolP, db::Logger L>
class BasicSQLite;  // SQLite's definition, header-only (<appinfra/sqlite/sqlite.hpp>)
}  // namespace detail

}  // namespace appinfra::sqlite
