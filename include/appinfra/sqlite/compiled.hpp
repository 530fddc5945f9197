#pragma once
// sqlite::SQLite<> and sqlite::SQLite<db::ReadOnly> compiled into the library
// (APPINFRA_SEPARATE_COMPILATION): their declarations, without <sqlite3.h> or the
// pool. The definitions are in sqlite/impl/compiled.ipp, compiled once
// (appinfra/src.hpp).

#include <appinfra/db/config.hpp>
#include <appinfra/db/deadline.hpp>
#include <appinfra/db/detail/in_place.hpp>
#include <appinfra/db/detail/transaction.hpp>
#include <appinfra/db/health.hpp>
#include <appinfra/db/migrations.hpp>
#include <appinfra/db/param.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/db/stats.hpp>
#include <appinfra/log/level.hpp>
#include <appinfra/sqlite/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <source_location>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct sqlite3;  // what native() returns (<sqlite3.h>)

namespace appinfra::sqlite {
namespace detail {

template <db::Access A>
class CompiledSQLite;

/// Bytes a compiled handle keeps in place (sqlite/impl/compiled.ipp checks that they suffice).
inline constexpr std::size_t handle_bytes = 64;

/// SQLite<>::Connection when compiled into the library: sqlite's Connection's members,
/// parameters converted here (db::to_param) and run in the library.
template <db::Access A>
class CompiledConnection {
 public:
  CompiledConnection(CompiledConnection&& o) noexcept;
  CompiledConnection& operator=(CompiledConnection&& o) noexcept;
  ~CompiledConnection();

  template <class... Args>
  db::Result execute(std::string_view sql, const Args&... args) {
    return execute(db::Deadline{}, sql, args...);
  }
  template <class... Args>
  db::Result execute(db::Deadline deadline, std::string_view sql, const Args&... args) {
    return db::detail::with_params([&](db::Params p) { return run(deadline, sql, p); }, args...);
  }
  /// The sqlite3 handle (include <sqlite3.h> to use it); null when closed.
  [[nodiscard]] sqlite3* native() noexcept;
  void close() noexcept;

 private:
  friend class CompiledSQLite<A>;
  template <class Impl>
  CompiledConnection(std::in_place_type_t<Impl>, Impl&& impl) noexcept;
  db::Result run(db::Deadline deadline, std::string_view sql, db::Params params);

  db::detail::InPlace<handle_bytes> impl_;
};

/// SQLite<>::Session when compiled into the library: sqlite's Session's members.
template <db::Access A>
class CompiledSession {
 public:
  CompiledSession(CompiledSession&& o) noexcept;
  CompiledSession& operator=(CompiledSession&& o) noexcept;
  ~CompiledSession();

  template <class... Args>
  db::Result execute(std::string_view sql, const Args&... args) {
    return execute(db::Deadline{}, sql, args...);
  }
  template <class... Args>
  db::Result execute(db::Deadline deadline, std::string_view sql, const Args&... args) {
    return db::detail::with_params([&](db::Params p) { return run(deadline, sql, p); }, args...);
  }
  void commit();
  void rollback();
  void close() noexcept;
  [[nodiscard]] bool in_transaction() const noexcept;
  /// The sqlite3 handle, the transaction begun first (include <sqlite3.h> to use it).
  [[nodiscard]] sqlite3* native();

 private:
  friend class CompiledSQLite<A>;
  template <class Impl>
  CompiledSession(std::in_place_type_t<Impl>, Impl&& impl) noexcept;
  db::Result run(db::Deadline deadline, std::string_view sql, db::Params params);

  db::detail::InPlace<handle_bytes * 2> impl_;
};

/// SQLite<A> with the default pool and logger, compiled into the library: the
/// members of detail::BasicSQLite (see SQLite), each a call into the library. The backend lives on
/// the heap (one allocation per database); connections and sessions do not.
template <db::Access A>
class CompiledSQLite {
 public:
  using logger_type = log::Logger;
  using access_type = A;
  using Connection = CompiledConnection<A>;
  using Session = CompiledSession<A>;
  static constexpr std::string_view schemes = "sqlite";

  static bool accepts(const db::DatabaseConfig& c) noexcept;
  CompiledSQLite(const log::Logger& logger, db::DatabaseConfig config);
  CompiledSQLite(const CompiledSQLite&) = delete;
  CompiledSQLite& operator=(const CompiledSQLite&) = delete;
  ~CompiledSQLite();

  [[nodiscard]] Connection connect(std::source_location where = std::source_location::current());
  [[nodiscard]] Connection connect(db::Deadline deadline, std::source_location where = std::source_location::current());
  [[nodiscard]] Session session(std::source_location where = std::source_location::current());
  [[nodiscard]] Session session(db::Deadline deadline, std::source_location where = std::source_location::current());
  template <class F>
  decltype(auto) transaction(F&& f, int max_attempts = 3,
                             std::source_location where = std::source_location::current()) {
    return db::detail::run_transaction(*this, logger(), std::forward<F>(f), max_attempts, where);
  }

  db::MigrateResult migrate(const db::Migrations& m, db::MigrateOptions o = {},
                            std::source_location where = std::source_location::current())
    requires(!A::read_only);
  std::vector<db::MigrationState> migration_status(const db::Migrations& m,
                                                   std::source_location where = std::source_location::current())
    requires(!A::read_only);

  [[nodiscard]] const std::string& name() const noexcept;
  [[nodiscard]] const db::DatabaseConfig& config() const noexcept;
  [[nodiscard]] const log::Logger& logger() const noexcept;
  [[nodiscard]] db::HealthResult health_check(std::source_location where = std::source_location::current()) noexcept;
  [[nodiscard]] db::PoolStatus get_pool_status() const;
  void close() noexcept;
  std::size_t drain(std::chrono::steady_clock::time_point deadline) noexcept;

 private:
  std::unique_ptr<BasicSQLite<A, db::UseQueuePool<>, log::Logger>> impl_;
};

}  // namespace detail

/// SQLite<> compiled into the library (see SQLite and detail::CompiledSQLite).
template <>
class SQLite<db::ReadWrite, db::UseQueuePool<>, log::Logger> : public detail::CompiledSQLite<db::ReadWrite> {
 public:
  using detail::CompiledSQLite<db::ReadWrite>::CompiledSQLite;
};

/// SQLite<db::ReadOnly> compiled into the library.
template <>
class SQLite<db::ReadOnly, db::UseQueuePool<>, log::Logger> : public detail::CompiledSQLite<db::ReadOnly> {
 public:
  using detail::CompiledSQLite<db::ReadOnly>::CompiledSQLite;
};

}  // namespace appinfra::sqlite
