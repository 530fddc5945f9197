#pragma once
// A manager's statistics for a monitoring system: the Prometheus text exposition
// format (0.0.4) and the same data as JSON. Depends on fmt only; serve the text
// with any HTTP server (examples/metrics_service.cpp uses cpp-httplib).

#include <appinfra/db/errors.hpp>
#include <appinfra/db/stats.hpp>

#include <fmt/core.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace appinfra::db {

/// What write_prometheus() and write_json() read: a Manager or a StaticManager.
template <class M>
concept MetricsSource = requires(const M& m) {
  { m.get_stats() } -> std::same_as<ManagerStats>;
  { m.get_database_states() } -> std::same_as<std::vector<DatabaseState>>;
};

namespace detail {

// A label value per the exposition format: backslash, double quote and newline escaped.
inline void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

// A JSON string, quoted: ", \ and control characters escaped (UTF-8 passes through).
inline void append_json_string(std::string& out, std::string_view v) {
  out += '"';
  for (char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        else out += c;
    }
  }
  out += '"';
}

class PromWriter {
 public:
  explicit PromWriter(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  // name{db="...",<label>="<value>"...} value (labels with an empty name left out)
  template <class V>
  void sample(std::string_view name, std::string_view db, std::string_view extra_label, std::string_view extra_value,
              V value, std::string_view label2 = {}, std::string_view value2 = {}) {
    out_ += name;
    out_ += "{db=\"";
    append_label_value(out_, db);
    out_ += '"';
    for (const auto& [label, v] : {std::pair{extra_label, extra_value}, std::pair{label2, value2}}) {
      if (label.empty()) continue;
      fmt::format_to(std::back_inserter(out_), ",{}=\"", label);
      append_label_value(out_, v);
      out_ += '"';
    }
    fmt::format_to(std::back_inserter(out_), "}} {}\n", value);
  }
  template <class V>
  void sample(std::string_view name, std::string_view db, V value) {
    sample(name, db, {}, {}, value);
  }

 private:
  std::string& out_;
};

}  // namespace detail

