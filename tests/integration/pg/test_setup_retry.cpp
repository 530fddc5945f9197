// A database that is down when setup() runs recovers without a new Manager: the
// test starts with its own PostgreSQL cluster stopped, sets the Manager up, starts
// the server, and uses the database through the same Manager.
//
// The cluster helper is deliberately small and local (initdb, pg_ctl start, and a
// guard that stops and removes it however the test ends).

#include "../../support/capture_logger.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace appinfra;
using Catch::Matchers::Contains;

namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

const std::string pg_bin = "/usr/lib/postgresql/15/bin/";

// Runs a shell command; as the postgres user when `as_postgres` and we are root
// (the server refuses to run as root). Returns its exit status.
int run(const std::string& command, bool as_postgres = true) {
  const std::string full =
      as_postgres && ::geteuid() == 0 ? "runuser -u postgres -- sh -c '" + command + "'" : command;
  const int rc = std::system(full.c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

// A loopback port of this test's range (55200-55299) that nothing listens on.
int free_port() {
  for (int port = 55200 + ::getpid() % 100, n = 0; n < 100; ++n, port = 55200 + (port - 55200 + 1) % 100) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) continue;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (free) return port;
  }
  throw std::runtime_error("no free port in 55200-55299");
}

// The running postmaster, for a fatal signal (meson's timeout, a crash, a closed
// pipe): the destructor does not run then, so the handler sends SIGQUIT (immediate
// shutdown) itself, then lets the previous handler (Catch2's, or the default) act.
std::atomic<pid_t> postmaster{0};
struct sigaction previous[NSIG];
constexpr int fatal_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGABRT, SIGSEGV, SIGBUS};

extern "C" void stop_postmaster(int sig) {
  if (const pid_t pid = postmaster.exchange(0); pid > 0) ::kill(pid, SIGQUIT);
  ::sigaction(sig, &previous[sig], nullptr);
  ::raise(sig);
}

void on_fatal_signal_stop(pid_t pid) {
  postmaster = pid;
  struct sigaction a {};
  a.sa_handler = stop_postmaster;
  ::sigemptyset(&a.sa_mask);
  for (int sig : fatal_signals) ::sigaction(sig, &a, &previous[sig]);
}

void forget_postmaster() {
  if (postmaster.exchange(0) == 0) return;
  for (int sig : fatal_signals) ::sigaction(sig, &previous[sig], nullptr);
}

// A stopped PostgreSQL cluster on 127.0.0.1:port with trust authentication. The
// destructor stops it (-m immediate) and removes its directory, also when the test
// failed half-way.
class StoppedCluster {
 public:
  StoppedCluster() : port_(free_port()) {
    char tmpl[] = "/tmp/appinfra_setup_retry_XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    if (::geteuid() == 0 && run("chown postgres: " + dir_, false) != 0)
      throw std::runtime_error("cannot chown " + dir_ + " to postgres");
    if (run(pg_bin + "initdb -D " + data() + " -U postgres -E UTF8 --auth-local=trust --auth-host=trust --no-sync"
            " > " + dir_ + "/initdb.log 2>&1") != 0)
      throw std::runtime_error("initdb failed; see " + dir_ + "/initdb.log");
    std::ofstream conf(data() + "/postgresql.conf", std::ios::app);
    conf << "port = " << port_ << "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '" << dir_
         << "'\nfsync = off\nshared_buffers = 16MB\nmax_connections = 20\n";
  }
  StoppedCluster(const StoppedCluster&) = delete;
  StoppedCluster& operator=(const StoppedCluster&) = delete;
  ~StoppedCluster() {
    run(pg_bin + "pg_ctl -D " + data() + " -m immediate stop > /dev/null 2>&1");
    forget_postmaster();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// Starts the server; returns once it accepts connections (pg_ctl -w).
  void start() {
    if (run(pg_bin + "pg_ctl -D " + data() + " -l " + dir_ + "/server.log -w -t 60 start > /dev/null") != 0)
      throw std::runtime_error("pg_ctl start failed; see " + dir_ + "/server.log");
    std::ifstream pid_file(data() + "/postmaster.pid");  // its first line is the postmaster's pid
    pid_t pid = 0;
    if (pid_file >> pid && pid > 0) on_fatal_signal_stop(pid);
  }

  [[nodiscard]] std::string url() const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
  }

 private:
  [[nodiscard]] std::string data() const { return dir_ + "/data"; }
  int port_;
  std::string dir_;
};

}  // namespace

TEST_CASE("a PostgreSQL database down at setup() is usable through the same Manager once the server starts") {
  StoppedCluster cluster;
  auto [lg, cap] = test::capture_logger(log::Level::info);
  const double interval = 0.5;  // setup_retry_max_interval: the longest wait between attempts
  db::Manager<pg::PG<>> m(lg, {{"late",
                                {{"url", cluster.url()},
                                 {"max_retries", 0},
                                 {"retry_delay", 0.1},
                                 {"setup_retry_max_interval", interval},
                                 {"pool_timeout", 2}}}});
  m.setup();  // the only database failed, but it is retried: setup() does not throw

  CHECK(m.list_databases().empty());
  try {
    (void)m.db("late");
    FAIL("expected SetupError");
  } catch (const db::SetupError& e) {
    CHECK_THAT(e.what(), Contains("Database 'late' setup failed") && Contains("retrying"));
    CHECK_THROWS_AS(std::rethrow_if_nested(e), db::ConnectionError);
  }
  CHECK_THAT(m.health_check("late").at("late").error, Contains("setup failed") && Contains("; retrying"));
  CHECK(m.get_stats().failed_databases == std::vector<std::string>{"late"});

  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the backoff reaches its cap meanwhile
  cluster.start();
  const auto up = Clock::now();
  bool usable = false;
  while (!usable && Clock::now() - up < Seconds(10)) {
    try {
      usable = m.db("late").connect().execute("SELECT 1").scalar<int>() == 1;
    } catch (const db::SetupError&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  const Seconds took = Clock::now() - up;
  INFO("usable " << took.count() << " s after the server accepted connections");
  CHECK(usable);
  CHECK(took.count() < interval + 1.0);

  const auto st = m.get_stats();
  CHECK(st.successful_setups == 1);
  CHECK(st.failed_setups == 0);
  CHECK(st.available_databases == std::vector<std::string>{"late"});
  CHECK(m.get_setup_errors().empty());
  CHECK(m.health_check("late").at("late").healthy());
  CHECK(cap->contains("database 'late' is set up and available"));
}

TEST_CASE("with setup_retry: false a PostgreSQL database down at setup() stays failed") {
  StoppedCluster cluster;
  db::Manager<pg::PG<>> m(log::Logger(log::Level::off),
                          {{"late", {{"url", cluster.url()}, {"max_retries", 0}, {"setup_retry", false}}}});
  CHECK_THROWS_WITH(m.setup(), Contains("Failed to setup any database connections"));
  cluster.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(m.list_databases().empty());
  CHECK_THROWS_WITH(m.db("late"), Contains("setup failed") && !Contains("retrying"));
}
