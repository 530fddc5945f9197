// Many threads, a small pool, random hold times, connections broken at random. Run
// under ThreadSanitizer too (the tsan suite).

#include "../support/stub_backend.hpp"

#include <appinfra/db/pool/queue_pool.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

using namespace appinfra;
using namespace std::chrono_literals;

namespace {

// Runs `body(t)` on `threads` threads, t = 0 .. threads - 1, and joins them.
template <class Body>
void on_threads(int threads, Body body) {
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) ts.emplace_back(body, t);
  for (auto& t : ts) t.join();
}

// Counts the holders of each connection (by the stub's id) while they hold it:
// shared() once any connection had two at once.
class Holders {
 public:
  explicit Holders(std::size_t ids) : count_(ids) {}
  void take(int id) {
    if (count_[static_cast<std::size_t>(id)].fetch_add(1) != 0) shared_ = true;
  }
  void give_back(int id) { count_[static_cast<std::size_t>(id)].fetch_sub(1); }
  [[nodiscard]] bool shared() const { return shared_; }

 private:
  std::vector<std::atomic<int>> count_;
  std::atomic<bool> shared_{false};
};

// After the threads: nothing held, waiting or marked invalid, and every
// connection the stub opened and did not close is in the pool's count.
void check_quiet(const db::PoolStatus& s, const test::StubControl& ctl) {
  CHECK(s.checked_out == 0);
  CHECK(s.waiting == 0);
  CHECK(s.invalid == 0);
  CHECK(ctl.opened - ctl.closed == static_cast<int>(s.total_connections));
}

}  // namespace

TEST_CASE("stress: no connection has two holders, the counts add up, nothing leaks at close") {
  auto ctl = test::stub_control("stress", true);
  db::PoolOptions o;
  o.pool_size = 3;
  o.max_overflow = 2;
  o.timeout = std::chrono::duration<double>(10.0);
  o.pre_ping_window = std::chrono::duration<double>(0.0);  // ping on every checkout
  o.idle_timeout = std::chrono::duration<double>(0.001);
  o.min_idle = 1;
  o.recycle = std::chrono::duration<double>(0.005);
  o.recycle_jitter = 0.5;
  constexpr int threads = 8, rounds = 1500;
  Holders holders(rounds * threads + 16);
  std::atomic<int> invalidated{0}, timeouts{0};
  {
    db::QueuePool<test::StubConnector> pool(test::StubConnector{"stress", ctl, log::Logger(log::Level::off)}, o);
    on_threads(threads, [&](int t) {
      std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1);
      for (int i = 0; i < rounds; ++i) {
        try {
          auto h = pool.acquire();
          const int id = h.get().id;
          holders.take(id);
          if (rng() % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
          if (rng() % 10 == 0) h.get().dirty = true;
          holders.give_back(id);
          if (rng() % 25 == 0) {
            h.invalidate();
            ++invalidated;
          }
        } catch (const db::PoolTimeoutError&) {
          ++timeouts;
        }
        if (t == 0 && i % 100 == 0) {
          const auto s = pool.status();
          CHECK(s.total_connections == s.checked_in + s.checked_out);
          CHECK(s.total_connections <= 5);
          CHECK(s.invalid <= s.checked_out);
        }
      }
    });
    CHECK_FALSE(holders.shared());
    CHECK(timeouts == 0);
    const auto s = pool.status();
    check_quiet(s, *ctl);
    CHECK(s.total_connections == s.checked_in);
    CHECK(s.invalidated_total >= static_cast<std::uint64_t>(invalidated.load()));
    CHECK(s.acquired_total == static_cast<std::uint64_t>(threads * rounds));
    CHECK(pool.drain(std::chrono::steady_clock::now() + 1s) == 0);
  }
  CHECK(ctl->opened == ctl->closed);  // nothing leaked
  CHECK(ctl->opened > 5);             // recycling and invalidation did replace connections
}

