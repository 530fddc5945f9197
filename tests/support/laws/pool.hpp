#pragma once
// The laws of db::Pool (concepts/pool.hpp), as generic checks in the style of
// Boost.Hana's test/laws: every model runs the same functions. A model is given
// as a factory `make()` returning a std::unique_ptr to a fresh, warmed-up pool
// whose connector opens connections without failing, and how many connections
// it can hand out at once (`capacity`).

#include <appinfra/db/concepts/pool.hpp>
#include <appinfra/db/errors.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <set>
#include <source_location>
#include <vector>

namespace appinfra::test::laws {

/// status() counts each connection once: total == checked_in + checked_out,
/// invalid <= checked_out, overflow <= total, and checked_out is what callers hold.
inline void check_status_counts_once(const db::PoolStatus& s, std::size_t held) {
  INFO("total " << s.total_connections << ", in " << s.checked_in << ", out " << s.checked_out << ", invalid "
                << s.invalid << ", overflow " << s.overflow);
  CHECK(s.total_connections == s.checked_in + s.checked_out);
  CHECK(s.invalid <= s.checked_out);
  CHECK(s.overflow <= s.total_connections);
  CHECK(s.checked_out == held);
}

/// The drain law db::Pool and db::Interface share, for a model holding one
/// connection: drain() gives up and counts it; given back afterwards (by
/// `give_back()`) it is closed, nothing is checked out (`checked_out()` reads the
/// model's status) and a second drain() finds nothing.
template <class Model, class GiveBack, class CheckedOut>
void check_drain_counts_held(Model& model, GiveBack give_back, CheckedOut checked_out) {
  CHECK(model.drain(std::chrono::steady_clock::now()) == 1);
  give_back();
  CHECK(checked_out() == 0);
  CHECK(model.drain(std::chrono::steady_clock::now()) == 0);
}

/// A connection has at most one holder: leases held at once hold distinct
/// connections; and status() counts them once at every step.
template <db::Pool P, class Make>
void pool_one_holder(Make make, std::size_t capacity) {
  auto pool = make();
  std::vector<typename P::lease_type> held;
  std::set<const void*> connections;
  check_status_counts_once(pool->status(), 0);
  for (std::size_t i = 0; i < capacity; ++i) {
    held.push_back(pool->acquire(std::source_location::current()));
    REQUIRE(static_cast<bool>(held.back()));
    connections.insert(&held.back().get());
    check_status_counts_once(pool->status(), held.size());
  }
  CHECK(connections.size() == capacity);
  held.clear();
  check_status_counts_once(pool->status(), 0);
}

/// A lease gives its connection back when destroyed, and when release()d (after
/// which it is empty; releasing again does nothing).
template <db::Pool P, class Make>
void pool_leases_give_back(Make make) {
  auto pool = make();
  {
    auto h = pool->acquire(std::source_location::current());
    check_status_counts_once(pool->status(), 1);
  }
  check_status_counts_once(pool->status(), 0);
  auto h = pool->acquire(std::source_location::current());
  h.release();
  CHECK_FALSE(static_cast<bool>(h));
  check_status_counts_once(pool->status(), 0);
  h.release();
  check_status_counts_once(pool->status(), 0);
  // Moving a lease moves the holding, not a second one.
  auto a = pool->acquire(std::source_location::current());
  auto b = std::move(a);
  check_status_counts_once(pool->status(), 1);
  b.release();
  check_status_counts_once(pool->status(), 0);
}

/// An invalidated connection is not handed out again, and the pool still serves.
template <db::Pool P, class Make>
void pool_invalidate_then_serve(Make make) {
  auto pool = make();
  {
    auto h = pool->acquire(std::source_location::current());
    h.invalidate();
    check_status_counts_once(pool->status(), 1);
  }
  check_status_counts_once(pool->status(), 0);
  auto h = pool->acquire(std::source_location::current());
  CHECK(static_cast<bool>(h));
  check_status_counts_once(pool->status(), 1);
}

/// close() and drain() are idempotent; after either, acquire() throws a db::Error
/// (ClosedError for the stock pools) and status() still counts once.
template <db::Pool P, class Make>
void pool_close_drain_idempotent(Make make) {
  {
    auto pool = make();
    pool->close();
    pool->close();
    CHECK(pool->drain(std::chrono::steady_clock::now()) == 0);
    CHECK_THROWS_AS(pool->acquire(std::source_location::current()), db::Error);
    check_status_counts_once(pool->status(), 0);
  }
  {
    auto pool = make();
    CHECK(pool->drain(std::chrono::steady_clock::now()) == 0);
    CHECK(pool->drain(std::chrono::steady_clock::now()) == 0);
    pool->close();
    CHECK_THROWS_AS(pool->acquire(std::source_location::current()), db::Error);
  }
  {
    // drain() reports a connection still held when it gives up, and the lease
    // still gives it back (closing it) afterwards.
    auto pool = make();
    auto h = pool->acquire(std::source_location::current());
    check_drain_counts_held(*pool, [&] { h.release(); }, [&] { return pool->status().checked_out; });
  }
}

/// A lease may outlive its pool: giving back after the pool is gone is safe.
template <db::Pool P, class Make>
void pool_lease_outlives_pool(Make make) {
  auto pool = make();
  auto h = pool->acquire(std::source_location::current());
  pool.reset();
  CHECK(static_cast<bool>(h));
  h.release();
  CHECK_FALSE(static_cast<bool>(h));
}

/// A checkout deadline that has already passed throws PoolTimeoutError at once.
template <db::Pool P, class Make>
void pool_passed_deadline_times_out(Make make) {
  auto pool = make();
  const auto past = db::Deadline{std::chrono::steady_clock::now() - std::chrono::seconds(1)};
  CHECK_THROWS_AS(pool->acquire(std::source_location::current(), past), db::PoolTimeoutError);
  check_status_counts_once(pool->status(), 0);
}

/// Every law a pool must keep except outliving (a pool that says it keeps that
/// law runs pool_lease_outlives_pool too).
template <db::Pool P, class Make>
void pool_laws(Make make, std::size_t capacity) {
  pool_one_holder<P>(make, capacity);
  pool_leases_give_back<P>(make);
  pool_invalidate_then_serve<P>(make);
  pool_close_drain_idempotent<P>(make);
  pool_passed_deadline_times_out<P>(make);
}

}  // namespace appinfra::test::laws
