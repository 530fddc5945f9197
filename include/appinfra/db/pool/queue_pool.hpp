#pragma once
// QueuePool: SQLAlchemy's QueuePool semantics as a pool policy.

#include <appinfra/db/concepts/connector.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/pool/options.hpp>
#include <appinfra/db/stats.hpp>

#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace appinfra::db {

/// Keeps up to `pool_size` idle connections and opens up to `max_overflow` more under
/// load; a caller that finds all of them busy waits at most `timeout`, then gets a
/// PoolTimeoutError. Idle connections are reused most recently used first. A
/// connection older than `recycle` is closed and replaced at checkout; with
/// `pre_ping`, a connection that fails the connector's ping is replaced too.
///
/// Thread safety: every member function may be called concurrently.
/// Lifetime: a Handle may outlive its pool; the pool's state then lives until the
/// last Handle is returned, and that connection is closed instead of pooled.
/// Connections are opened and closed outside the pool's lock.
template <Connector C, class Clock = std::chrono::steady_clock>
class QueuePool {
 public:
  using connector_type = C;
  using connection_type = typename C::connection_type;
  using clock_type = Clock;

 private:
  struct Slot {
    connection_type conn;
    typename Clock::time_point created;
  };

  struct Core {
    Core(C c, PoolOptions o) : connector(std::move(c)), options(o) {
      idle.reserve(o.pool_size);
    }

    C connector;
    const PoolOptions options;
    mutable std::mutex mutex;
    std::condition_variable freed;
    std::vector<Slot> idle;  // back = most recently returned
    std::size_t total = 0;   // open connections, idle or held, plus ones being opened
    std::size_t out = 0;     // held by handles, plus ones being opened for a caller
    bool closed = false;
    bool orphaned = false;   // the pool object is gone; the last handle deletes the core

    [[nodiscard]] std::size_t capacity() const noexcept {
      return options.pool_size + options.max_overflow;
    }

    // Reads the clock only when recycling is on.
    [[nodiscard]] bool expired(const Slot& s) const noexcept {
      return options.recycle.count() >= 0 && Clock::now() - s.created >= options.recycle;
    }

    // Gives a connection back. Returns true when the caller must delete the core.
    bool release(std::optional<Slot>& slot, bool broken) noexcept {
      std::optional<Slot> to_close;
      bool last = false;
      {
        std::lock_guard lock(mutex);
        --out;
        if (closed || broken || idle.size() >= options.pool_size) {
          --total;
          to_close.swap(slot);
        } else {
          idle.push_back(std::move(*slot));
        }
        last = orphaned && out == 0;
        // Notified under the lock: once it is released the core may be deleted.
        freed.notify_one();
      }
      return last;  // to_close is destroyed (the connection closed) outside the lock
    }
  };

 public:
  /// A checked-out connection; gives it back when destroyed. Move-only.
  class Handle {
   public:
    Handle() = default;
    Handle(Handle&& o) noexcept : core_(std::exchange(o.core_, nullptr)), slot_(std::move(o.slot_)), broken_(o.broken_) {
      o.slot_.reset();
    }
    Handle& operator=(Handle&& o) noexcept {
      if (this != &o) {
        release();
        core_ = std::exchange(o.core_, nullptr);
        slot_ = std::move(o.slot_);
        o.slot_.reset();
        broken_ = o.broken_;
      }
      return *this;
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { release(); }

    [[nodiscard]] connection_type& get() noexcept { return slot_->conn; }
    [[nodiscard]] const connection_type& get() const noexcept { return slot_->conn; }
    [[nodiscard]] explicit operator bool() const noexcept { return core_ != nullptr; }
    /// The pool's connector; it lives as long as any handle.
    [[nodiscard]] C& connector() const noexcept { return core_->connector; }

    /// The connection is broken: it is closed on return, never handed out again.
    void invalidate() noexcept { broken_ = true; }

    /// Gives the connection back now; the handle becomes empty.
    void release() noexcept {
      if (core_ == nullptr) return;
      Core* core = std::exchange(core_, nullptr);
      if (core->release(slot_, broken_)) delete core;
    }

   private:
    friend class QueuePool;
    Handle(Core* core, Slot&& slot) noexcept : core_(core), slot_(std::move(slot)) {}
    Core* core_ = nullptr;
    std::optional<Slot> slot_;
    bool broken_ = false;
  };
  using handle_type = Handle;