/// Appends to `out` the Prometheus text exposition (format 0.0.4) of `m`'s
/// statistics: setup counts and each database's setup state, setup attempts and
/// last setup failure kind; for each set-up database its pool's size and maximum,
/// its connections by state, its failures by kind (`appinfra_errors_total`, every
/// kind, zeros too), its counters, and the acquire-wait and hold-time histograms (cumulative
/// `_bucket`s at duration_bounds_s and +Inf, `_sum`, `_count`); for each host of a
/// replicated database (pg::Replicated) its role, whether writes go there, whether
/// it is fit for reads, its lag and its checks, labelled `host` with its url,
/// password redacted. Every sample is labelled `db` with the configured name
/// (escaped); no other url, no password.
/// Counters and histograms appear only for pools with statistics (PoolStats).
///
/// Thread-safe as get_stats() and get_database_states() are: call it from an HTTP
/// handler while other threads use the databases.
template <MetricsSource M>
void write_prometheus(std::string& out, const M& m) {
  const ManagerStats st = m.get_stats();
  const std::vector<DatabaseState> dbs = m.get_database_states();
  detail::PromWriter w(out);
  auto gauge0 = [&](std::string_view name, std::string_view help, std::size_t v) {
    w.family(name, "gauge", help);
    fmt::format_to(std::back_inserter(out), "{} {}\n", name, v);
  };
  gauge0("appinfra_databases_configured", "Databases in the configuration.", st.total_configured);
  gauge0("appinfra_databases_set_up", "Databases whose setup succeeded.", st.successful_setups);
  gauge0("appinfra_databases_failed", "Databases whose setup failed (including those retried).", st.failed_setups);

  w.family("appinfra_database_up", "gauge", "1 when the database is set up and open, else 0.");
  for (const auto& d : dbs) w.sample("appinfra_database_up", d.name, d.state == SetupState::up ? 1 : 0);
  w.family("appinfra_database_setup_state", "gauge",
           "The database's setup state: 1 for the state it is in, 0 for the others.");
  for (const auto& d : dbs)
    for (auto s : {SetupState::pending, SetupState::up, SetupState::failed, SetupState::retrying, SetupState::closed})
      w.sample("appinfra_database_setup_state", d.name, "state", to_string(s), d.state == s ? 1 : 0);
  w.family("appinfra_database_setup_attempts_total", "counter", "Setup attempts made, the first by setup().");
  for (const auto& d : dbs) w.sample("appinfra_database_setup_attempts_total", d.name, d.attempts);
  w.family("appinfra_database_setup_failure", "gauge",
           "1 for the failure kind of the last setup attempt of a database that is not up "
           "(other: an error without a kind, such as a configuration error).");
  for (const auto& d : dbs)
    if (d.state == SetupState::failed || d.state == SetupState::retrying)
      w.sample("appinfra_database_setup_failure", d.name, "kind",
               d.setup_failure ? to_string(*d.setup_failure) : std::string_view("other"), 1);

  auto pools = [&](auto&& each) {
    for (const auto& d : dbs)
      if (d.has_pool) each(d.name, d.pool);
  };
  auto stat_pools = [&](auto&& each) {
    for (const auto& d : dbs)
      if (d.has_pool && d.pool.statistics) each(d.name, d.pool);
  };
  w.family("appinfra_pool_size", "gauge", "Connections the pool keeps (pool_size).");
  pools([&](std::string_view n, const PoolStatus& p) { w.sample("appinfra_pool_size", n, p.pool_size); });
  w.family("appinfra_pool_max_connections", "gauge",
           "The most connections the pool opens at once (pool_size + max_overflow).");
  pools([&](std::string_view n, const PoolStatus& p) { w.sample("appinfra_pool_max_connections", n, p.max_connections); });
  w.family("appinfra_pool_connections", "gauge", "Open connections, by state: idle in the pool or checked out.");
  pools([&](std::string_view n, const PoolStatus& p) {
    w.sample("appinfra_pool_connections", n, "state", "idle", p.checked_in);
    w.sample("appinfra_pool_connections", n, "state", "checked_out", p.checked_out);
  });
  w.family("appinfra_pool_overflow_connections", "gauge", "Open connections beyond pool_size.");
  pools([&](std::string_view n, const PoolStatus& p) { w.sample("appinfra_pool_overflow_connections", n, p.overflow); });
  w.family("appinfra_pool_invalid_connections", "gauge",
           "Checked-out connections their holder invalidated, closed when returned.");
  pools([&](std::string_view n, const PoolStatus& p) { w.sample("appinfra_pool_invalid_connections", n, p.invalid); });
  w.family("appinfra_pool_waiting", "gauge", "Callers waiting for a connection now.");
  pools([&](std::string_view n, const PoolStatus& p) { w.sample("appinfra_pool_waiting", n, p.waiting); });

  // Counters of the pools with statistics; `all` also those without (counted
  // whatever the statistics policy).
  auto counter = [&](std::string_view name, std::string_view help, std::uint64_t PoolStatus::*field,
                     bool all = false) {
    w.family(name, "counter", help);
    const auto each = [&](std::string_view n, const PoolStatus& p) { w.sample(name, n, p.*field); };
    if (all) pools(each);
    else stat_pools(each);
  };
  counter("appinfra_pool_acquired_total", "Checkouts.", &PoolStatus::acquired_total);
  counter("appinfra_pool_timeouts_total", "Checkouts that gave up after pool_timeout (PoolTimeoutError).",
          &PoolStatus::timeouts_total);
  counter("appinfra_pool_connections_created_total", "Connections opened.", &PoolStatus::created_total);
  counter("appinfra_pool_connections_recycled_total", "Connections closed for age or idleness.",
          &PoolStatus::recycled_total);
  counter("appinfra_pool_connections_invalidated_total", "Connections closed as broken or failing their check.",
          &PoolStatus::invalidated_total);

  // Counted by the connections' statement caches whatever the statistics policy.
  counter("appinfra_statement_cache_hits_total", "Statements found prepared in a connection's cache.",
          &PoolStatus::statement_cache_hits_total, true);
  counter("appinfra_statement_cache_misses_total", "Statements prepared anew (the cache on).",
          &PoolStatus::statement_cache_misses_total, true);
  counter("appinfra_statement_cache_evictions_total",
          "Prepared statements dropped from a full cache (least recently used).",
          &PoolStatus::statement_cache_evictions_total, true);
  w.family("appinfra_errors_total", "counter",
           "Failed statements, connects and health checks since setup, by failure kind (QueryError and "
           "ConnectionError failure()).");
  pools([&](std::string_view n, const PoolStatus& p) {
    for (std::size_t k = 0; k < failure_kinds; ++k)
      w.sample("appinfra_errors_total", n, "kind", to_string(static_cast<Failure>(k)), p.errors_total[k]);
  });

  auto histogram = [&](std::string_view name, std::string_view help, DurationHistogram PoolStatus::*field) {
    w.family(name, "histogram", help);
    const std::string bucket = std::string(name) + "_bucket";
    stat_pools([&](std::string_view n, const PoolStatus& p) {
      const DurationHistogram& h = p.*field;
      for (std::size_t i = 0; i < duration_bounds_s.size(); ++i)
        w.sample(bucket, n, "le", fmt::format("{}", duration_bounds_s[i]), h.le[i]);
      w.sample(bucket, n, "le", "+Inf", h.count);
      w.sample(std::string(name) + "_sum", n, h.sum_s);
      w.sample(std::string(name) + "_count", n, h.count);
    });
  };
  histogram("appinfra_pool_acquire_wait_seconds",
            "Time to get a connection from the pool; a checkout that did not wait counts as 0.",
            &PoolStatus::acquire_wait);
  histogram("appinfra_pool_hold_seconds",
            "Time a caller kept a connection, sampled (one checkout in 64 by default).", &PoolStatus::hold_time);

  // The hosts of replicated databases (pg::Replicated), labelled with their url,
  // password redacted; no family at all without one.
  auto hosts = [&](auto&& each) {
    for (const auto& d : dbs)
      if (d.has_pool)
        for (const HostPoolStatus& h : d.pool.hosts) each(d.name, h.state);
  };
  bool any_host = false;
  hosts([&](std::string_view, const HostState&) { any_host = true; });
  if (!any_host) return;
  w.family("appinfra_host_role", "gauge",
           "A replicated database's host: 1 for the role its last check found, 0 for the others.");
  hosts([&](std::string_view n, const HostState& h) {
    for (auto r : {HostRole::unknown, HostRole::primary, HostRole::standby, HostRole::starting, HostRole::down})
      w.sample("appinfra_host_role", n, "host", h.host, h.role == r ? 1 : 0, "role", to_string(r));
  });
  w.family("appinfra_host_writer", "gauge", "1 for the host of a replicated database that writes go to now.");
  hosts([&](std::string_view n, const HostState& h) {
    w.sample("appinfra_host_writer", n, "host", h.host, h.writer ? 1 : 0);
  });
  w.family("appinfra_host_fit_for_reads", "gauge",
           "1 when reads asked for with db::replica may go to the host (a standby within max_replica_lag).");
  hosts([&](std::string_view n, const HostState& h) {
    w.sample("appinfra_host_fit_for_reads", n, "host", h.host, h.fit ? 1 : 0);
  });
  w.family("appinfra_host_replication_lag_seconds", "gauge",
           "Seconds a host is behind its primary, as its last check found (0 on a primary); absent when unknown.");
  hosts([&](std::string_view n, const HostState& h) {
    if (h.lag_s) w.sample("appinfra_host_replication_lag_seconds", n, "host", h.host, *h.lag_s);
  });
  w.family("appinfra_host_checks_total", "counter", "Role and lag checks made on the host.");
  hosts([&](std::string_view n, const HostState& h) {
    w.sample("appinfra_host_checks_total", n, "host", h.host, h.checks_total);
  });
  w.family("appinfra_host_check_failures_total", "counter", "Role and lag checks of the host that failed.");
  hosts([&](std::string_view n, const HostState& h) {
    w.sample("appinfra_host_check_failures_total", n, "host", h.host, h.check_failures_total);
  });
}

