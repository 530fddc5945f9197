#pragma once
// The definitions of pg/compiled.hpp: each member a call to detail::BasicPG's (the
// header-only backend) and its Connection and Session, kept in place. Included by
// appinfra/src.hpp only, in the one translation unit that builds the library.

#include <appinfra/pg/compiled.hpp>
#include <appinfra/pg/pg.hpp>

#include <new>
#include <type_traits>
#include <utility>

namespace appinfra::pg::detail {

template <db::Access A>
using CompiledImpl = BasicPG<A, db::UseQueuePool<>, log::Logger>;

// The handles the compiled ones keep in place: they must fit.
template <class Impl, std::size_t Bytes>
constexpr bool fits_in_place = sizeof(Impl) <= Bytes && alignof(Impl) <= alignof(std::max_align_t);

// ---- CompiledConnection

template <db::Access A>
using ConnectionImpl = typename CompiledImpl<A>::Connection;

template <db::Access A>
template <class Impl>
CompiledConnection<A>::CompiledConnection(std::in_place_type_t<Impl>, Impl&& impl) noexcept {
  static_assert(std::is_same_v<std::remove_cvref_t<Impl>, ConnectionImpl<A>>);
  static_assert(fits_in_place<ConnectionImpl<A>, handle_bytes>, "raise pg::detail::handle_bytes");
  ::new (static_cast<void*>(impl_.bytes)) ConnectionImpl<A>(std::move(impl));
}
template <db::Access A>
CompiledConnection<A>::CompiledConnection(CompiledConnection&& o) noexcept {
  ::new (static_cast<void*>(impl_.bytes)) ConnectionImpl<A>(std::move(o.impl_.template as<ConnectionImpl<A>>()));
}
template <db::Access A>
CompiledConnection<A>& CompiledConnection<A>::operator=(CompiledConnection&& o) noexcept {
  impl_.template as<ConnectionImpl<A>>() = std::move(o.impl_.template as<ConnectionImpl<A>>());
  return *this;
}
template <db::Access A>
CompiledConnection<A>::~CompiledConnection() {
  impl_.template as<ConnectionImpl<A>>().~ConnectionImpl<A>();
}
template <db::Access A>
db::Result CompiledConnection<A>::run(db::Deadline deadline, std::string_view sql, db::Params params) {
  return impl_.template as<ConnectionImpl<A>>().execute(deadline, sql, params);
}
template <db::Access A>
db::Result CompiledConnection<A>::run_prepared(db::Deadline deadline, const std::string& name, db::Params params) {
  return impl_.template as<ConnectionImpl<A>>().execute_prepared(deadline, name, params);
}
template <db::Access A>
std::vector<db::Result> CompiledConnection<A>::pipeline(const std::vector<std::string>& statements,
                                                        db::Deadline deadline) {
  return impl_.template as<ConnectionImpl<A>>().pipeline(statements, deadline);
}
template <db::Access A>
pqxx::connection& CompiledConnection<A>::native() {
  return impl_.template as<ConnectionImpl<A>>().native();
}
template <db::Access A>
void CompiledConnection<A>::invalidate() noexcept {
  impl_.template as<ConnectionImpl<A>>().invalidate();
}
template <db::Access A>
void CompiledConnection<A>::close() noexcept {
  impl_.template as<ConnectionImpl<A>>().close();
}

// ---- CompiledSession

template <db::Access A>
using SessionImpl = typename CompiledImpl<A>::Session;

template <db::Access A>
template <class Impl>
CompiledSession<A>::CompiledSession(std::in_place_type_t<Impl>, Impl&& impl) noexcept {
  static_assert(std::is_same_v<std::remove_cvref_t<Impl>, SessionImpl<A>>);
  static_assert(fits_in_place<SessionImpl<A>, handle_bytes * 2>, "raise pg::detail::handle_bytes");
  ::new (static_cast<void*>(impl_.bytes)) SessionImpl<A>(std::move(impl));
}
template <db::Access A>
CompiledSession<A>::CompiledSession(CompiledSession&& o) noexcept {
  ::new (static_cast<void*>(impl_.bytes)) SessionImpl<A>(std::move(o.impl_.template as<SessionImpl<A>>()));
}
template <db::Access A>
CompiledSession<A>& CompiledSession<A>::operator=(CompiledSession&& o) noexcept {
  impl_.template as<SessionImpl<A>>() = std::move(o.impl_.template as<SessionImpl<A>>());
  return *this;
}
template <db::Access A>
CompiledSession<A>::~CompiledSession() {
  impl_.template as<SessionImpl<A>>().~SessionImpl<A>();
}
template <db::Access A>
db::Result CompiledSession<A>::run(db::Deadline deadline, std::string_view sql, db::Params params) {
  return impl_.template as<SessionImpl<A>>().execute(deadline, sql, params);
}
template <db::Access A>
db::Result CompiledSession<A>::run_prepared(db::Deadline deadline, const std::string& name, db::Params params) {
  return impl_.template as<SessionImpl<A>>().execute_prepared(deadline, name, params);
}
template <db::Access A>
std::vector<db::Result> CompiledSession<A>::pipeline(const std::vector<std::string>& statements,
                                                     db::Deadline deadline) {
  return impl_.template as<SessionImpl<A>>().pipeline(statements, deadline);
}
template <db::Access A>
void CompiledSession<A>::commit() {
  impl_.template as<SessionImpl<A>>().commit();
}
template <db::Access A>
void CompiledSession<A>::rollback() {
  impl_.template as<SessionImpl<A>>().rollback();
}
template <db::Access A>
void CompiledSession<A>::close() noexcept {
  impl_.template as<SessionImpl<A>>().close();
}
template <db::Access A>
bool CompiledSession<A>::in_transaction() const noexcept {
  return impl_.template as<SessionImpl<A>>().in_transaction();
}
template <db::Access A>
pqxx::transaction_base& CompiledSession<A>::native() {
  return impl_.template as<SessionImpl<A>>().native();
}

// ---- CompiledPG

template <db::Access A>
bool CompiledPG<A>::accepts(const db::DatabaseConfig& c) noexcept {
  return CompiledImpl<A>::accepts(c);
}
template <db::Access A>
CompiledPG<A>::CompiledPG(const log::Logger& logger, db::DatabaseConfig config)
    : impl_(std::make_unique<CompiledImpl<A>>(logger, std::move(config))) {}
template <db::Access A>
CompiledPG<A>::CompiledPG(const log::Logger& logger, db::DatabaseConfig config, log::Level query_lg_level)
    : impl_(std::make_unique<CompiledImpl<A>>(logger, std::move(config), query_lg_level)) {}
template <db::Access A>
CompiledPG<A>::~CompiledPG() = default;

template <db::Access A>
auto CompiledPG<A>::connect(std::source_location where) -> Connection {
  return Connection(std::in_place_type<ConnectionImpl<A>>, impl_->connect(where));
}
template <db::Access A>
auto CompiledPG<A>::connect(db::Deadline deadline, std::source_location where) -> Connection {
  return Connection(std::in_place_type<ConnectionImpl<A>>, impl_->connect(deadline, where));
}
template <db::Access A>
auto CompiledPG<A>::session(std::source_location where) -> Session {
  return Session(std::in_place_type<SessionImpl<A>>, impl_->session(where));
}
template <db::Access A>
auto CompiledPG<A>::session(db::Deadline deadline, std::source_location where) -> Session {
  return Session(std::in_place_type<SessionImpl<A>>, impl_->session(deadline, where));
}
template <db::Access A>
auto CompiledPG<A>::session_in_schema(std::string_view schema, std::source_location where) -> Session {
  return Session(std::in_place_type<SessionImpl<A>>, impl_->session_in_schema(schema, where));
}
template <db::Access A>
db::MigrateResult CompiledPG<A>::migrate(const db::Migrations& m, db::MigrateOptions o, std::source_location where)
  requires(!A::read_only)
{
  return impl_->migrate(m, o, where);
}
template <db::Access A>
std::vector<db::MigrationState> CompiledPG<A>::migration_status(const db::Migrations& m,
                                                                std::source_location where)
  requires(!A::read_only)
{
  return impl_->migration_status(m, where);
}
template <db::Access A>
void CompiledPG<A>::create_database()
  requires(!A::read_only)
{
  impl_->create_database();
}
template <db::Access A>
void CompiledPG<A>::prepare(const std::string& name, const std::string& sql) {
  impl_->prepare(name, sql);
}
template <db::Access A>
const std::string& CompiledPG<A>::name() const noexcept {
  return impl_->name();
}
template <db::Access A>
const db::DatabaseConfig& CompiledPG<A>::config() const noexcept {
  return impl_->config();
}
template <db::Access A>
const log::Logger& CompiledPG<A>::logger() const noexcept {
  return impl_->logger();
}
template <db::Access A>
db::HealthResult CompiledPG<A>::health_check(std::source_location where) noexcept {
  return impl_->health_check(where);
}
template <db::Access A>
db::PoolStatus CompiledPG<A>::get_pool_status() const {
  return impl_->get_pool_status();
}
template <db::Access A>
void CompiledPG<A>::close() noexcept {
  impl_->close();
}
template <db::Access A>
std::size_t CompiledPG<A>::drain(std::chrono::steady_clock::time_point deadline) noexcept {
  return impl_->drain(deadline);
}

}  // namespace appinfra::pg::detail
