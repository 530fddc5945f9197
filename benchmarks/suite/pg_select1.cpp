// SELECT 1 throughput against a live PostgreSQL, for scripts/bench.sh.
//
//   pg_select1 MODE THREADS SECONDS [URL]      (URL defaults to $DATABASE_URL)
//
// MODE:
//   appinfra           a full checkout + execute("SELECT 1") + return per query, through
//                      db::Manager<pg::PG<>> with pool_pre_ping on (what a service does)
//   appinfra_prepared  the same with a prepared statement: PG::prepare("select1", "SELECT 1")
//                      once, then checkout + execute_prepared("select1") + return per query
//   raw                libpqxx 6 on one connection held by each thread:
//                      pqxx::nontransaction + exec("SELECT 1") per query
//   newconn            a new pqxx::connection per query
//   appinfra_pipeline  a pooled checkout + pipeline(100 x "SELECT 1") + return per batch
//   raw_pipeline       libpqxx's own pqxx::pipeline of 100 "SELECT 1" on a held connection
//   appinfra_select_only  pgbench's select-only (-S) statement with a random aid, through
//                      checkout + execute(sql, aid) + return (automatic preparation on)
//   appinfra_select_only_unprepared  the same with prepare_threshold 0
//   raw_select_only    the same statement through libpqxx's exec_params on a held
//                      connection (no preparation)
//   appinfra_simple_update  pgbench's simple-update transaction (-N) through session():
//                      UPDATE pgbench_accounts, SELECT its abalance, INSERT pgbench_history,
//                      commit; an op is a transaction
//   (APPINFRA_BENCH_POOL_SIZE fixes the pool's size, with no overflow: threads
//   outnumber connections; the select-only and simple-update modes need `pgbench -i`'s tables; SCALE, default
//   1, is read from the environment variable PGBENCH_SCALE)
//
// Prints one JSON line: {"mode", "threads", "seconds", "ops", "per_second",
// "fewest_share"} and, for the appinfra modes, the pool's acquire waits ("wait_p50_ms",
// "wait_p99_ms", "wait_max_under_ms": the histogram bound every wait was under,
// "timeouts"), where an op is one statement (a batch counts 100).

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>

#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace appinfra;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kBatch = 100;

// Runs `threads` workers; each calls setup() once (not timed), then `op()` until the
// deadline; op returns how many statements it ran. Returns {ops, seconds}.
struct Outcome {
  long long ops;
  double seconds;
  long long fewest;  // the ops of the thread that ran fewest (a starved thread shows here)
};

