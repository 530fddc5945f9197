#include "../support/stub_backend.hpp"

#include <appinfra/db.hpp>
#include <appinfra/db/detail/failure_counter.hpp>
#include <appinfra/db/metrics.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace appinfra;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {
// A MetricsSource with figures a test chooses.
struct FixedSource {
  db::ManagerStats stats;
  std::vector<db::DatabaseState> states;
  [[nodiscard]] db::ManagerStats get_stats() const { return stats; }
  [[nodiscard]] std::vector<db::DatabaseState> get_database_states() const { return states; }
};

db::DatabaseState up(std::string name, db::PoolStatus p) {
  db::DatabaseState d;
  d.name = std::move(name);
  d.state = db::SetupState::up;
  d.attempts = 1;
  d.has_pool = true;
  d.pool = p;
  return d;
}

// The lines of `text` that start with `prefix`.
std::string lines_starting(const std::string& text, std::string_view prefix) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = text.find('\n', at);
    const std::string_view line(text.data() + at, (end == std::string::npos ? text.size() : end) - at);
    if (line.substr(0, prefix.size()) == prefix) (out += line) += '\n';
    at = end == std::string::npos ? text.size() : end + 1;
  }
  return out;
}
}  // namespace

TEST_CASE("the Prometheus text of a pool without statistics and a database being retried, exactly") {
  db::PoolStatus p;
  p.pool_size = 5;
  p.max_connections = 15;
  p.checked_in = 2;
  p.checked_out = 1;
  p.total_connections = 3;
  p.errors_total[static_cast<std::size_t>(db::Failure::query)] = 4;
  p.errors_total[static_cast<std::size_t>(db::Failure::connection_lost)] = 1;
  db::DatabaseState retried;
  retried.name = "cache";
  retried.state = db::SetupState::retrying;
  retried.attempts = 3;
  retried.setup_failure = db::Failure::connection_lost;
  const FixedSource src{{2, 1, 1, {"primary"}, {"cache"}}, {up("primary", p), retried}};
  CHECK(db::prometheus_text(src) ==
        R"(# HELP appinfra_databases_configured Databases in the configuration.
# TYPE appinfra_databases_configured gauge
appinfra_databases_configured 2
# HELP appinfra_databases_set_up Databases whose setup succeeded.
# TYPE appinfra_databases_set_up gauge
appinfra_databases_set_up 1
# HELP appinfra_databases_failed Databases whose setup failed (including those retried).
# TYPE appinfra_databases_failed gauge
appinfra_databases_failed 1
# HELP appinfra_database_up 1 when the database is set up and open, else 0.
# TYPE appinfra_database_up gauge
appinfra_database_up{db="primary"} 1
appinfra_database_up{db="cache"} 0
# HELP appinfra_database_setup_state The database's setup state: 1 for the state it is in, 0 for the others.
# TYPE appinfra_database_setup_state gauge
appinfra_database_setup_state{db="primary",state="pending"} 0
appinfra_database_setup_state{db="primary",state="up"} 1
appinfra_database_setup_state{db="primary",state="failed"} 0
appinfra_database_setup_state{db="primary",state="retrying"} 0
appinfra_database_setup_state{db="primary",state="closed"} 0
appinfra_database_setup_state{db="cache",state="pending"} 0
appinfra_database_setup_state{db="cache",state="up"} 0
appinfra_database_setup_state{db="cache",state="failed"} 0
appinfra_database_setup_state{db="cache",state="retrying"} 1
appinfra_database_setup_state{db="cache",state="closed"} 0
# HELP appinfra_database_setup_attempts_total Setup attempts made, the first by setup().
# TYPE appinfra_database_setup_attempts_total counter
appinfra_database_setup_attempts_total{db="primary"} 1
appinfra_database_setup_attempts_total{db="cache"} 3
# HELP appinfra_database_setup_failure 1 for the failure kind of the last setup attempt of a database that is not up (other: an error without a kind, such as a configuration error).
# TYPE appinfra_database_setup_failure gauge
appinfra_database_setup_failure{db="cache",kind="connection_lost"} 1
# HELP appinfra_pool_size Connections the pool keeps (pool_size).
# TYPE appinfra_pool_size gauge
appinfra_pool_size{db="primary"} 5
# HELP appinfra_pool_max_connections The most connections the pool opens at once (pool_size + max_overflow).
# TYPE appinfra_pool_max_connections gauge
appinfra_pool_max_connections{db="primary"} 15
# HELP appinfra_pool_connections Open connections, by state: idle in the pool or checked out.
# TYPE appinfra_pool_connections gauge
appinfra_pool_connections{db="primary",state="idle"} 2
appinfra_pool_connections{db="primary",state="checked_out"} 1
# HELP appinfra_pool_overflow_connections Open connections beyond pool_size.
# TYPE appinfra_pool_overflow_connections gauge
appinfra_pool_overflow_connections{db="primary"} 0
# HELP appinfra_pool_invalid_connections Checked-out connections their holder invalidated, closed when returned.
# TYPE appinfra_pool_invalid_connections gauge
appinfra_pool_invalid_connections{db="primary"} 0
# HELP appinfra_pool_waiting Callers waiting for a connection now.
# TYPE appinfra_pool_waiting gauge
appinfra_pool_waiting{db="primary"} 0
# HELP appinfra_pool_acquired_total Checkouts.
# TYPE appinfra_pool_acquired_total counter
# HELP appinfra_pool_timeouts_total Checkouts that gave up after pool_timeout (PoolTimeoutError).
# TYPE appinfra_pool_timeouts_total counter
# HELP appinfra_pool_connections_created_total Connections opened.
# TYPE appinfra_pool_connections_created_total counter
# HELP appinfra_pool_connections_recycled_total Connections closed for age or idleness.
# TYPE appinfra_pool_connections_recycled_total counter
# HELP appinfra_pool_connections_invalidated_total Connections closed as broken or failing their check.
# TYPE appinfra_pool_connections_invalidated_total counter
# HELP appinfra_statement_cache_hits_total Statements found prepared in a connection's cache.
# TYPE appinfra_statement_cache_hits_total counter
appinfra_statement_cache_hits_total{db="primary"} 0
# HELP appinfra_statement_cache_misses_total Statements prepared anew (the cache on).
# TYPE appinfra_statement_cache_misses_total counter
appinfra_statement_cache_misses_total{db="primary"} 0
# HELP appinfra_statement_cache_evictions_total Prepared statements dropped from a full cache (least recently used).
# TYPE appinfra_statement_cache_evictions_total counter
appinfra_statement_cache_evictions_total{db="primary"} 0
# HELP appinfra_errors_total Failed statements, connects and health checks since setup, by failure kind (QueryError and ConnectionError failure()).
# TYPE appinfra_errors_total counter
appinfra_errors_total{db="primary",kind="query"} 4
appinfra_errors_total{db="primary",kind="serialization"} 0
appinfra_errors_total{db="primary",kind="deadlock"} 0
appinfra_errors_total{db="primary",kind="read_only"} 0
appinfra_errors_total{db="primary",kind="server_shutdown"} 0
appinfra_errors_total{db="primary",kind="server_crashed"} 0
appinfra_errors_total{db="primary",kind="server_starting"} 0
appinfra_errors_total{db="primary",kind="connection_lost"} 1
appinfra_errors_total{db="primary",kind="query_canceled"} 0
appinfra_errors_total{db="primary",kind="busy"} 0
appinfra_errors_total{db="primary",kind="in_doubt"} 0
# HELP appinfra_pool_acquire_wait_seconds Time to get a connection from the pool; a checkout that did not wait counts as 0.
# TYPE appinfra_pool_acquire_wait_seconds histogram
# HELP appinfra_pool_hold_seconds Time a caller kept a connection, sampled (one checkout in 64 by default).
# TYPE appinfra_pool_hold_seconds histogram
)");
}

