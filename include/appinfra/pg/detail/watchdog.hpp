#pragma once
// Deadlines of running statements: a cancel request when one passes.

#include <libpq-fe.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <algorithm>
#include <map>
#include <new>
#include <mutex>
#include <thread>
#include <utility>

namespace appinfra::pg::detail {

/// Sends libpq's cancel request for a statement still running at its deadline; if
/// it is still running `hard_grace` later (the server cannot be reached: a network
/// partition the keepalives have not noticed yet), shuts the connection's socket
/// down, so that the statement fails at once and the connection is replaced. One
/// thread for the process, started by the first statement given a deadline; the
/// cancel request itself (a new connection to the server) goes from a thread of
/// its own, so that an unreachable server delays no other deadline.
///
/// A cancel request that arrives after its statement has ended is ignored by an
/// idle server; one that races with the connection's next statement could cancel
/// that one (a window of the request's own round trip), as in every libpq client.
class Watchdog {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds hard_grace{1};

  static Watchdog& instance() {
    static Watchdog w;
    return w;
  }

  /// Watches the statement about to run on `conn` until `at`; returns a ticket for
  /// disarm(). Throws (no memory, no thread) before anything is sent.
  std::uint64_t arm(PGconn* conn, clock::time_point at) {
    PGcancel* cancel = PQgetCancel(conn);  // in the statement's thread, before it runs
    if (cancel == nullptr) throw std::bad_alloc();
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    const std::uint64_t id = ++next_;
    armed_.emplace(id, Entry{at, cancel, PQsocket(conn), false});
    cv_.notify_one();
    return id;
  }

  /// The statement ended: nothing more is done for it. Returns whether its cancel
  /// request was sent.
  bool disarm(std::uint64_t id) noexcept {
    std::lock_guard lock(mutex_);
    const auto it = armed_.find(id);
    if (it == armed_.end()) return false;
    const bool fired = it->second.fired;
    if (!fired) PQfreeCancel(it->second.cancel);
    armed_.erase(it);
    return fired;
  }

  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
    for (auto& [id, e] : armed_)
      if (!e.fired) PQfreeCancel(e.cancel);
  }

 private:
  struct Entry {
    clock::time_point at;
    PGcancel* cancel;  // owned until fired; then the sending thread's
    int fd;
    bool fired;
  };

  Watchdog() = default;

  void loop() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      auto next = clock::time_point::max();
      const auto now = clock::now();
      for (auto& [id, e] : armed_) {
        if (!e.fired && now >= e.at) {
          e.fired = true;
          std::thread([c = e.cancel] {
            char buf[256];
            PQcancel(c, buf, sizeof buf);  // a failure shows as the hard limit
            PQfreeCancel(c);
          }).detach();
        }
        if (e.fired && now >= e.at + hard_grace && e.fd >= 0) {
          ::shutdown(e.fd, SHUT_RDWR);  // the statement's thread waits in disarm() meanwhile: fd is still its own
          e.fd = -1;
        }
        if (!e.fired) next = std::min(next, e.at);
        else if (e.fd >= 0) next = std::min(next, e.at + hard_grace);
      }
      if (next == clock::time_point::max()) cv_.wait(lock);
      else cv_.wait_until(lock, next);
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::uint64_t, Entry> armed_;
  std::uint64_t next_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

/// Watches one statement; disarmed when destroyed.
class DeadlineGuard {
 public:
  DeadlineGuard(PGconn* conn, Watchdog::clock::time_point at) : id_(Watchdog::instance().arm(conn, at)) {}
  DeadlineGuard(const DeadlineGuard&) = delete;
  DeadlineGuard& operator=(const DeadlineGuard&) = delete;
  ~DeadlineGuard() { Watchdog::instance().disarm(id_); }

 private:
  std::uint64_t id_;
};

}  // namespace appinfra::pg::detail
