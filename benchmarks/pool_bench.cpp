// Pool acquire/release with the stub backend: no I/O, only the pool's own cost.

#include "../tests/support/stub_backend.hpp"

#include <appinfra/db/pool/queue_pool.hpp>

#include <benchmark/benchmark.h>

using namespace appinfra;

namespace {
db::QueuePool<test::StubConnector>& shared_pool(bool pre_ping) {
  static db::QueuePool<test::StubConnector> with_ping(test::StubConnector{"bench", test::stub_control("bench")},
                                                      {8, 8, std::chrono::seconds(30), std::chrono::seconds(-1), true});
  static db::QueuePool<test::StubConnector> without(test::StubConnector{"bench_np", test::stub_control("bench_np")},
                                                    {8, 8, std::chrono::seconds(30), std::chrono::seconds(-1), false});
  return pre_ping ? with_ping : without;
}

void BM_AcquireRelease(benchmark::State& state) {
  auto& pool = shared_pool(state.range(0) != 0);
  for (auto _ : state) {
    auto h = pool.acquire();
    benchmark::DoNotOptimize(h.get().id);
  }
  state.SetItemsProcessed(state.iterations());
}
}  // namespace

BENCHMARK(BM_AcquireRelease)->ArgName("pre_ping")->Arg(0)->Arg(1)->Threads(1)->Threads(2)->UseRealTime();

BENCHMARK_MAIN();
