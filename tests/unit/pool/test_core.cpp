// PoolCore (db/pool/detail/core.hpp) and its housekeeping (housekeeping.hpp), with
// the slot table filled by hand: what a return keeps, what housekeeping closes.

#include "../../support/manual_clock.hpp"
#include "../../support/stub_backend.hpp"

#include <appinfra/db/pool/detail/core.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <initializer_list>

using namespace appinfra;
using test::ManualClock;
using Core = db::detail::PoolCore<test::StubConnector, ManualClock, db::NoStats>;
using T = Core::ticks;
namespace d = db::detail;

namespace {
db::PoolOptions options(std::size_t size, std::size_t overflow) {
  db::PoolOptions o;
  o.pool_size = size;
  o.max_overflow = overflow;
  o.min_idle = 0;
  o.hold_warning = std::chrono::duration<double>(-1);
  return o;
}
Core::Entry& open_entry(Core& core, std::uint8_t state, double returned_s) {
  auto* e = core.slots.reserve_empty();
  REQUIRE(e != nullptr);
  e->conn.emplace(core.connector.open());
  e->returned_at.store(T::of(std::chrono::duration<double>(returned_s)));
  e->state.store(state);
  return *e;
}
test::StubConnector stub(const char* name) { return test::StubConnector{name, test::stub_control(name, true)}; }
// Two connections, no overflow, the given handoff_after (seconds).
db::PoolOptions handoff_options(double handoff_after) {
  auto o = options(2, 0);
  o.handoff_after = std::chrono::duration<double>(handoff_after);
  return o;
}
// Queues `w` as a caller that begins to wait now (what QueuePool::wait() does).
void queue_waiter(Core& core, d::Waiter<Core::Entry>& w) {
  w.since = std::chrono::steady_clock::now();
  core.queue.enqueue(w);
  core.waiters = 1;
}
}  // namespace

TEST_CASE("a return closes the connection when the pool keeps none", "[pool][core]") {
  Core core(stub("core-none"), options(0, 3));
  open_entry(core, d::held, 0);
  CHECK(core.close_on_return());
}

TEST_CASE("overflow_idle_timeout 0 closes an overflow connection returned while pool_size are idle", "[pool][core]") {
  auto o = options(2, 2);
  o.overflow_idle_timeout = std::chrono::duration<double>(0);
  Core core(stub("core-zero"), o);
  open_entry(core, d::idle, 0);
  open_entry(core, d::held, 0);
  open_entry(core, d::held, 0);
  CHECK_FALSE(core.close_on_return());  // one idle: the returned one is needed
  open_entry(core, d::idle, 0);
  CHECK(core.close_on_return());  // 4 open, 2 idle: an overflow one
}

TEST_CASE("by default a return keeps an overflow connection", "[pool][core]") {
  Core core(stub("core-keep"), options(1, 3));
  open_entry(core, d::idle, 0);
  open_entry(core, d::idle, 0);
  open_entry(core, d::held, 0);
  CHECK_FALSE(core.close_on_return());
}

TEST_CASE("housekeeping closes overflow connections idle past overflow_idle_timeout down to pool_size",
          "[pool][core][housekeeping]") {
  auto o = options(2, 3);
  o.overflow_idle_timeout = std::chrono::duration<double>(10);
  o.idle_timeout = std::chrono::duration<double>(600);
  Core core(stub("core-overflow"), o);
  for (double returned : {0.0, 1.0, 2.0, 8.0}) open_entry(core, d::idle, returned);
  open_entry(core, d::held, 0);
  core.housekeeping(T::of(std::chrono::duration<double>(11)));  // idle 11, 10, 9, 3 s
  CHECK(core.slots.open() == 3);  // 2 closed: the two idle past 10 s
  CHECK(core.connector.ctl->closed == 2);
  core.next_housekeeping.store(0);
  core.housekeeping(T::of(std::chrono::duration<double>(100)));
  CHECK(core.slots.open() == 2);  // never below pool_size for overflow_idle_timeout
  core.next_housekeeping.store(0);
  core.housekeeping(T::of(std::chrono::duration<double>(700)));
  CHECK(core.slots.open() == 1);  // idle_timeout: down to min_idle (0), the held one stays
  CHECK(core.slots.count(d::held) == 1);
}

TEST_CASE("housekeeping runs at most once per period", "[pool][core][housekeeping]") {
  auto o = options(1, 1);
  o.overflow_idle_timeout = std::chrono::duration<double>(8);  // a quarter is 2 s: the period is 1 s
  Core core(stub("core-period"), o);
  open_entry(core, d::idle, 0);
  open_entry(core, d::idle, -1);
  core.housekeeping(T::of(std::chrono::duration<double>(6.9)));  // runs: nothing idle 8 s yet
  CHECK(core.slots.open() == 2);
  core.housekeeping(T::of(std::chrono::duration<double>(7.5)));  // one idle 8.5 s, but not due before 7.9
  CHECK(core.slots.open() == 2);
  core.housekeeping(T::of(std::chrono::duration<double>(7.9)));
  CHECK(core.slots.open() == 1);
}

TEST_CASE("status counts each connection once", "[pool][core]") {
  Core core(stub("core-status"), options(2, 2));
  open_entry(core, d::idle, 0);
  open_entry(core, d::held, 0).broken.store(true);
  open_entry(core, d::held, 0);
  const auto s = core.status();
  CHECK(s.checked_in == 1);
  CHECK(s.checked_out == 2);
  CHECK(s.invalid == 1);
  CHECK(s.total_connections == 3);
  CHECK(s.overflow == 1);
}

TEST_CASE("a return with a waiter not yet due leaves the connection idle and wakes the waiter; a due one is handed it",
          "[pool][core][waiters]") {
  using namespace std::chrono_literals;
  Core core(stub("core-barge"), handoff_options(3600));
  auto& e = open_entry(core, d::returning, 0);
  d::Waiter<Core::Entry> w;
  queue_waiter(core, w);
  core.make_idle(e);
  CHECK(e.state.load() == d::idle);  // for whoever asks first
  CHECK(w.entry == nullptr);
  CHECK(core.queue.woken);
  CHECK(core.slots.take_idle() == &e);  // a running caller takes it
  w.since -= 2h;                        // now it has waited past handoff_after
  e.state.store(d::returning);
  core.make_idle(e);
  CHECK(w.entry == &e);
  CHECK(e.state.load() == d::held);
  CHECK(core.queue.head == nullptr);
  core.waiters = 0;
}

TEST_CASE("handoff_after 0 hands every return to the longest waiter", "[pool][core][waiters]") {
  Core core(stub("core-fifo"), handoff_options(0));
  CHECK_FALSE(core.barging);
  auto& e = open_entry(core, d::returning, 0);
  d::Waiter<Core::Entry> w;
  queue_waiter(core, w);
  core.make_idle(e);
  CHECK(w.entry == &e);
  CHECK(e.state.load() == d::held);
  core.waiters = 0;
}
