#pragma once
// What every pooled backend's Connection and Session share: the pool's lease, the
// deadline they were handed out with, and the rules of a session's transaction.

#include <appinfra/db/deadline.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/result.hpp>

#include <fmt/core.h>

#include <string_view>
#include <utility>

namespace appinfra::db::detail {

/// CRTP base of a backend's Connection: the lease of a pooled connection and the
/// deadline from connect(deadline), which bounds every statement. Derived provides
/// `run(deadline, sql, args...)`, one statement bounded by `deadline` (already the
/// earlier of the caller's and the connection's own), and makes this base a friend.
/// Static dispatch only: no virtual function, nothing stored but the lease and the
/// deadline.
template <class Derived, class Lease>
class LeasedConnection {
 public:
  /// Runs one statement; parameters bind to $1, $2, ... See Derived for what it
  /// throws.
  template <class... Args>
  Result execute(std::string_view sql, const Args&... args) {
    return execute(Deadline{}, sql, args...);
  }
  /// The same, bounded by `deadline` (the earlier of it and the connection's own,
  /// from connect(deadline)).
  template <class... Args>
  Result execute(Deadline deadline, std::string_view sql, const Args&... args) {
    check();
    return static_cast<Derived&>(*this).run(bounded(deadline), sql, args...);
  }
  /// Gives the connection back now. Idempotent.
  void close() noexcept { lease_.release(); }

 protected:
  LeasedConnection(Lease lease, Deadline deadline) noexcept : lease_(std::move(lease)), deadline_(deadline) {}
  ~LeasedConnection() = default;
  LeasedConnection(LeasedConnection&&) noexcept = default;
  LeasedConnection& operator=(LeasedConnection&&) noexcept = default;

  void check() const {
    if (!lease_) throw UsageError("the connection was closed (close(), or moved from)");
  }
  /// The earlier of `d` and the connection's own deadline.
  [[nodiscard]] Deadline bounded(Deadline d) const noexcept { return earliest(d, deadline_); }

  Lease lease_;
  Deadline deadline_;
};

/// CRTP base of a backend's Session: the lease, the session's deadline, the open
/// transaction (`Txn`, the backend's record of it: false when there is none; moved
/// from, it is reset) and whether an error ended it behind the session's back
/// (`aborted_`, set by Derived: then only rollback() goes on, and further statements
/// and commit() throw UsageError).
///
/// Derived provides, and makes this base a friend:
/// - `run(deadline, sql, args...)`: a statement in the transaction, begun already;
///   it sets `aborted_` when the statement ended the transaction;
/// - `begin_transaction(deadline)`: opens `txn_`;
/// - `commit_transaction()` and `rollback_transaction()`, called with `txn_` open;
///   each clears `txn_` when the transaction is over;
/// - `abandon_transaction()` (noexcept): rolls back on close(), as far as it can;
/// - `static constexpr std::string_view aborted_by`: what ended an aborted
///   transaction, for messages ("aborted by an earlier error");
/// - a destructor that calls close() (this base cannot: Derived is gone by then).
template <class Derived, class Lease, class Txn>
class LeasedSession {
 public:
  LeasedSession(LeasedSession&& o) noexcept
      : lease_(std::move(o.lease_)), deadline_(o.deadline_), txn_(std::exchange(o.txn_, Txn{})),
        aborted_(std::exchange(o.aborted_, false)) {}
  /// Closes this session (rolls back) and takes `o`'s.
  LeasedSession& operator=(LeasedSession&& o) noexcept {
    if (this != &o) {
      close();
      lease_ = std::move(o.lease_);
      deadline_ = o.deadline_;
      txn_ = std::exchange(o.txn_, Txn{});
      aborted_ = std::exchange(o.aborted_, false);
    }
    return *this;
  }

  /// Runs a statement in the transaction, beginning it first when none is open.
  template <class... Args>
  Result execute(std::string_view sql, const Args&... args) {
    return execute(Deadline{}, sql, args...);
  }
  /// The same, bounded by `deadline` (the earlier of it and the session's own).
  template <class... Args>
  Result execute(Deadline deadline, std::string_view sql, const Args&... args) {
    const Deadline d = bounded(deadline);
    begin(d);
    return derived().run(d, sql, args...);
  }

  /// Commits the transaction; nothing to commit is fine.
  void commit() {
    if (!lease_) throw UsageError("commit() on a closed session");
    if (aborted_)
      throw UsageError(fmt::format("database '{}': commit() of a transaction {}; call rollback()",
                                   lease_.connector().name(), Derived::aborted_by));
    if (txn_) derived().commit_transaction();
  }
  /// Rolls back; also what ends a transaction aborted by an error, and one whose
  /// deadline passed. A rollback runs past any deadline.
  void rollback() {
    if (!lease_) throw UsageError("rollback() on a closed session");
    aborted_ = false;
    if (txn_) derived().rollback_transaction();
  }
  /// Rolls back what is uncommitted and gives the connection back. Idempotent.
  void close() noexcept {
    if (!lease_) return;
    if (txn_) derived().abandon_transaction();
    txn_ = Txn{};
    aborted_ = false;
    lease_.release();
  }
  [[nodiscard]] bool in_transaction() const noexcept { return static_cast<bool>(txn_); }

 protected:
  LeasedSession(Lease lease, Deadline deadline) noexcept : lease_(std::move(lease)), deadline_(deadline) {}
  ~LeasedSession() = default;

  /// The open transaction, begun first when there is none. Throws UsageError when
  /// the session is closed or its transaction was aborted.
  Txn& begin(Deadline d) {
    if (!lease_) throw UsageError("the session is closed");
    if (aborted_)
      throw UsageError(fmt::format("database '{}': the transaction was {}; call rollback() before the next statement",
                                   lease_.connector().name(), Derived::aborted_by));
    if (!txn_) derived().begin_transaction(d);
    return txn_;
  }
  /// The earlier of `d` and the session's own deadline.
  [[nodiscard]] Deadline bounded(Deadline d) const noexcept { return earliest(d, deadline_); }

  Lease lease_;  // declared first: destroyed after the transaction
  Deadline deadline_;
  Txn txn_{};
  bool aborted_ = false;

 private:
  Derived& derived() noexcept { return static_cast<Derived&>(*this); }
};

}  // namespace appinfra::db::detail
