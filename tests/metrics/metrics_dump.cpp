// Prints the metrics of a Manager with two SQLite databases, one healthy (with some
// checkouts, so its histograms have counts, and a failed statement) and one whose setup failed, in the
// format named by argv[1] ("prometheus" or "json"), for promtool and json.tool to
// check (tests/meson.build).

#include <appinfra/db.hpp>
#include <appinfra/db/metrics.hpp>
#include <appinfra/sqlite.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <thread>

using namespace appinfra;

int main(int argc, char** argv) try {
  const std::string_view format = argc > 1 ? argv[1] : "prometheus";
  db::Manager<sqlite::SQLite<>> m(
      log::Logger(log::Level::off),
      {{"primary", {{"url", "sqlite:///:memory:"}, {"pool_size", 2}}},
       // A name that needs escaping, and a setup that fails: its directory does not exist.
       {"odd \"name\"\\", {{"url", "sqlite:////nonexistent/appinfra/metrics.db"}}}});
  m.setup();
  auto& d = m.db("primary");
  for (int i = 0; i < 200; ++i) {
    auto c = d.connect();
    (void)c.execute("SELECT 1").scalar<int>();
    if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  try {
    (void)d.connect().execute("SELEKT 1");  // a failed statement: appinfra_errors_total{kind="query"} 1
  } catch (const db::QueryError&) {
  }
  auto held = d.connect();  // one checked out while the metrics are written
  const std::string out = format == "json" ? db::metrics_json(m) : db::prometheus_text(m);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "metrics_dump: %s\n", e.what());
  return 1;
}
