#pragma once
// One sqlite3 connection as the pool holds it: the sqlite3 handle, whether it is dirty,
// and what it was opened with.

#include <appinfra/sqlite/detail/defaults.hpp>
#include <appinfra/sqlite/detail/tracking.hpp>

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <utility>

namespace appinfra::sqlite::detail {

/// Owns one sqlite3 connection and knows whether a borrower changed it beyond a
/// transaction (dirty: Connector::reset() then undoes it). SQLite's authorizer
/// marks it dirty as each statement is prepared (see changes_connection()); native
/// access marks it dirty unconditionally. The flag lives on the heap, where the
/// authorizer can find it after the SqliteConn has moved.
class SqliteConn {
 public:
  SqliteConn() = default;
  /// Takes ownership of `db` (closed when this ends, also if the constructor throws).
  explicit SqliteConn(sqlite3* db) {
    try {
      s_ = std::make_unique<State>();
    } catch (...) {
      sqlite3_close_v2(db);
      throw;
    }
    s_->db = db;
  }
  SqliteConn(SqliteConn&&) noexcept = default;
  SqliteConn& operator=(SqliteConn&& o) noexcept {
    if (this != &o) {
      close();
      s_ = std::move(o.s_);
    }
    return *this;
  }
  ~SqliteConn() { close(); }

  [[nodiscard]] sqlite3* get() const noexcept { return s_ ? s_->db : nullptr; }
  [[nodiscard]] bool dirty() const noexcept { return s_ && s_->dirty; }
  void mark_dirty() noexcept {
    if (s_) s_->dirty = true;
  }

  /// Installs the authorizer that tracks state changes, and forgets earlier ones:
  /// called when the connection is opened and when a reset has undone them.
  void watch() noexcept {
    if (s_ == nullptr || s_->db == nullptr) return;
    sqlite3_set_authorizer(s_->db, &SqliteConn::authorize, s_.get());
    s_->dirty = false;
  }

  /// Reads the connection's settings now, for an in-memory database's reset.
  void keep_defaults() {
    if (s_ != nullptr && s_->db != nullptr) s_->defaults = Defaults::read(s_->db);
  }
  /// The settings keep_defaults() read; null when it was not called.
  [[nodiscard]] const Defaults* defaults() const noexcept {
    return s_ && s_->defaults ? &*s_->defaults : nullptr;
  }

 private:
  struct State {
    sqlite3* db = nullptr;
    bool dirty = false;
    std::optional<Defaults> defaults;
  };

  static int authorize(void* state, int action, const char* arg1, const char* arg2, const char* database,
                       const char*) noexcept {
    if (changes_connection(action, arg1, arg2, database)) static_cast<State*>(state)->dirty = true;
    return SQLITE_OK;
  }

  void close() noexcept {
    if (s_ && s_->db != nullptr) sqlite3_close_v2(std::exchange(s_->db, nullptr));
  }

  std::unique_ptr<State> s_;
};

}  // namespace appinfra::sqlite::detail
