// Pool acquire+release with a connector that does nothing: the pool's own cost.
// Compared in the same run with SOCI's connection_pool (lease + give_back) when
// SOCI is available (Debian's libsoci-dev; a benchmark-only dependency).
//
//   build/benchmarks/pool_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <appinfra/db/pool/queue_pool.hpp>
#include <appinfra/log/null_logger.hpp>

#include <benchmark/benchmark.h>

#ifdef APPINFRA_BENCH_SOCI
#include <soci/connection-pool.h>
#endif

#include <string>

using namespace appinfra;

namespace {
// Opens nothing, checks nothing: what remains is the pool.
struct NoopConnector {
  using connection_type = int;
  std::string db = "bench";
  log::NullLogger lg;
  int open() { return 1; }
  bool alive(int&) noexcept { return true; }
  bool ping(int&) noexcept { return true; }
  bool reset(int&) noexcept { return true; }
  const std::string& name() const noexcept { return db; }
  const log::NullLogger& logger() const noexcept { return lg; }
};

db::PoolOptions options(bool pre_ping) {
  db::PoolOptions o;
  o.pool_size = 8;
  o.max_overflow = 0;
  o.pre_ping = pre_ping;
  // No grace: alive() on every checkout, the cost pre-ping adds at its most (the
  // default grace skips it for a connection checked out a moment ago, as here).
  o.pre_ping_grace = std::chrono::duration<double>(0);
  return o;
}

template <class Stats, bool PrePing>
void BM_appinfra(benchmark::State& state) {
  static db::QueuePool<NoopConnector, db::CoarseClock, Stats> pool(NoopConnector{}, options(PrePing));
  for (auto _ : state) {
    auto h = pool.acquire();
    benchmark::DoNotOptimize(h.get());
  }
  state.SetItemsProcessed(state.iterations());
}

#ifdef APPINFRA_BENCH_SOCI
void BM_soci(benchmark::State& state) {
  static soci::connection_pool pool(8);
  for (auto _ : state) {
    const std::size_t i = pool.lease();
    benchmark::DoNotOptimize(i);
    pool.give_back(i);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_soci)->Name("soci_connection_pool")->Threads(1)->Threads(2)->UseRealTime();
#endif

}  // namespace

BENCHMARK(BM_appinfra<db::NoStats, false>)->Name("appinfra_stats_off")->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_appinfra<db::PoolStats, false>)->Name("appinfra_stats_on")->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_appinfra<db::PoolStats, true>)->Name("appinfra_stats_on_pre_ping")->Threads(1)->Threads(2)->UseRealTime();

BENCHMARK_MAIN();