  QueuePool(C connector, PoolOptions options) : core_(new Core(std::move(connector), options)) {}
  QueuePool(const QueuePool&) = delete;
  QueuePool& operator=(const QueuePool&) = delete;
  ~QueuePool() {
    close();
    bool del = false;
    {
      std::lock_guard lock(core_->mutex);
      core_->orphaned = true;
      del = core_->out == 0;
    }
    if (del) delete core_;
  }

  [[nodiscard]] const PoolOptions& options() const noexcept { return core_->options; }
  [[nodiscard]] C& connector() noexcept { return core_->connector; }

  /// Checks a connection out, opening one if the pool may grow; waits at most
  /// options().timeout. Throws PoolTimeoutError, ConnectionError or ClosedError.
  [[nodiscard]] Handle acquire() {
    Core& k = *core_;
    std::optional<typename Clock::time_point> deadline;  // read the clock only if we must wait
    std::unique_lock lock(k.mutex);
    for (;;) {
      if (k.closed) throw ClosedError(fmt::format("database '{}': pool is closed", k.connector.name()));
      if (!k.idle.empty()) {
        Slot slot = std::move(k.idle.back());
        k.idle.pop_back();
        ++k.out;
        lock.unlock();
        if (k.expired(slot) || (k.options.pre_ping && !k.connector.ping(slot.conn))) {
          // Keep its place in the pool's count and open a replacement for this caller.
          { Slot dead = std::move(slot); }
          return Handle(core_, open_reserved());
        }
        return Handle(core_, std::move(slot));
      }
      if (k.total < k.capacity()) {
        ++k.total;
        ++k.out;
        lock.unlock();
        return Handle(core_, open_reserved());
      }
      if (!deadline)
        deadline = Clock::now() + std::chrono::duration_cast<typename Clock::duration>(k.options.timeout);
      if (k.freed.wait_until(lock, *deadline) == std::cv_status::timeout && k.idle.empty() &&
          k.total >= k.capacity() && !k.closed)
        throw PoolTimeoutError(fmt::format(
            "database '{}': no connection available after waiting {} s: all {} connections are "
            "checked out (pool_size {}, max_overflow {})",
            k.connector.name(), k.options.timeout.count(), k.out, k.options.pool_size,
            k.options.max_overflow));
    }
  }

  /// A snapshot of the pool's occupancy.
  [[nodiscard]] PoolStatus status() const {
    const Core& k = *core_;
    std::lock_guard lock(k.mutex);
    PoolStatus s;
    s.pool_size = k.options.pool_size;
    s.checked_out = k.out;
    s.checked_in = k.idle.size();
    s.total_connections = k.total;
    s.overflow = k.total > k.options.pool_size ? k.total - k.options.pool_size : 0;
    return s;
  }

  /// Closes idle connections now and held ones when they are returned; acquire()
  /// then throws ClosedError. Idempotent.
  void close() noexcept {
    std::vector<Slot> idle;
    {
      std::lock_guard lock(core_->mutex);
      core_->closed = true;
      core_->total -= core_->idle.size();
      idle.swap(core_->idle);
    }
    core_->freed.notify_all();
  }  // idle connections are closed here, outside the lock

 private:
  // Opens a connection for a caller that already holds a place in total and out.
  Slot open_reserved() {
    try {
      return Slot{core_->connector.open(), Clock::now()};
    } catch (...) {
      {
        std::lock_guard lock(core_->mutex);
        --core_->total;
        --core_->out;
      }
      core_->freed.notify_one();
      throw;
    }
  }

  Core* core_;
};

/// Pool policy selecting QueuePool (the default).
struct Queue {
  template <class C, class Clock>
  using pool = QueuePool<C, Clock>;
};

}  // namespace appinfra::db