TEST_CASE("statement cache counters are exported for every pool, with or without pool statistics") {
  db::PoolStatus p;  // statistics off
  p.statement_cache_hits_total = 9;
  p.statement_cache_misses_total = 3;
  p.statement_cache_evictions_total = 2;
  const FixedSource src{{1, 1, 0, {"main"}, {}}, {up("main", p)}};
  const std::string text = db::prometheus_text(src);
  CHECK_THAT(text, Contains("appinfra_statement_cache_hits_total{db=\"main\"} 9\n"));
  CHECK_THAT(text, Contains("appinfra_statement_cache_misses_total{db=\"main\"} 3\n"));
  CHECK_THAT(text, Contains("appinfra_statement_cache_evictions_total{db=\"main\"} 2\n"));
  CHECK_THAT(text, !Contains("appinfra_pool_acquired_total{"));
}

TEST_CASE("a replicated database's hosts are exported with their role, writer, fitness, lag and checks") {
  db::PoolStatus p;
  db::HostPoolStatus primary, standby;
  primary.state.host = "postgresql://app:***@10.0.0.1/app";
  primary.state.role = db::HostRole::primary;
  primary.state.writer = true;
  primary.state.lag_s = 0.0;
  primary.state.checks_total = 7;
  standby.state.host = "postgresql://app:***@10.0.0.2/app";
  standby.state.role = db::HostRole::standby;
  standby.state.fit = true;
  standby.state.lag_s = 0.25;
  standby.state.checks_total = 7;
  standby.state.check_failures_total = 2;
  p.hosts = {primary, standby};
  const FixedSource src{{1, 1, 0, {"main"}, {}}, {up("main", p)}};
  const std::string text = db::prometheus_text(src);
  const std::string s = "{db=\"main\",host=\"postgresql://app:***@10.0.0.2/app\"";
  CHECK_THAT(text, Contains("appinfra_host_role" + s + ",role=\"standby\"} 1\n"));
  CHECK_THAT(text, Contains("appinfra_host_role" + s + ",role=\"primary\"} 0\n"));
  CHECK_THAT(text, Contains("appinfra_host_writer{db=\"main\",host=\"postgresql://app:***@10.0.0.1/app\"} 1\n"));
  CHECK_THAT(text, Contains("appinfra_host_writer" + s + "} 0\n"));
  CHECK_THAT(text, Contains("appinfra_host_fit_for_reads" + s + "} 1\n"));
  CHECK_THAT(text, Contains("appinfra_host_replication_lag_seconds" + s + "} 0.25\n"));
  CHECK_THAT(text, Contains("appinfra_host_check_failures_total" + s + "} 2\n"));
  CHECK_THAT(db::metrics_json(src),
             Contains("\"hosts\":[{\"host\":\"postgresql://app:***@10.0.0.1/app\",\"role\":\"primary\",\"writer\":true,"
                      "\"fit\":false,\"lag_s\":0,\"checks_total\":7,\"check_failures_total\":0,\"error\":\"\"},"));
  // Without a replicated database, no host family at all.
  const FixedSource plain{{1, 1, 0, {"main"}, {}}, {up("main", db::PoolStatus{})}};
  CHECK_THAT(db::prometheus_text(plain), !Contains("appinfra_host_"));
}