TEST_CASE("stress: handles returned while the pool is closed and destroyed") {
  auto ctl = test::stub_control("stress_close", true);
  db::PoolOptions o;
  o.pool_size = 2;
  o.max_overflow = 2;
  o.timeout = std::chrono::duration<double>(0.2);
  std::atomic<bool> go{true};
  std::vector<std::thread> ts;
  {
    db::QueuePool<test::StubConnector> pool(test::StubConnector{"stress_close", ctl, log::Logger(log::Level::off)}, o);
    for (int t = 0; t < 4; ++t)
      ts.emplace_back([&] {
        while (go) {
          try {
            auto h = pool.acquire();
            std::this_thread::yield();
          } catch (const db::Error&) {  // closed, or timed out
          }
        }
      });
    std::this_thread::sleep_for(50ms);
    pool.drain(std::chrono::steady_clock::now() + 1s);
    go = false;
    for (auto& t : ts) t.join();
  }
  CHECK(ctl->opened == ctl->closed);
}

TEST_CASE("stress: handles returned on other threads while the pool is destroyed") {
  // Each round: four threads give their connection back while the owner destroys
  // the pool. The last one back must free the pool's state, exactly once, and
  // every connection must be closed (ASan and TSan check the rest).
  auto ctl = test::stub_control("destroy_race", true);
  db::PoolOptions o;
  o.pool_size = 2;
  o.max_overflow = 2;
  for (int round = 0; round < 2000; ++round) {
    auto pool = std::make_unique<db::QueuePool<test::StubConnector>>(
        test::StubConnector{"destroy_race", ctl, log::Logger(log::Level::off)}, o);
    std::vector<db::QueuePool<test::StubConnector>::Lease> hs;
    for (int i = 0; i < 4; ++i) hs.push_back(pool->acquire());
    std::atomic<int> ready{0};
    std::vector<std::thread> ts;
    for (auto& h : hs)
      ts.emplace_back([&ready, h = std::move(h)]() mutable {
        ++ready;
        while (ready < 5) std::this_thread::yield();
        h.release();
      });
    ++ready;
    while (ready < 5) std::this_thread::yield();
    pool.reset();
    for (auto& t : ts) t.join();
  }
  CHECK(ctl->opened == 8000);
  CHECK(ctl->closed == ctl->opened);
}

TEST_CASE("stress: checkouts with short deadlines either get a connection or time out, and nothing leaks") {
  // A pool too small for its threads, callers with deadlines of 0 to 3 ms (some
  // already passed), some invalidating: every call ends in a connection or a
  // PoolTimeoutError, and afterwards nothing is held, waiting or marked invalid.
  auto ctl = test::stub_control("stress_deadline", true);
  db::PoolOptions o;
  o.pool_size = 2;
  o.max_overflow = 1;
  o.timeout = std::chrono::duration<double>(10.0);
  constexpr int threads = 8, rounds = 400;
  std::atomic<int> got{0}, timeouts{0};
  Holders holders(threads * rounds + 16);
  {
    db::QueuePool<test::StubConnector> pool(test::StubConnector{"stress_deadline", ctl, log::Logger(log::Level::off)},
                                            o);
    on_threads(threads, [&](int t) {
      std::mt19937 rng(static_cast<unsigned>(t) * 104729u + 3);
      for (int i = 0; i < rounds; ++i) {
        const auto deadline = db::Deadline{std::chrono::steady_clock::now() +
                                           std::chrono::microseconds(static_cast<int>(rng() % 3500) - 500)};
        try {
          auto h = pool.acquire(std::source_location::current(), deadline);
          const int id = h.get().id;
          holders.take(id);
          std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
          holders.give_back(id);
          if (rng() % 20 == 0) h.invalidate();
          ++got;
        } catch (const db::PoolTimeoutError&) {
          ++timeouts;
        }
      }
    });
    CHECK_FALSE(holders.shared());
    CHECK(got + timeouts == threads * rounds);
    CHECK(got > 0);
    CHECK(timeouts > 0);
    check_quiet(pool.status(), *ctl);
  }
  CHECK(ctl->opened == ctl->closed);
}
