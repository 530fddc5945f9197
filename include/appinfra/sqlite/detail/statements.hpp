#pragma once
// A SQLite connection's prepared statements, kept from one execution to the next:
// the LRU of db/detail/statement_cache.hpp over sqlite3_stmt*, and when a kept
// statement may be used.

#include <appinfra/db/detail/statement_cache.hpp>

#include <sqlite3.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace appinfra::sqlite::detail {

/// The prepared statements one connection keeps, by their text: at most
/// `capacity`, the least recently used finalized to make room, all finalized when
/// the connection closes. A kept statement is reset and its bindings cleared after
/// each use, so between uses it holds no lock and no value. A schema change needs
/// nothing here: sqlite3_prepare_v2 statements prepare themselves again.
///
/// Only one statement's text is kept (the tail after it must be empty), and only
/// when preparing it did not change the connection (note_change(): a PRAGMA that
/// sets, ATTACH, a TEMP table): preparing such a statement again is what marks the
/// connection dirty. While a statement runs on the connection, another one started
/// from inside it (a SQL function calling back) neither takes nor keeps anything,
/// so a statement is never reset, rebound or finalized under its reader.
///
/// Not thread-safe: the connection's one holder uses it. The counters may be
/// shared, and read from any thread.
class Statements {
 public:
  using Counters = db::detail::StatementCacheCounters;

  /// Keeps nothing.
  Statements() = default;
  /// Keeps up to `capacity` statements (0: none), counting into `counters`.
  Statements(std::size_t capacity, std::shared_ptr<Counters> counters)
      : cache_(capacity), counters_(std::move(counters)) {}
  Statements(const Statements&) = delete;
  Statements& operator=(const Statements&) = delete;
  ~Statements() { finalize_all(); }

  /// A statement for one execution: a kept one (reset after use) or one of its
  /// own (finalized after use).
  class Lease {
   public:
    Lease() = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }

    [[nodiscard]] sqlite3_stmt* get() const noexcept { return stmt_; }
    /// Takes a statement of its own; the one held before is released.
    void own(sqlite3_stmt* st) noexcept {
      release();
      stmt_ = st;
      kept_ = false;
    }

   private:
    friend Statements;
    void release() noexcept {
      if (stmt_ == nullptr) return;
      if (kept_) {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
      } else {
        sqlite3_finalize(stmt_);
      }
      stmt_ = nullptr;
    }
    sqlite3_stmt* stmt_ = nullptr;
    bool kept_ = false;
  };

  /// Marks one execution on the connection, from begin() to its end: a statement
  /// started inside it bypasses the cache.
  class Running {
   public:
    explicit Running(Statements* s) noexcept : s_(s != nullptr && s->usable() ? s : nullptr) {
      if (s_ != nullptr) s_->running_ = true;
      else if (s != nullptr && s->enabled() && s->counters_) s->counters_->miss();  // nested: prepared anew
    }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;
    ~Running() {
      if (s_ != nullptr) s_->running_ = false;
    }
    /// The cache, when this execution may use it.
    [[nodiscard]] Statements* cache() const noexcept { return s_; }

   private:
    Statements* s_;
  };

  /// Whether this execution may use the cache: it is on, and no statement is
  /// running on the connection (a nested one goes without).
  [[nodiscard]] bool usable() const noexcept { return cache_.capacity() > 0 && !running_; }
  [[nodiscard]] bool enabled() const noexcept { return cache_.capacity() > 0; }

  /// Puts the kept statement for `sql` into `lease` and counts a hit; false (a miss
  /// counted) when there is none.
  bool take(std::string_view sql, Lease& lease) noexcept {
    sqlite3_stmt** st = cache_.find(sql);
    if (st == nullptr || sqlite3_stmt_busy(*st)) {  // busy: a reader we cannot see (never, see Running)
      if (counters_) counters_->miss();
      return false;
    }
    if (counters_) counters_->hit();
    lease.release();
    lease.stmt_ = *st;
    lease.kept_ = true;
    return true;
  }

  /// Called before a statement is prepared; note_change() afterwards says it
  /// changed the connection.
  void before_prepare() noexcept { changed_ = false; }
  /// Preparing the current statement changes the connection (the authorizer says so).
  void note_change() noexcept { changed_ = true; }

  /// Keeps the statement in `lease` (prepared from all of `sql`) when it may be
  /// kept; it is then reset after use instead of finalized. The statement evicted to
  /// make room is finalized.
  void keep(std::string_view sql, Lease& lease) {
    if (changed_ || lease.stmt_ == nullptr || lease.kept_ || cache_.find(sql) != nullptr) return;
    auto evicted = cache_.insert(std::string(sql), lease.stmt_);
    lease.kept_ = true;
    if (evicted) {
      sqlite3_finalize(evicted->second);
      if (counters_) counters_->evicted();
    }
  }

  /// Finalizes every kept statement: before the connection closes, or to start
  /// again empty.
  void finalize_all() noexcept {
    cache_.drain([](const std::string&, sqlite3_stmt* st) { sqlite3_finalize(st); });
  }

  [[nodiscard]] std::size_t size() const noexcept { return cache_.size(); }

 private:
  db::detail::StatementCache<sqlite3_stmt*> cache_{0};
  std::shared_ptr<Counters> counters_;
  bool running_ = false;
  bool changed_ = false;
};

}  // namespace appinfra::sqlite::detail