TEST_CASE("label values escape backslash, double quote and newline") {
  const FixedSource src{{1, 1, 0, {}, {}}, {up("a\"b\\c\nd", db::PoolStatus{})}};
  const std::string text = db::prometheus_text(src);
  CHECK_THAT(text, Contains("appinfra_database_up{db=\"a\\\"b\\\\c\\nd\"} 1\n"));
  CHECK_THAT(text, Contains("appinfra_pool_connections{db=\"a\\\"b\\\\c\\nd\",state=\"idle\"} 0\n"));
}

TEST_CASE("a 3 ms hold lands in its bucket, its sum and its count; a checkout that did not wait counts as 0") {
  // The pool times with the steady clock whatever its Clock: feed the policy directly.
  db::BasicPoolStats<1> stats;
  stats.held(3'000'000);
  db::PoolStatus p;
  p.acquired_total = 1;
  stats.fill(p);
  const FixedSource src{{1, 1, 0, {"main"}, {}}, {up("main", p)}};
  const std::string text = db::prometheus_text(src);
  // 3 ms falls in the pool's bucket [2.62 ms, 3.15 ms]: under le=0.005, not 0.0025.
  CHECK(lines_starting(text, "appinfra_pool_hold_seconds") ==
        R"(appinfra_pool_hold_seconds_bucket{db="main",le="0.0001"} 0
appinfra_pool_hold_seconds_bucket{db="main",le="0.00025"} 0
appinfra_pool_hold_seconds_bucket{db="main",le="0.0005"} 0
appinfra_pool_hold_seconds_bucket{db="main",le="0.001"} 0
appinfra_pool_hold_seconds_bucket{db="main",le="0.0025"} 0
appinfra_pool_hold_seconds_bucket{db="main",le="0.005"} 1
appinfra_pool_hold_seconds_bucket{db="main",le="0.01"} 1
appinfra_pool_hold_seconds_bucket{db="main",le="0.025"} 1
appinfra_pool_hold_seconds_bucket{db="main",le="0.05"} 1
appinfra_pool_hold_seconds_bucket{db="main",le="0.1"} 1
appinfra_pool_hold_seconds_bucket{db="main",le="0.25"} 1
appinfra_pool_hold_seconds_bucket{db="main",le="0.5"} 1
appinfra_pool_hold_seconds_bucket{db="main",le="1"} 1
appinfra_pool_hold_seconds_bucket{db="main",le="2.5"} 1
appinfra_pool_hold_seconds_bucket{db="main",le="5"} 1
appinfra_pool_hold_seconds_bucket{db="main",le="10"} 1
appinfra_pool_hold_seconds_bucket{db="main",le="+Inf"} 1
appinfra_pool_hold_seconds_sum{db="main"} 0.003
appinfra_pool_hold_seconds_count{db="main"} 1
)");
  CHECK_THAT(text, Contains("appinfra_pool_acquired_total{db=\"main\"} 1\n"));
  CHECK_THAT(text, Contains("appinfra_pool_acquire_wait_seconds_bucket{db=\"main\",le=\"0.0001\"} 1\n"));
  CHECK_THAT(text, Contains("appinfra_pool_acquire_wait_seconds_sum{db=\"main\"} 0\n"));
}

