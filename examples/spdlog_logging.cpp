// appinfra logging through spdlog, for a service that logs with spdlog already:
// log::SpdlogLogger is the backends' logger policy, and the Manager's records (setup,
// retries, slow queries) go to the service's own spdlog logger, levels mapped.
// Needs spdlog (Debian: libspdlog-dev); runs on SQLite.

#include <appinfra/db.hpp>
#include <appinfra/log/spdlog_logger.hpp>
#include <appinfra/sqlite.hpp>

#include <fmt/core.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

using namespace appinfra;

using Cache = sqlite::SQLite<db::ReadWrite, db::UseQueuePool<>, log::SpdlogLogger>;

int main() {
  // The service's spdlog logger: to stdout, with its own pattern and level.
  auto service_log = spdlog::stdout_logger_mt("service");
  service_log->set_pattern("[%H:%M:%S.%e] [%n] [%l] %v");
  service_log->set_level(spdlog::level::debug);

  db::Manager<Cache> manager(log::SpdlogLogger(service_log), {
      {"cache", {{"url", "sqlite:///:memory:"}, {"pool_size", 2}}},
  });
  manager.setup();  // logs "set up 1 database" at info through spdlog

  auto conn = manager.db("cache").connect();
  conn.execute("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (42)");
  const int n = conn.execute("SELECT n FROM t").scalar<int>();
  service_log->info("the cache answered {}", n);
  return n == 42 ? 0 : 1;
}
