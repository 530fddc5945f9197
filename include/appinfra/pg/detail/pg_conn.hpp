#pragma once
// PgConn: one pooled libpqxx connection and what appinfra tracks about it, and the
// raw libpq handle behind it.

#include <appinfra/db/detail/statement_cache.hpp>
#include <appinfra/pg/detail/sql_text.hpp>

#include <libpq-fe.h>
#include <pqxx/connection>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace appinfra::pg::detail {

// libpqxx 6 keeps the libpq handle private (connection_base::raw_connection(), for
// its own friends). An explicit instantiation may name a private member (access is
// not checked there): this hands out a pointer to that member function, without
// deriving from libpqxx's classes (their virtual functions would put a vtable in
// appinfra).
struct RawConnectionTag {
  using type = pqxx::internal::pq::PGconn* (pqxx::connection_base::*)() const;
  friend type member(RawConnectionTag);
};
template <class Tag, typename Tag::type M>
struct Expose {
  friend typename Tag::type member(Tag) { return M; }
};
template struct Expose<RawConnectionTag, &pqxx::connection_base::raw_connection>;

/// The libpq handle of a libpqxx connection (null when it is closed).
inline PGconn* raw(const pqxx::connection_base& c) noexcept { return (c.*member(RawConnectionTag{}))(); }

/// What the server last said about ending the session, caught by a notice
/// receiver: PostgreSQL 15 sends a WARNING (57P01 on an immediate shutdown, 57P02
/// when another backend crashed) before it closes the socket. Lives on the heap:
/// libpq holds its address.
struct Goodbye {
  std::string sqlstate;
  PQnoticeReceiver next = nullptr;  // libpq's own receiver, which calls libpqxx's notice processor

  static void receive(void* arg, const PGresult* res) {
    auto* self = static_cast<Goodbye*>(arg);
    if (const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE); state != nullptr && state[0] == '5' &&
                                                                        state[1] == '7' && state[2] == 'P')
      self->sqlstate = state;
    if (self->next != nullptr) self->next(nullptr, res);  // libpq's default receiver does not use its argument
  }
};

/// A prepared statement declared on a connection: whether it only reads (its row
/// count is not a change count), and what it may leave on the session.
struct Declared {
  std::string name;
  bool query = false;
  SessionEffect effect;
};

/// A statement prepared automatically on a connection (auto_prepare.hpp).
struct AutoStatement {
  std::uint32_t id = 0;  ///< the number in its name
  bool query = false;    ///< its row count is not a change count
};

/// One pooled PostgreSQL connection (pqxx::connection cannot move, so it lives on
/// the heap) and what appinfra knows of its session.
struct PgConn {
  std::unique_ptr<Goodbye> goodbye = std::make_unique<Goodbye>();  // first: outlives the connection
  std::unique_ptr<pqxx::connection> pq;
  /// Something may be left on the session (a transaction, a SET, native() use):
  /// the connector resets it on return. A clean connection needs no round trip.
  bool dirty = false;
  /// Prepared statements declared on this connection.
  std::vector<Declared> prepared;
  /// Statements prepared automatically, and the runs of preparable texts not yet
  /// prepared (apart, so that texts run once do not push prepared ones out); each
  /// bounded by prepared_cache_size.
  db::detail::StatementCache<AutoStatement> auto_statements;
  db::detail::StatementCache<std::size_t> auto_runs;
  std::uint32_t auto_prepared_count = 0;  ///< names given so far
  /// The server dropped what was prepared (DISCARD, DEALLOCATE): nothing is
  /// prepared automatically on this connection any more (it is closed on return).
  bool auto_prepare_off = false;

  PgConn(std::unique_ptr<pqxx::connection> c, std::size_t statement_cache_size)
      : pq(std::move(c)), auto_statements(statement_cache_size), auto_runs(statement_cache_size) {
    if (PGconn* r = raw(*pq)) goodbye->next = PQsetNoticeReceiver(r, &Goodbye::receive, goodbye.get());
  }
};

}  // namespace appinfra::pg::detail
