#include "../support/manual_clock.hpp"
#include "../support/stub_backend.hpp"

#include <appinfra/db/pool/queue_pool.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace appinfra;
using test::ManualClock;
using test::StubConnector;
using Pool = db::QueuePool<StubConnector, ManualClock>;
using RealPool = db::QueuePool<StubConnector>;
using namespace std::chrono_literals;

namespace {
db::PoolOptions opts(std::size_t size, std::size_t overflow, double timeout = 30, double recycle = 3600,
                     bool pre_ping = true) {
  return {size, overflow, std::chrono::duration<double>(timeout), std::chrono::duration<double>(recycle), pre_ping};
}
StubConnector stub(const std::string& name) { return StubConnector{name, test::stub_control(name, true)}; }
}  // namespace

TEST_CASE("a returned connection is reused, not reopened") {
  Pool pool(stub("reuse"), opts(2, 0));
  int first = 0;
  {
    auto h = pool.acquire();
    first = h.get().id;
  }
  auto h = pool.acquire();
  CHECK(h.get().id == first);
  CHECK(h.connector().ctl->opened == 1);
}

TEST_CASE("the pool grows to pool_size + max_overflow and keeps pool_size idle") {
  Pool pool(stub("grow"), opts(2, 2));
  {
    std::vector<Pool::Handle> held;
    for (int i = 0; i < 4; ++i) held.push_back(pool.acquire());
    const auto s = pool.status();
    CHECK(s.checked_out == 4);
    CHECK(s.checked_in == 0);
    CHECK(s.overflow == 2);
    CHECK(s.total_connections == 4);
  }
  const auto s = pool.status();
  CHECK(s.pool_size == 2);
  CHECK(s.checked_out == 0);
  CHECK(s.checked_in == 2);
  CHECK(s.overflow == 0);
  CHECK(s.total_connections == 2);
  CHECK(pool.connector().ctl->closed == 2);  // the overflow ones
}

TEST_CASE("overflow is never negative") {
  Pool pool(stub("noneg"), opts(5, 10));
  CHECK(pool.status().overflow == 0);
  auto h = pool.acquire();
  CHECK(pool.status().overflow == 0);
  CHECK(pool.status().total_connections == 1);
}

TEST_CASE("an exhausted pool makes the caller wait at most pool_timeout, then says why") {
  RealPool pool(stub("exhausted"), opts(1, 1, 0.05));
  auto a = pool.acquire();
  auto b = pool.acquire();
  try {
    (void)pool.acquire();
    FAIL("expected PoolTimeoutError");
  } catch (const db::PoolTimeoutError& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Matchers::Contains("'exhausted'") && Catch::Matchers::Contains("2 connections are checked out") &&
                         Catch::Matchers::Contains("pool_size 1") && Catch::Matchers::Contains("max_overflow 1"));
  }
}

TEST_CASE("a waiting caller gets the connection another returns") {
  RealPool pool(stub("handoff"), opts(1, 0, 10));
  auto held = pool.acquire();
  const int id = held.get().id;
  std::atomic<int> got{0};
  std::thread waiter([&] { got = pool.acquire().get().id; });
  while (pool.status().checked_out < 1) std::this_thread::yield();
  held.release();
  waiter.join();
  CHECK(got == id);
}

TEST_CASE("a connection older than pool_recycle is replaced at checkout") {
  ManualClock::reset();
  Pool pool(stub("recycle"), opts(1, 0, 30, 60));
  int first = 0;
  { first = pool.acquire().get().id; }
  ManualClock::advance(59s);
  { CHECK(pool.acquire().get().id == first); }
  ManualClock::advance(2s);
  auto h = pool.acquire();
  CHECK(h.get().id != first);
  CHECK(h.connector().ctl->opened == 2);
  CHECK(h.connector().ctl->closed == 1);
}

TEST_CASE("pool_recycle -1 never recycles") {
  ManualClock::reset();
  Pool pool(stub("norecycle"), opts(1, 0, 30, -1));
  int first = pool.acquire().get().id;
  ManualClock::advance(std::chrono::hours(24 * 365));
  CHECK(pool.acquire().get().id == first);
}

TEST_CASE("with pre_ping a connection that fails its ping is replaced, never handed out") {
  Pool pool(stub("preping"), opts(1, 0));
  int first = pool.acquire().get().id;
  pool.connector().ctl->fail_ping = true;
  auto h = pool.acquire();
  CHECK(h.get().id != first);
  CHECK(h.connector().ctl->closed == 1);
}

TEST_CASE("without pre_ping no ping is sent") {
  Pool pool(stub("noping"), opts(1, 0, 30, 3600, false));
  { auto h = pool.acquire(); }
  { auto h = pool.acquire(); }
  CHECK(pool.connector().ctl->pings == 0);
}

TEST_CASE("an invalidated connection is closed on return") {
  Pool pool(stub("invalidate"), opts(2, 0));
  int first = 0;
  {
    auto h = pool.acquire();
    first = h.get().id;
    h.invalidate();
  }
  CHECK(pool.status().total_connections == 0);
  CHECK(pool.acquire().get().id != first);
}

TEST_CASE("a failed connect gives its place back") {
  Pool pool(stub("failopen"), opts(1, 0, 0.05));
  pool.connector().ctl->fail_open = true;
  CHECK_THROWS_AS(pool.acquire(), db::ConnectionError);
  CHECK(pool.status().total_connections == 0);
  CHECK(pool.status().checked_out == 0);
  pool.connector().ctl->fail_open = false;
  CHECK(pool.acquire().get().id == 1);
}

TEST_CASE("close() closes idle connections, refuses checkouts and closes held ones on return") {
  Pool pool(stub("closing"), opts(2, 0));
  auto held = pool.acquire();
  { auto idle = pool.acquire(); }
  pool.close();
  CHECK(pool.connector().ctl->closed == 1);
  CHECK_THROWS_AS(pool.acquire(), db::ClosedError);
  held.release();
  CHECK(pool.connector().ctl->closed == 2);
  CHECK(pool.status().total_connections == 0);
  pool.close();  // idempotent
}

TEST_CASE("a handle may outlive its pool") {
  auto ctl = test::stub_control("outlive", true);
  Pool::Handle h;
  {
    Pool pool(StubConnector{"outlive", ctl}, opts(1, 0));
    h = pool.acquire();
  }
  CHECK(ctl->closed == 0);
  h.release();
  CHECK(ctl->closed == 1);
}

TEST_CASE("many threads on a small pool never share a connection and leave the counts whole") {
  RealPool pool(stub("threads"), opts(2, 1, 10));
  std::atomic<int> holders[64] = {};
  std::atomic<bool> shared{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto h = pool.acquire();
        if (holders[h.get().id % 64].fetch_add(1) != 0) shared = true;
        holders[h.get().id % 64].fetch_sub(1);
      }
    });
  for (auto& t : threads) t.join();
  CHECK_FALSE(shared);
  const auto s = pool.status();
  CHECK(s.checked_out == 0);
  CHECK(s.total_connections == s.checked_in);
  CHECK(s.total_connections <= 3);
  CHECK(pool.connector().ctl->opened - pool.connector().ctl->closed == static_cast<int>(s.total_connections));
}
