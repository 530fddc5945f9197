#include <appinfra/db/pool/detail/slots.hpp>
#include <appinfra/db/pool/detail/waiters.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <thread>

using namespace appinfra;
using Table = db::detail::SlotTable<int, std::int64_t>;
namespace d = db::detail;

namespace {
// Fills `n` entries as idle connections returned at the given times.
void fill_idle(Table& t, std::initializer_list<std::int64_t> returned) {
  for (std::int64_t r : returned) {
    auto* e = t.reserve_empty();
    REQUIRE(e != nullptr);
    e->conn.emplace(1);
    e->returned_at.store(r);
    e->state.store(d::idle);
  }
}
}  // namespace

TEST_CASE("reserve_empty hands out each place once, up to the capacity", "[pool][slots]") {
  Table t(3, db::ReuseOrder::lifo);
  auto* a = t.reserve_empty();
  auto* b = t.reserve_empty();
  auto* c = t.reserve_empty();
  REQUIRE((a && b && c));
  CHECK(a != b);
  CHECK(b != c);
  CHECK(t.reserve_empty() == nullptr);
  CHECK(t.open() == 3);
  CHECK(t.count(d::reserved) == 3);
  t.release(*b);
  CHECK(t.open() == 2);
  CHECK(t.count(d::empty) == 1);
  CHECK(t.reserve_empty() == b);
}

TEST_CASE("an orphaned table reserves nothing", "[pool][slots]") {
  Table t(2, db::ReuseOrder::lifo);
  t.open_count.fetch_or(Table::orphan_bit);
  CHECK(t.reserve_empty() == nullptr);
  CHECK(t.open() == 0);
}

TEST_CASE("take_idle takes the most recently returned with LIFO, the least with FIFO", "[pool][slots]") {
  Table lifo(3, db::ReuseOrder::lifo);
  fill_idle(lifo, {10, 30, 20});
  auto* e = lifo.take_idle();
  REQUIRE(e != nullptr);
  CHECK(e->returned_at.load() == 30);
  CHECK(e->state.load() == d::held);
  CHECK(lifo.count(d::idle) == 2);

  Table fifo(3, db::ReuseOrder::fifo);
  fill_idle(fifo, {10, 30, 20});
  e = fifo.take_idle();
  REQUIRE(e != nullptr);
  CHECK(e->returned_at.load() == 10);
}

TEST_CASE("with LIFO a thread first gets back the entry it returned last", "[pool][slots]") {
  Table t(3, db::ReuseOrder::lifo);
  fill_idle(t, {10, 30, 20});
  t.hint(t[0]);  // returned_at 10: not the newest, but this thread's
  auto* e = t.take_idle();
  CHECK(e == &t[0]);
  // Another table's hint is not taken for this one.
  Table other(3, db::ReuseOrder::lifo);
  fill_idle(other, {10, 30, 20});
  t.hint(t[0]);
  CHECK(other.take_idle() == &other[1]);
}

TEST_CASE("take_idle finds nothing when no entry is idle", "[pool][slots]") {
  Table t(2, db::ReuseOrder::lifo);
  CHECK(t.take_idle() == nullptr);
  fill_idle(t, {1, 2});
  CHECK(t.take_idle() != nullptr);
  CHECK(t.take_idle() != nullptr);
  CHECK(t.take_idle() == nullptr);
  CHECK(t.count(d::held) == 2);
}

TEST_CASE("index names an entry's place", "[pool][slots]") {
  Table t(4, db::ReuseOrder::fifo);
  CHECK(t.index(t[0]) == 0);
  CHECK(t.index(t[3]) == 3);
}

TEST_CASE("the waiter queue is first come first served and hands an entry to its head", "[pool][waiters]") {
  using Entry = Table::Entry;
  db::detail::WaiterQueue<Entry> q;
  db::detail::Waiter<Entry> a, b, c;
  Entry e;
  CHECK_FALSE(q.hand_to_waiter(e, false));  // nobody waits
  q.enqueue(a);
  q.enqueue(b);
  q.enqueue(c);
  CHECK(q.first(a));
  q.unlink(b);  // b gave up
  CHECK(q.hand_to_waiter(e, false));
  CHECK(a.entry == &e);
  CHECK_FALSE(a.must_open);
  CHECK(e.state.load() == d::held);
  CHECK(q.first(c));
  CHECK(q.hand_to_waiter(e, true));
  CHECK(c.entry == &e);
  CHECK(c.must_open);
  CHECK(e.state.load() == d::reserved);
  CHECK(q.head == nullptr);
  CHECK(q.tail == nullptr);
}

TEST_CASE("the head is due once it has waited the patience, at once with none; wake_head wakes it once",
          "[pool][waiters]") {
  using Entry = Table::Entry;
  using namespace std::chrono_literals;
  db::detail::WaiterQueue<Entry> q;
  db::detail::Waiter<Entry> a, b;
  CHECK_FALSE(q.head_due(0s));  // nobody waits
  a.since = std::chrono::steady_clock::now();
  b.since = a.since - 1h;  // b waited long, but it is not the head
  q.enqueue(a);
  q.enqueue(b);
  CHECK(q.head_due(0s));  // strict first come, first served: always handed over
  CHECK_FALSE(q.head_due(1h));
  a.since -= 2h;
  CHECK(q.head_due(1h));
  q.wake_head();
  CHECK(q.woken);
  q.unlink(a);  // the woken head left: the next one was not woken
  CHECK_FALSE(q.woken);
}
