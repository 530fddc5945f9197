// Pool churn under a steady load above pool_size, for scripts/bench.sh.
//
//   pg_churn OVERFLOW_IDLE_TIMEOUT THREADS SECONDS THINK_US [URL]   (URL defaults to $DATABASE_URL)
//
// THREADS workers (8 in the suite) run checkout + execute("SELECT 1") + return,
// then sleep THINK_US microseconds (the rest of a request's work), through db::Manager<pg::PG<>> on pool_size 4 + max_overflow 2 (pool_timeout 2 s)
// with the given overflow_idle_timeout (0: SQLAlchemy's rule, an overflow
// connection returned while pool_size are idle is closed). After a warm-up second
// (not counted), counts the connections the pool opened (each a full login) while
// the queries ran.
//
// Prints one JSON line: {"overflow_idle_timeout", "threads", "seconds", "queries",
// "opened", "opened_per_100k", "per_second"}.

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace appinfra;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) try {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s OVERFLOW_IDLE_TIMEOUT THREADS SECONDS THINK_US [URL]\n", argv[0]);
    return 2;
  }
  const double overflow_idle_timeout = std::atof(argv[1]);
  const int threads = std::atoi(argv[2]);
  const double seconds = std::atof(argv[3]);
  const auto think = std::chrono::microseconds(std::atoi(argv[4]));
  const char* env = std::getenv("DATABASE_URL");
  const std::string url = argc > 5 ? argv[5] : (env != nullptr ? env : "");
  if (url.empty() || threads < 1 || seconds <= 0) throw std::runtime_error("need a url, threads >= 1, seconds > 0");

  auto logger = log::LoggerFactory::create_root(log::LogConfig::from_params("warning"));
  db::Manager<pg::PG<>> manager(logger, {{"bench", {{"url", url},
                                                    {"pool_size", 4},
                                                    {"max_overflow", 2},
                                                    {"pool_timeout", 2.0},
                                                    {"overflow_idle_timeout", overflow_idle_timeout}}}});
  manager.setup();
  auto& database = manager.db("bench");

  std::atomic<bool> counting{false}, stop{false}, failed{false};
  std::atomic<long long> queries{0};
  std::string error;
  std::mutex error_mutex;
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i)
    workers.emplace_back([&] {
      try {
        long long n = 0;
        bool counted = false;
        while (!stop.load(std::memory_order_relaxed)) {
          auto r = database.connect().execute("SELECT 1");  // checkout, execute, return
          if (r.size() != 1) throw std::runtime_error("SELECT 1 gave no row");
          if (think.count() > 0) std::this_thread::sleep_for(think);
          if (counting.load(std::memory_order_relaxed)) {
            counted = true;
            ++n;
          }
        }
        if (counted) queries.fetch_add(n);
      } catch (const std::exception& e) {
        std::lock_guard lk(error_mutex);
        error = e.what();
        failed = true;
      }
    });
  std::this_thread::sleep_for(std::chrono::seconds(1));  // warm-up: the pool grows to 6
  const auto opened_before = database.get_pool_status().created_total;
  const auto t0 = Clock::now();
  counting = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const auto opened = database.get_pool_status().created_total - opened_before;
  counting = false;
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  stop = true;
  for (auto& t : workers) t.join();
  if (failed) throw std::runtime_error(error);
  const long long q = queries.load();
  std::printf(
      "{\"overflow_idle_timeout\": %g, \"threads\": %d, \"seconds\": %.3f, \"queries\": %lld, \"opened\": %llu, "
      "\"opened_per_100k\": %.2f, \"per_second\": %.1f}\n",
      overflow_idle_timeout, threads, elapsed, q, static_cast<unsigned long long>(opened),
      q > 0 ? 1e5 * static_cast<double>(opened) / static_cast<double>(q) : 0.0, static_cast<double>(q) / elapsed);
  manager.close_all();
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "pg_churn: %s\n", e.what());
  return 1;
}