TEST_CASE("histogram buckets are cumulative and end at the count; the sum is kept") {
  db::Histogram h;
  for (std::uint64_t ns : {50'000ull, 200'000ull, 3'000'000ull, 3'000'000ull, 20'000'000'000ull}) h.record(ns);
  std::array<std::uint64_t, db::Histogram::buckets> c{};
  h.add_to(c);
  const db::DurationHistogram f = db::Histogram::fixed(c, h.sum_ns());
  CHECK(f.count == 5);
  CHECK(f.sum_s == Approx(20.00625));
  CHECK(f.le.front() == 1);  // 50 us
  CHECK(f.le[3] == 2);       // le=0.001: 50 us and 200 us
  CHECK(f.le[5] == 4);       // le=0.005: and both 3 ms
  CHECK(f.le.back() == 4);   // le=10: 20 s only under +Inf
  for (std::size_t i = 1; i < f.le.size(); ++i) CHECK(f.le[i - 1] <= f.le[i]);
}

TEST_CASE("get_database_states() says which database is up, failed or retried, and how often it was tried") {
  using Manager = db::Manager<test::StubBackend<>>;
  test::stub_control("ok", true);
  test::stub_control("down", true)->fail_open = true;
  Manager m(log::Logger(log::Level::off),
            {{"ok", {{"url", "stub://ok/ok"}, {"max_retries", 0}}},
             {"down", {{"url", "stub://ok/down"}, {"max_retries", 0}, {"setup_retry", false}}},
             {"bad", {{"url", "nope://x/bad"}}}});
  m.setup();
  { auto c = m.db("ok").connect(); }
  const auto states = m.get_database_states();
  REQUIRE(states.size() == 3);
  CHECK(states[0].state == db::SetupState::up);
  CHECK(states[0].has_pool);
  CHECK(states[0].pool.acquired_total == 1);
  CHECK(states[1].state == db::SetupState::failed);
  CHECK(states[1].attempts == 1);
  CHECK(states[1].setup_failure == db::Failure::connection_lost);
  CHECK_FALSE(states[1].has_pool);
  CHECK(states[2].state == db::SetupState::failed);
  CHECK_FALSE(states[2].setup_failure);  // a configuration error has no Failure kind
  const std::string text = db::prometheus_text(m);
  CHECK_THAT(text, Contains("appinfra_database_setup_failure{db=\"down\",kind=\"connection_lost\"} 1\n"));
  CHECK_THAT(text, Contains("appinfra_database_setup_failure{db=\"bad\",kind=\"other\"} 1\n"));
  CHECK_THAT(text, Contains("appinfra_pool_acquired_total{db=\"ok\"} 1\n"));
  CHECK_THAT(text, !Contains("nope://"));
  m.close_all();
  CHECK(m.get_database_states()[0].state == db::SetupState::closed);
}

TEST_CASE("the JSON has the same figures, names escaped") {
  db::DatabaseState failed;
  failed.name = "q\"\\\n\x01";
  failed.state = db::SetupState::failed;
  failed.attempts = 1;
  db::PoolStatus p;
  p.statistics = true;
  p.acquired_total = 7;
  p.pool_size = 2;
  p.max_connections = 3;
  p.errors_total[static_cast<std::size_t>(db::Failure::deadlock)] = 2;
  p.acquire_wait.count = 7;
  p.acquire_wait.le.fill(7);
  p.statement_cache_hits_total = 5;
  p.statement_cache_misses_total = 2;
  p.statement_cache_evictions_total = 1;
  const FixedSource src{{2, 1, 1, {"main"}, {}}, {up("main", p), failed}};
  const std::string json = db::metrics_json(src);
  CHECK_THAT(json, Contains(R"({"configured":2,"set_up":1,"failed":1,"databases":[{"name":"main","state":"up")"));
  CHECK_THAT(json, Contains(R"("acquired_total":7,)"));
  CHECK_THAT(json, Contains(R"("statement_cache_hits_total":5,"statement_cache_misses_total":2,)"
                            R"("statement_cache_evictions_total":1,)"));
  CHECK_THAT(json, Contains(R"({"pool_size":2,"max_connections":3,"idle":0,)"));
  CHECK_THAT(json, Contains(R"("errors_total":{"query":0,"serialization":0,"deadlock":2,"read_only":0,)"
                            R"("server_shutdown":0,"server_crashed":0,"server_starting":0,"connection_lost":0,)"
                            R"("query_canceled":0,"busy":0,"in_doubt":0},"statistics":true,)"));
  CHECK_THAT(json, Contains(R"("cumulative":[7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7],"count":7,"sum_s":0})"));
  CHECK_THAT(json, Contains(R"({"name":"q\"\\\n\u0001","state":"failed","attempts":1,"setup_failure":"other","pool":null}]})"));
}