/// write_prometheus() into a new string.
template <MetricsSource M>
[[nodiscard]] std::string prometheus_text(const M& m) {
  std::string out;
  write_prometheus(out, m);
  return out;
}

/// Appends to `out` the same data as write_prometheus() as one JSON object:
/// `{"configured":N,"set_up":N,"failed":N,"databases":[{"name":...,"state":"up",
/// "attempts":1,"setup_failure":null,"pool":{...}|null}, ...]}`, a pool's failures
/// as `"errors_total":{"query":N,...}` (every kind), databases in
/// configuration order; histograms as `{"bounds_s":[...],"cumulative":[...],
/// "count":N,"sum_s":x}`; a replicated database's pool also has `"hosts":[{"host":...,
/// "role":...,"writer":...,"fit":...,"lag_s":x|null,"checks_total":N,
/// "check_failures_total":N,"error":...}]`. Thread-safe as write_prometheus().
template <MetricsSource M>
void write_json(std::string& out, const M& m) {
  const ManagerStats st = m.get_stats();
  const std::vector<DatabaseState> dbs = m.get_database_states();
  auto o = std::back_inserter(out);
  fmt::format_to(o, "{{\"configured\":{},\"set_up\":{},\"failed\":{},\"databases\":[", st.total_configured,
                 st.successful_setups, st.failed_setups);
  auto histogram = [&](const DurationHistogram& h) {
    out += "{\"bounds_s\":[";
    for (std::size_t i = 0; i < duration_bounds_s.size(); ++i) fmt::format_to(o, "{}{}", i ? "," : "", duration_bounds_s[i]);
    out += "],\"cumulative\":[";
    for (std::size_t i = 0; i < h.le.size(); ++i) fmt::format_to(o, "{}{}", i ? "," : "", h.le[i]);
    fmt::format_to(o, "],\"count\":{},\"sum_s\":{}}}", h.count, h.sum_s);
  };
  bool first = true;
  for (const auto& d : dbs) {
    out += first ? "{\"name\":" : ",{\"name\":";
    first = false;
    detail::append_json_string(out, d.name);
    fmt::format_to(o, ",\"state\":\"{}\",\"attempts\":{},\"setup_failure\":", to_string(d.state), d.attempts);
    if (d.state == SetupState::failed || d.state == SetupState::retrying)
      fmt::format_to(o, "\"{}\"", d.setup_failure ? to_string(*d.setup_failure) : std::string_view("other"));
    else
      out += "null";
    out += ",\"pool\":";
    if (!d.has_pool) {
      out += "null}";
      continue;
    }
    const PoolStatus& p = d.pool;
    fmt::format_to(o,
                   "{{\"pool_size\":{},\"max_connections\":{},\"idle\":{},\"checked_out\":{},\"overflow\":{},"
                   "\"total_connections\":{},\"waiting\":{},\"invalid\":{},\"statement_cache_hits_total\":{},"
                   "\"statement_cache_misses_total\":{},\"statement_cache_evictions_total\":{},\"errors_total\":{{",
                   p.pool_size, p.max_connections, p.checked_in, p.checked_out, p.overflow, p.total_connections,
                   p.waiting, p.invalid, p.statement_cache_hits_total, p.statement_cache_misses_total,
                   p.statement_cache_evictions_total);
    for (std::size_t k = 0; k < failure_kinds; ++k)
      fmt::format_to(o, "{}\"{}\":{}", k ? "," : "", to_string(static_cast<Failure>(k)), p.errors_total[k]);
    fmt::format_to(o, "}},\"statistics\":{}", p.statistics);
    if (p.statistics) {
      fmt::format_to(o,
                     ",\"acquired_total\":{},\"timeouts_total\":{},\"created_total\":{},\"recycled_total\":{},"
                     "\"invalidated_total\":{},\"acquire_wait\":",
                     p.acquired_total, p.timeouts_total, p.created_total, p.recycled_total, p.invalidated_total);
      histogram(p.acquire_wait);
      out += ",\"hold_time\":";
      histogram(p.hold_time);
    }
    if (!p.hosts.empty()) {
      out += ",\"hosts\":[";
      for (std::size_t i = 0; i < p.hosts.size(); ++i) {
        const HostState& h = p.hosts[i].state;
        out += i ? ",{\"host\":" : "{\"host\":";
        detail::append_json_string(out, h.host);
        fmt::format_to(o, ",\"role\":\"{}\",\"writer\":{},\"fit\":{},\"lag_s\":", to_string(h.role), h.writer, h.fit);
        if (h.lag_s) fmt::format_to(o, "{}", *h.lag_s);
        else out += "null";
        fmt::format_to(o, ",\"checks_total\":{},\"check_failures_total\":{},\"error\":", h.checks_total,
                       h.check_failures_total);
        detail::append_json_string(out, h.error);
        out += '}';
      }
      out += ']';
    }
    out += "}}";
  }
  out += "]}";
}

/// write_json() into a new string.
template <MetricsSource M>
[[nodiscard]] std::string metrics_json(const M& m) {
  std::string out;
  write_json(out, m);
  return out;
}

}  // namespace appinfra::db
