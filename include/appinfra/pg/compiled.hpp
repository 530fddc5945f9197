#pragma once
// pg::PG<> and pg::PG<db::ReadOnly> compiled into the library
// (APPINFRA_SEPARATE_COMPILATION): their declarations, without libpqxx or the pool.
// The definitions are in pg/impl/compiled.ipp, compiled once (appinfra/src.hpp).

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
#include <appinfra/pg/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <source_location>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// libpqxx 6's names for what native() returns; <appinfra/pg/native.hpp> defines them.
namespace pqxx {
class connect_direct;
template <typename CONNECTPOLICY>
class basic_connection_base;
using connection = basic_connection_base<connect_direct>;
class transaction_base;
}  // namespace pqxx

namespace appinfra::pg {
namespace detail {

template <db::Access A>
class CompiledPG;

/// Bytes a compiled handle keeps in place (pg/impl/compiled.ipp checks that they suffice).
inline constexpr std::size_t handle_bytes = 64;

/// PG<>::Connection when compiled into the library: pg::Connection's members,
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
  template <class... Args>
  db::Result execute_prepared(const std::string& name, const Args&... args) {
    return execute_prepared(db::Deadline{}, name, args...);
  }
  template <class... Args>
  db::Result execute_prepared(db::Deadline deadline, const std::string& name, const Args&... args) {
    return db::detail::with_params([&](db::Params p) { return run_prepared(deadline, name, p); }, args...);
  }
  std::vector<db::Result> pipeline(const std::vector<std::string>& statements, db::Deadline deadline = {});
  /// The libpqxx connection: include <appinfra/pg/native.hpp> to use it.
  [[nodiscard]] pqxx::connection& native();
  void invalidate() noexcept;
  void close() noexcept;

 private:
  friend class CompiledPG<A>;
  template <class Impl>
  CompiledConnection(std::in_place_type_t<Impl>, Impl&& impl) noexcept;
  db::Result run(db::Deadline deadline, std::string_view sql, db::Params params);
  db::Result run_prepared(db::Deadline deadline, const std::string& name, db::Params params);

  db::detail::InPlace<handle_bytes> impl_;
};

/// PG<>::Session when compiled into the library: pg::Session's members.
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
  template <class... Args>
  db::Result execute_prepared(const std::string& name, const Args&... args) {
    return execute_prepared(db::Deadline{}, name, args...);
  }
  template <class... Args>
  db::Result execute_prepared(db::Deadline deadline, const std::string& name, const Args&... args) {
    return db::detail::with_params([&](db::Params p) { return run_prepared(deadline, name, p); }, args...);
  }
  std::vector<db::Result> pipeline(const std::vector<std::string>& statements, db::Deadline deadline = {});
  void commit();
  void rollback();
  void close() noexcept;
  [[nodiscard]] bool in_transaction() const noexcept;
  /// The libpqxx transaction (begun first): include <appinfra/pg/native.hpp> to use it.
  [[nodiscard]] pqxx::transaction_base& native();

 private:
  friend class CompiledPG<A>;
  template <class Impl>
  CompiledSession(std::in_place_type_t<Impl>, Impl&& impl) noexcept;
  db::Result run(db::Deadline deadline, std::string_view sql, db::Params params);
  db::Result run_prepared(db::Deadline deadline, const std::string& name, db::Params params);

  db::detail::InPlace<handle_bytes * 2> impl_;
};

/// PG<A> with the default pool and logger, compiled into the library: the members
/// of detail::BasicPG (see PG), each a call into the library. The backend lives on
/// the heap (one allocation per database); connections and sessions do not.
template <db::Access A>
class CompiledPG {
 public:
  using logger_type = log::Logger;
  using access_type = A;
  using Connection = CompiledConnection<A>;
  using Session = CompiledSession<A>;
  static constexpr std::string_view schemes = "postgresql, postgres";

  static bool accepts(const db::DatabaseConfig& c) noexcept;
  CompiledPG(const log::Logger& logger, db::DatabaseConfig config);
  CompiledPG(const log::Logger& logger, db::DatabaseConfig config, log::Level query_lg_level);
  CompiledPG(const CompiledPG&) = delete;
  CompiledPG& operator=(const CompiledPG&) = delete;
  ~CompiledPG();

  [[nodiscard]] Connection connect(std::source_location where = std::source_location::current());
  [[nodiscard]] Connection connect(db::Deadline deadline, std::source_location where = std::source_location::current());
  [[nodiscard]] Session session(std::source_location where = std::source_location::current());
  [[nodiscard]] Session session(db::Deadline deadline, std::source_location where = std::source_location::current());
  [[nodiscard]] Session session_in_schema(std::string_view schema,
                                          std::source_location where = std::source_location::current());
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
  void create_database()
    requires(!A::read_only);
  void prepare(const std::string& name, const std::string& sql);

  [[nodiscard]] const std::string& name() const noexcept;
  [[nodiscard]] const db::DatabaseConfig& config() const noexcept;
  [[nodiscard]] const log::Logger& logger() const noexcept;
  [[nodiscard]] db::HealthResult health_check(std::source_location where = std::source_location::current()) noexcept;
  [[nodiscard]] db::PoolStatus get_pool_status() const;
  void close() noexcept;
  std::size_t drain(std::chrono::steady_clock::time_point deadline) noexcept;

 private:
  std::unique_ptr<BasicPG<A, db::UseQueuePool<>, log::Logger>> impl_;
};

}  // namespace detail

/// PG<> compiled into the library (see PG and detail::CompiledPG).
template <>
class PG<db::ReadWrite, db::UseQueuePool<>, log::Logger> : public detail::CompiledPG<db::ReadWrite> {
 public:
  using detail::CompiledPG<db::ReadWrite>::CompiledPG;
};

/// PG<db::ReadOnly> compiled into the library.
template <>
class PG<db::ReadOnly, db::UseQueuePool<>, log::Logger> : public detail::CompiledPG<db::ReadOnly> {
 public:
  using detail::CompiledPG<db::ReadOnly>::CompiledPG;
};

}  // namespace appinfra::pg
