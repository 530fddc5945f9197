// A service that a monitoring system can watch: /metrics (Prometheus text format),
// /metrics.json, /health/live and /health/ready, over HTTP with cpp-httplib (Debian:
// libcpp-httplib-dev). Only this example needs cpp-httplib; appinfra/db/metrics.hpp
// itself writes a std::string and leaves serving it to you.
//
//   metrics_service [port] [sqlite file]     (defaults: 8080, metrics_service.db)
//
// At start it takes three connections of 'primary' and keeps one, so the pool shows
// 2 idle and 1 checked out (tests/metrics/prometheus_scrape.sh reads them back through
// a real Prometheus). SIGINT or SIGTERM stops it.

#include <appinfra/db.hpp>
#include <appinfra/db/metrics.hpp>
#include <appinfra/sqlite.hpp>

#include <fmt/core.h>
#include <httplib.h>

#include <csignal>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <thread>

using namespace appinfra;

int main(int argc, char** argv) try {
  const int port = argc > 1 ? std::atoi(argv[1]) : 8080;
  const std::string file = argc > 2 ? argv[2] : "metrics_service.db";

  // Signals go to the thread that waits for them, not to the HTTP threads.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  db::Manager<sqlite::SQLite<>> manager(log::Logger(log::Level::warning),
                                        {{"primary", {{"url", "sqlite:///" + file}, {"create_db", true}, {"pool_size", 3}}}});
  manager.setup();
  auto& primary = manager.db("primary");
  std::optional<decltype(primary.connect())> kept;
  {
    auto a = primary.connect();
    auto b = primary.connect();
    kept.emplace(primary.connect());
    (void)a.execute("SELECT 1").scalar<int>();
  }

  httplib::Server server;
  server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(db::prometheus_text(manager), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/metrics.json", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(db::metrics_json(manager), "application/json");
  });
  // Live: the process answers. Ready: every configured database answers a SELECT 1.
  server.Get("/health/live", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  server.Get("/health/ready", [&](const httplib::Request&, httplib::Response& res) {
    std::string body;
    bool ready = true;
    for (const auto& [name, r] : manager.health_check()) {
      ready = ready && r.healthy();
      body += fmt::format("{}: {}{}\n", name, to_string(r.status), r.error.empty() ? "" : " (" + r.error + ")");
    }
    res.status = ready ? 200 : 503;
    res.set_content(body, "text/plain");
  });

  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.stop();
  });
  fmt::print("metrics_service: listening on 127.0.0.1:{}\n", port);
  std::fflush(stdout);
  const bool ok = server.listen("127.0.0.1", port);
  if (!ok) {
    fmt::print(stderr, "metrics_service: cannot listen on 127.0.0.1:{}\n", port);
    std::quick_exit(1);  // the stopper thread still waits for a signal
  }
  stopper.join();
  kept.reset();
  manager.close_all();
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "metrics_service: {}\n", e.what());
  return 1;
}
