#pragma once
// One sqlite3 connection as the pool holds it: the sqlite3 handle, whether it is dirty,
// and what it was opened with.

#include <appinfra/sqlite/detail/defaults.hpp>
#include <appinfra/sqlite/detail/statements.hpp>
#include <appinfra/sqlite/detail/tracking.hpp>

#include <sqlite3.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <utility>

namespace appinfra::sqlite::detail {

/// Owns one sqlite3 connection and knows whether a borrower changed it beyond a
/// transaction (dirty: Connector::reset() then undoes it). SQLite's authorizer
/// marks it dirty as each statement is prepared (see changes_connection()); native
/// access marks it dirty unconditionally. The flag lives on the heap, where the
/// authorizer can find it after the SqliteConn has moved. It also holds the
/// connection's prepared statements (Statements), finalized before it closes.
class SqliteConn {
 public:
  SqliteConn() = default;
  /// Takes ownership of `db` (closed when this ends, also if the constructor throws).
  explicit SqliteConn(sqlite3* db) {
    try {
      state_ = std::make_unique<State>();
    } catch (...) {
      sqlite3_close_v2(db);
      throw;
    }
    state_->db = db;
  }
  SqliteConn(SqliteConn&&) noexcept = default;
  SqliteConn& operator=(SqliteConn&& o) noexcept {
    if (this != &o) {
      close();
      state_ = std::move(o.state_);
    }
    return *this;
  }
  ~SqliteConn() { close(); }

  [[nodiscard]] sqlite3* get() const noexcept { return state_ ? state_->db : nullptr; }
  [[nodiscard]] bool dirty() const noexcept { return state_ && state_->dirty; }
  void mark_dirty() noexcept {
    if (state_) state_->dirty = true;
  }

  /// Keeps up to `capacity` prepared statements from now on (0: none), counting
  /// into `counters`; those kept before are finalized.
  void cache_statements(std::size_t capacity, std::shared_ptr<Statements::Counters> counters) {
    if (state_ == nullptr) return;
    state_->statements.reset();
    state_->statements = std::make_unique<Statements>(capacity, std::move(counters));
  }
  /// The connection's statement cache; null when it keeps none.
  [[nodiscard]] Statements* statements() const noexcept {
    return state_ && state_->statements && state_->statements->enabled() ? state_->statements.get() : nullptr;
  }

  /// Installs the authorizer that tracks state changes, and forgets earlier ones:
  /// called when the connection is opened and when a reset has undone them.
  void watch() noexcept {
    if (state_ == nullptr || state_->db == nullptr) return;
    sqlite3_set_authorizer(state_->db, &SqliteConn::authorize, state_.get());
    state_->dirty = false;
  }

  /// Reads the connection's settings now, for an in-memory database's reset.
  void keep_defaults() {
    if (state_ != nullptr && state_->db != nullptr) state_->defaults = Defaults::read(state_->db);
  }
  /// The settings keep_defaults() read; null when it was not called.
  [[nodiscard]] const Defaults* defaults() const noexcept {
    return state_ && state_->defaults ? &*state_->defaults : nullptr;
  }

 private:
  struct State {
    sqlite3* db = nullptr;
    bool dirty = false;
    std::optional<Defaults> defaults;
    std::unique_ptr<Statements> statements;  // finalized before db closes
  };

  static int authorize(void* state, int action, const char* arg1, const char* arg2, const char* database,
                       const char*) noexcept {
    if (changes_connection(action, arg1, arg2, database)) {
      auto* s = static_cast<State*>(state);
      s->dirty = true;
      if (s->statements) s->statements->note_change();
    }
    return SQLITE_OK;
  }

  void close() noexcept {
    if (state_ == nullptr) return;
    // Before the connection: sqlite3_close_v2 leaves a connection with statements
    // open as a zombie, never freed.
    if (state_->statements) state_->statements->finalize_all();
    if (state_->db != nullptr) sqlite3_close_v2(std::exchange(state_->db, nullptr));
  }

  std::unique_ptr<State> state_;
};

}  // namespace appinfra::sqlite::detail