TEST_CASE("a StaticManager's metrics list its declared databases, a missing one as failed") {
  using Service =
      db::StaticManager<db::Named<"primary", test::StubBackend<>>, db::Named<"replica", test::StubBackend<db::ReadOnly>>>;
  test::stub_control("primary", true);
  Service s(log::Logger(log::Level::off), {{"primary", {{"url", "stub://ok/primary"}}}});
  s.setup();
  const std::string text = db::prometheus_text(s);
  CHECK_THAT(text, Contains("appinfra_database_up{db=\"primary\"} 1\n"));
  CHECK_THAT(text, Contains("appinfra_database_setup_state{db=\"replica\",state=\"failed\"} 1\n"));
  CHECK_THAT(text, Contains("appinfra_pool_connections{db=\"primary\",state=\"idle\"} "));
  CHECK_THAT(text, !Contains("appinfra_pool_connections{db=\"replica\""));
  CHECK_THAT(db::metrics_json(s), Contains(R"({"name":"replica","state":"failed")"));
}

TEST_CASE("a FailureCounter counts each kind apart, through counting(), and adds to a pool status") {
  db::detail::FailureCounter c;
  CHECK_THROWS_AS(c.counting([]() -> int { throw db::QueryError("q", "40P01"); }), db::QueryError);
  CHECK_THROWS_AS(c.counting([] { throw db::ConnectionError("c", "57P01"); }), db::ConnectionError);
  CHECK_THROWS_AS(c.counting([] { throw db::ConnectionError("c"); }), db::ConnectionError);
  CHECK_THROWS_AS(c.counting([] { throw db::UsageError("no kind: not counted"); }), db::UsageError);
  CHECK(c.counting([] { return 7; }) == 7);
  CHECK(c.count(db::Failure::deadlock) == 1);
  CHECK(c.count(db::Failure::server_shutdown) == 1);
  CHECK(c.count(db::Failure::connection_lost) == 1);
  CHECK(c.count(db::Failure::query) == 0);
  const db::detail::FailureCounter moved(std::move(c));  // a connector is moved into its pool
  db::PoolStatus s;
  moved.add_to(s);
  CHECK(s.errors_total[static_cast<std::size_t>(db::Failure::deadlock)] == 1);
  CHECK(s.errors_total[static_cast<std::size_t>(db::Failure::connection_lost)] == 1);
  std::uint64_t total = 0;
  for (auto n : s.errors_total) total += n;
  CHECK(total == 3);
}

TEST_CASE("a queue pool reports pool_size + max_overflow as its maximum") {
  using Manager = db::Manager<test::StubBackend<>>;
  test::stub_control("max", true);
  Manager m(log::Logger(log::Level::off),
            {{"max", {{"url", "stub://ok/max"}, {"pool_size", 3}, {"max_overflow", 4}}}});
  m.setup();
  const auto states = m.get_database_states();
  REQUIRE(states.size() == 1);
  CHECK(states[0].pool.max_connections == 7);
  CHECK_THAT(db::prometheus_text(m), Contains("appinfra_pool_max_connections{db=\"max\"} 7\n"));
}
