#pragma once
// The pool's waiter queue: callers that found every connection busy, first come
// first served among themselves. Guarded by the pool's mutex; nothing here locks.

#include <appinfra/db/pool/detail/slots.hpp>

#include <chrono>
#include <condition_variable>

namespace appinfra::db::detail {

/// One waiting caller, on its own stack; handed an entry by whoever frees one.
template <class Entry>
struct Waiter {
  std::condition_variable cv;
  Entry* entry = nullptr;
  bool must_open = false;  // the entry is reserved and empty: the waiter opens a connection
  std::chrono::steady_clock::time_point since;  // when it began to wait
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
};

/// An intrusive doubly linked list of Waiters (the caller holds the mutex).
template <class Entry>
struct WaiterQueue {
  Waiter<Entry>* head = nullptr;
  Waiter<Entry>* tail = nullptr;
  bool woken = false;  // the head was woken to look for an idle entry and has not looked yet

  bool first(const Waiter<Entry>& w) const noexcept { return &w == head; }

  void enqueue(Waiter<Entry>& w) noexcept {
    w.prev = tail;
    if (tail)
      tail->next = &w;
    else
      head = &w;
    tail = &w;
  }
  void unlink(Waiter<Entry>& w) noexcept {
    if (&w == head) woken = false;  // the next head was not woken
    (w.prev ? w.prev->next : head) = w.next;
    (w.next ? w.next->prev : tail) = w.prev;
    w.prev = w.next = nullptr;
  }
  /// Gives `e` (owned by the caller) to the longest waiter, held, or reserved
  /// when `must_open`, and wakes it; false when nobody waits.
  bool hand_to_waiter(Entry& e, bool must_open) noexcept {
    Waiter<Entry>* w = head;
    if (w == nullptr) return false;
    unlink(*w);
    e.state.store(must_open ? reserved : held, std::memory_order_relaxed);
    w->entry = &e;
    w->must_open = must_open;
    w->cv.notify_one();
    return true;
  }
  /// Whether the head has waited `patience` or longer (and is handed the next
  /// entry returned rather than woken to compete for it).
  bool head_due(std::chrono::steady_clock::duration patience) const noexcept {
    return head != nullptr &&
           (patience <= patience.zero() || std::chrono::steady_clock::now() - head->since >= patience);
  }
  /// Wakes the head to look for an idle entry, unless it was woken already.
  void wake_head() noexcept {
    if (head == nullptr || woken) return;
    woken = true;
    head->cv.notify_one();
  }
  /// Wakes every waiter (the pool is closing).
  void wake_all() noexcept {
    for (Waiter<Entry>* w = head; w != nullptr; w = w->next) w->cv.notify_one();
  }
};

}  // namespace appinfra::db::detail