template <class MakeWorker>
Outcome drive(int threads, double seconds, MakeWorker make_worker) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false}, stop{false};
  std::vector<long long> counts(threads, 0);
  std::vector<std::thread> pool;
  std::atomic<bool> failed{false};
  std::string error;
  std::mutex error_mutex;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      try {
        std::function<int()> op = make_worker();
        op();  // warm: the connection is open and the first statement answered
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        long long n = 0;
        while (!stop.load(std::memory_order_relaxed)) n += op();
        counts[i] = n;
      } catch (const std::exception& e) {
        {
          std::lock_guard lk(error_mutex);
          error = e.what();
        }
        failed = true;
        ready.fetch_add(1);
      }
    });
  }
  while (ready.load() < threads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto t0 = Clock::now();
  go.store(true, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : pool) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  if (failed) throw std::runtime_error(error);
  long long total = 0;
  for (auto c : counts) total += c;
  return {total, elapsed, *std::min_element(counts.begin(), counts.end())};
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: %s appinfra|appinfra_prepared|raw|newconn|appinfra_pipeline|raw_pipeline|"
                 "appinfra_select_only|appinfra_select_only_unprepared|raw_select_only|appinfra_simple_update "
                 "THREADS SECONDS [URL]\n",
                 argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  const int threads = std::atoi(argv[2]);
  const double seconds = std::atof(argv[3]);
  const char* env = std::getenv("DATABASE_URL");
  const std::string url = argc > 4 ? argv[4] : (env != nullptr ? env : "");
  if (url.empty() || threads < 1 || seconds <= 0) throw std::runtime_error("need a url, threads >= 1, seconds > 0");

  // APPINFRA_BENCH_POOL_SIZE: a fixed pool (no overflow), for more threads than
  // connections; by default one connection per thread (at least 5).
  const char* pool_env = std::getenv("APPINFRA_BENCH_POOL_SIZE");
  const int pool_size = pool_env != nullptr ? std::atoi(pool_env) : 0;
  // APPINFRA_BENCH_HANDOFF_AFTER: the pool's handoff_after, in seconds (0: strict
  // first come, first served); the default when unset.
  const char* handoff_env = std::getenv("APPINFRA_BENCH_HANDOFF_AFTER");
  const char* scale_env = std::getenv("PGBENCH_SCALE");
  const int accounts = 100000 * std::max(1, scale_env != nullptr ? std::atoi(scale_env) : 1);
  // pgbench's random aid, per thread.
  const auto random_aid = [accounts] {
    thread_local std::mt19937 rng(std::random_device{}());
    return std::uniform_int_distribution<int>(1, accounts)(rng);
  };
  static constexpr const char* select_only = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";

  Outcome out{};
  std::string pool_json;  // the pool's waits, for the appinfra modes
  if (mode == "appinfra" || mode == "appinfra_prepared" || mode == "appinfra_pipeline" ||
      mode == "appinfra_select_only" || mode == "appinfra_select_only_unprepared" || mode == "appinfra_simple_update") {
    auto logger = log::LoggerFactory::create_root(log::LogConfig::from_params("warning"));
    db::Options params{{"url", url},
                       {"pool_pre_ping", true},
                       {"pool_size", pool_size > 0 ? pool_size : std::max(5, threads)},
                       {"max_overflow", pool_size > 0 ? 0 : 10},
                       {"pool_timeout", 30},
                       {"prepare_threshold", mode == "appinfra_select_only_unprepared" ? 0 : 5}};
    if (handoff_env != nullptr) params.set("handoff_after", std::atof(handoff_env));
    db::Manager<pg::PG<>> manager(logger, {{"bench", params}});
    manager.setup();
    auto& database = manager.db("bench");
    if (mode == "appinfra") {
      out = drive(threads, seconds, [&] {
        return std::function<int()>([&] {
          auto r = database.connect().execute("SELECT 1");  // checkout, execute, return
          if (r.size() != 1) throw std::runtime_error("SELECT 1 gave no row");
          return 1;
        });
      });
    } else if (mode == "appinfra_prepared") {
      auto& pg = database.get<pg::PG<>>();
      pg.prepare("select1", "SELECT 1");
      out = drive(threads, seconds, [&] {
        return std::function<int()>([&] {
          auto r = pg.connect().execute_prepared("select1");
          if (r.size() != 1) throw std::runtime_error("SELECT 1 gave no row");
          return 1;
        });
      });
    } else if (mode == "appinfra_select_only" || mode == "appinfra_select_only_unprepared") {
      out = drive(threads, seconds, [&] {
        return std::function<int()>([&] {
          auto r = database.connect().execute(select_only, random_aid());
          if (r.size() != 1) throw std::runtime_error("no such account");
          return 1;
        });
      });
    } else if (mode == "appinfra_simple_update") {
      out = drive(threads, seconds, [&] {
        return std::function<int()>([&] {
          const int aid = random_aid(), tid = 1 + aid % (accounts / 10000), bid = 1 + (aid - 1) / 100000;
          const int delta = static_cast<int>(random_aid() % 10001) - 5000;
          auto s = database.session();
          s.execute("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2", delta, aid);
          s.execute(select_only, aid);
          s.execute("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, "
                    "CURRENT_TIMESTAMP)",
                    tid, bid, aid, delta);
          s.commit();
          return 1;
        });
      });
    } else {
      auto& pg = database.get<pg::PG<>>();
      const std::vector<std::string> batch(kBatch, "SELECT 1");
      out = drive(threads, seconds, [&] {
        return std::function<int()>([&] {
          auto rs = pg.connect().pipeline(batch);
          if (rs.size() != kBatch) throw std::runtime_error("pipeline gave too few results");
          return kBatch;
        });
      });
    }
    const db::PoolStatus st = database.get_pool_status();
    std::size_t max_bucket = st.acquire_wait.le.size();  // the first bound every wait is under
    for (std::size_t i = 0; i < st.acquire_wait.le.size(); ++i)
      if (st.acquire_wait.le[i] == st.acquire_wait.count) {
        max_bucket = i;
        break;
      }
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  ", \"wait_p50_ms\": %.3f, \"wait_p99_ms\": %.3f, \"wait_max_under_ms\": %.1f, \"timeouts\": %llu",
                  st.acquire_wait_p50_ms, st.acquire_wait_p99_ms,
                  max_bucket < db::duration_bounds_s.size() ? 1000 * db::duration_bounds_s[max_bucket] : -1.0,
                  static_cast<unsigned long long>(st.timeouts_total));
    pool_json = buf;
    manager.close_all();
  } else if (mode == "raw") {
    out = drive(threads, seconds, [&] {
      auto c = std::make_shared<pqxx::connection>(url);
      return std::function<int()>([c] {
        pqxx::nontransaction t(*c);
        auto r = t.exec("SELECT 1");
        if (r.size() != 1) throw std::runtime_error("SELECT 1 gave no row");
        return 1;
      });
    });
  } else if (mode == "raw_select_only") {
    out = drive(threads, seconds, [&] {
      auto c = std::make_shared<pqxx::connection>(url);
      return std::function<int()>([c, &random_aid] {
        pqxx::nontransaction t(*c);
        auto r = t.exec_params(select_only, random_aid());
        if (r.size() != 1) throw std::runtime_error("no such account");
        return 1;
      });
    });
  } else if (mode == "newconn") {
    out = drive(threads, seconds, [&] {
      return std::function<int()>([&] {
        pqxx::connection c(url);
        pqxx::nontransaction t(c);
        auto r = t.exec("SELECT 1");
        if (r.size() != 1) throw std::runtime_error("SELECT 1 gave no row");
        return 1;
      });
    });
  } else if (mode == "raw_pipeline") {
    out = drive(threads, seconds, [&] {
      auto c = std::make_shared<pqxx::connection>(url);
      return std::function<int()>([c] {
        pqxx::nontransaction t(*c);
        pqxx::pipeline p(t);
        std::vector<pqxx::pipeline::query_id> ids;
        ids.reserve(kBatch);
        for (int i = 0; i < kBatch; ++i) ids.push_back(p.insert("SELECT 1"));
        p.complete();
        for (auto id : ids)
          if (p.retrieve(id).size() != 1) throw std::runtime_error("SELECT 1 gave no row");
        return kBatch;
      });
    });
  } else {
    throw std::runtime_error("unknown mode " + mode);
  }
  // fewest_share: the ops of the thread that ran fewest against the mean per thread.
  std::printf("{\"mode\": \"%s\", \"threads\": %d, \"seconds\": %.3f, \"ops\": %lld, \"per_second\": %.1f, "
              "\"fewest_share\": %.3f%s}\n",
              mode.c_str(), threads, out.seconds, out.ops, static_cast<double>(out.ops) / out.seconds,
              out.ops > 0 ? static_cast<double>(out.fewest) * threads / static_cast<double>(out.ops) : 0.0,
              pool_json.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "pg_select1: %s\n", e.what());
  return 1;
}
