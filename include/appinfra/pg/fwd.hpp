#pragma once
// The PostgreSQL backend's name and default policies, without its definition
// (<appinfra/pg/pg.hpp>; compiled into the library: <appinfra/pg/compiled.hpp>).

#include <appinfra/db/access.hpp>
#include <appinfra/db/concepts/access.hpp>
#include <appinfra/db/concepts/logger.hpp>
#include <appinfra/db/pool/policy.hpp>
#include <appinfra/log/logger.hpp>

namespace appinfra::pg {

template <db::Access A = db::ReadWrite, class PoolP = db::UseQueuePool<>, db::Logger L = log::Logger>
class PG;

namespace detail {
template <db::Access A, class PoolP, db::Logger L>
class BasicPG;  // PG's definition, header-only (<appinfra/pg/pg.hpp>)
}  // namespace detail

}  // namespace appinfra::pg
