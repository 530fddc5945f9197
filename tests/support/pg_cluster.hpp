#pragma once
// PostgreSQL clusters a test controls: initdb into a fresh directory, start, stop
// (fast or immediate), restart, promote, a streaming standby, psql as the
// superuser. For the fault suite, which restarts, crashes and fails servers over;
// a single server for ordinary tests is DATABASE_URL (pg_env.hpp).
//
// The server refuses to run as root: when the tests run as root (CI), every
// PostgreSQL program runs as the `postgres` user through runuser, in a directory
// that user owns. Otherwise they run as the current user.
//
// A cluster is stopped with -m immediate and its directory removed when the object
// is destroyed, so a failed test leaves nothing running; a fatal signal (a crash,
// meson's timeout) sends SIGQUIT, PostgreSQL's immediate shutdown, to every
// postmaster the process started.
//
// Ports come from APPINFRA_TEST_PG_PORTS ("FIRST-LAST", default 55300-55399),
// each checked with a bind() probe; parallel runs start at different offsets.

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace appinfra::test {

namespace pg_cluster_detail {

/// The directory of initdb, pg_ctl, pg_basebackup and psql: PG_BINDIR, else the
/// newest /usr/lib/postgresql/N/bin (Debian), else whatever PATH finds.
inline std::string bindir() {
  if (const char* d = std::getenv("PG_BINDIR"); d != nullptr && *d != '\0') return d;
  namespace fs = std::filesystem;
  std::string best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string v = entry.path().filename().string();
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) continue;
    if (!fs::exists(entry.path() / "bin" / "initdb")) continue;
    if (std::stoi(v) > best_version) {
      best_version = std::stoi(v);
      best = (entry.path() / "bin").string();
    }
  }
  return best;
}


inline bool as_root() { return ::geteuid() == 0; }

inline std::string read_file(const std::string& path, std::size_t from = 0) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(from));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string tail(const std::string& text, std::size_t n = 4000) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

// Postmasters started by this process, for the fatal-signal handler: it must not
// allocate, so a fixed array of atomics.
inline std::array<std::atomic<pid_t>, 16> postmasters{};
inline std::array<struct sigaction, 32> previous_actions{};
constexpr std::array<int, 6> fatal_signals = {SIGTERM, SIGINT, SIGSEGV, SIGABRT, SIGBUS, SIGFPE};

inline void on_fatal_signal(int sig, siginfo_t* info, void* context) {
  for (auto& p : postmasters)
    if (const pid_t pid = p.exchange(0); pid > 0) ::kill(pid, SIGQUIT);  // immediate shutdown
  const struct sigaction& prev = previous_actions[static_cast<std::size_t>(sig)];
  if ((prev.sa_flags & SA_SIGINFO) != 0 && prev.sa_sigaction != nullptr) {
    prev.sa_sigaction(sig, info, context);
  } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN && prev.sa_handler != nullptr) {
    prev.sa_handler(sig);
  } else {
    ::signal(sig, SIG_DFL);
    ::raise(sig);
  }
}

inline void install_signal_handlers() {
  static const bool installed = [] {
    for (int sig : fatal_signals) {
      struct sigaction sa {};
      sa.sa_sigaction = on_fatal_signal;
      sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
      sigemptyset(&sa.sa_mask);
      ::sigaction(sig, &sa, &previous_actions[static_cast<std::size_t>(sig)]);
    }
    return true;
  }();
  (void)installed;
}

// Installed before main(): Catch2 saves them as the previous handlers around each
// test case and calls them after reporting a fatal signal.
inline const bool signal_handlers_installed = (install_signal_handlers(), true);

inline void remember_postmaster(pid_t pid) {
  install_signal_handlers();
  for (auto& p : postmasters) {
    pid_t expected = 0;
    if (p.compare_exchange_strong(expected, pid)) return;
  }
}
inline void forget_postmaster(pid_t pid) {
  for (auto& p : postmasters) {
    pid_t expected = pid;
    p.compare_exchange_strong(expected, 0);
  }
}

// Whether 127.0.0.1:port can be bound now (as the server will, with SO_REUSEADDR).
inline bool port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

inline std::pair<int, int> port_range() {
  int first = 55300, last = 55399;
  if (const char* r = std::getenv("APPINFRA_TEST_PG_PORTS"); r != nullptr && *r != '\0') {
    if (std::sscanf(r, "%d-%d", &first, &last) != 2 || first < 1024 || last > 65535 || last < first)
      throw std::runtime_error(std::string("APPINFRA_TEST_PG_PORTS must be FIRST-LAST, got '") + r + "'");
  }
  return {first, last};
}

// A free port of the range, never one this process handed out before.
inline int free_port() {
  static std::atomic<int> next{-1};
  const auto [first, last] = port_range();
  const int n = last - first + 1;
  int expected = -1;
  next.compare_exchange_strong(expected, static_cast<int>(::getpid() % n));
  for (int tries = 0; tries < n; ++tries) {
    const int port = first + next.fetch_add(1) % n;
    if (port_free(port)) return port;
  }
  throw std::runtime_error("no free port in " + std::to_string(first) + "-" + std::to_string(last) +
                           " (set APPINFRA_TEST_PG_PORTS)");
}

}  // namespace pg_cluster_detail

/// What a command printed and how it ended.
struct CommandResult {
  int status = -1;  ///< the exit code; 128 + the signal when killed
  std::string out, err;
  [[nodiscard]] bool ok() const noexcept { return status == 0; }
};

/// Runs `argv` (argv[0] a path) in `cwd`, as postgres when this process is root,
/// with PG* variables removed from the environment (pg_virtualenv sets them),
/// stdin from /dev/null, stdout and stderr captured. fork/exec: no shell quoting.
inline CommandResult run_command(std::vector<std::string> argv, const std::string& cwd) {
  namespace d = pg_cluster_detail;
  if (d::as_root()) argv.insert(argv.begin(), {::access("/usr/sbin/runuser", X_OK) == 0 ? "/usr/sbin/runuser" : "/sbin/runuser",
                                               "-u", "postgres", "--"});
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "PG", 2) != 0) env.push_back(*e);
  env.push_back(nullptr);

  char out_path[] = "/tmp/appinfra-cmd-out.XXXXXX";
  char err_path[] = "/tmp/appinfra-cmd-err.XXXXXX";
  const int out_fd = ::mkostemp(out_path, O_CLOEXEC);
  const int err_fd = ::mkostemp(err_path, O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0) throw std::runtime_error(std::string("mkstemp: ") + std::strerror(errno));
  ::unlink(out_path);
  ::unlink(err_path);

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {  // only async-signal-safe calls until exec
    const int in_fd = ::open("/dev/null", O_RDONLY);
    if (in_fd < 0 || ::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) ::_exit(126);
    for (int fd = 3; fd < 4096; ++fd) ::close(fd);  // the test's sockets stay with the test
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::execvpe(args[0], args.data(), env.data());
    ::_exit(127);
  }
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  CommandResult r;
  r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  const auto slurp = [](int fd) {
    std::string s;
    ::lseek(fd, 0, SEEK_SET);
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) s.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return s;
  };
  r.out = slurp(out_fd);
  r.err = slurp(err_fd);
  return r;
}

/// One PostgreSQL server in its own temporary directory (data in DIR/data, log in
/// DIR/log, unix socket in DIR), listening on 127.0.0.1:port(). Not copyable or
/// movable: a standby is made with make_standby() and held by unique_ptr.
///
/// Every member throws std::runtime_error with the command's output and the tail
/// of the server log when something fails. Not thread-safe; sql() and the
/// read-only members may be called from any thread while no other member runs.
class PgCluster {
 public:
  static constexpr const char* app_user = "app";
  static constexpr const char* app_password = "pw";

  /// initdb and configure (not started): trust over the socket, scram-sha-256 over
  /// TCP, fsync off (a crash of the server's processes is still a real crash
  /// recovery), small buffers, WAL for a standby.
  PgCluster() : PgCluster(Standby{}) {
    check(run({program("initdb"), "-D", data(), "-U", "postgres", "-E", "UTF8", "--locale=C",
               "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "--no-instructions"}),
          "initdb");
    configure();
  }

  /// A streaming standby of this (running) server, made over the unix socket with
  /// `pg_basebackup -R -X stream -c fast`; not started. Its own port and socket.
  [[nodiscard]] std::unique_ptr<PgCluster> make_standby() {
    std::unique_ptr<PgCluster> s(new PgCluster(Standby{}));
    check(run({program("pg_basebackup"), "-h", dir_, "-p", std::to_string(port_), "-U", "postgres", "-D", s->data(),
               "-R", "-X", "stream", "-c", "fast"}),
          "pg_basebackup");
    s->configure();  // appended after the primary's lines: the standby's own port and socket win
    return s;
  }

  /// Replaces this stopped server's data with a streaming standby of `primary`
  /// (as make_standby() does), keeping its port and directory: a former primary
  /// that rejoins as a standby after a failover. Not started.
  void rebuild_as_standby_of(const PgCluster& primary) {
    std::filesystem::remove_all(data());
    check(run({program("pg_basebackup"), "-h", primary.dir_, "-p", std::to_string(primary.port_), "-U", "postgres",
               "-D", data(), "-R", "-X", "stream", "-c", "fast"}),
          "pg_basebackup");
    configure();
  }

  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  ~PgCluster() {
    if (const pid_t pm = postmaster_pid(); pm > 0) {
      bool stopped = false;
      try {
        stopped = run({program("pg_ctl"), "-D", data(), "-w", "-t", "30", "-m", "immediate", "stop"}).ok();
      } catch (...) {
      }
      if (!stopped) {  // never leave a server running: signal it directly
        ::kill(pm, SIGQUIT);
        for (int i = 0; i < 500 && ::kill(pm, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        ::kill(pm, SIGKILL);
      }
    }
    if (pid_ > 0) pg_cluster_detail::forget_postmaster(pid_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  [[nodiscard]] int port() const noexcept { return port_; }
  [[nodiscard]] const std::string& dir() const noexcept { return dir_; }
  [[nodiscard]] std::string data() const { return dir_ + "/data"; }
  [[nodiscard]] std::string log_path() const { return dir_ + "/log"; }
  /// 127.0.0.1:port, for multi-host urls.
  [[nodiscard]] std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }
  /// postgresql://app:pw@127.0.0.1:PORT/postgres
  [[nodiscard]] std::string url() const {
    return std::string("postgresql://") + app_user + ":" + app_password + "@" + host_port() + "/postgres";
  }

  /// pg_ctl start -w: returns once the server accepts connections.
  void start() {
    check(run({program("pg_ctl"), "-D", data(), "-l", log_path(), "-w", "-t", "60", "start"}), "pg_ctl start");
    track_pid();
  }
  /// pg_ctl stop -m fast|smart|immediate, waiting until the server is gone.
  void stop(const std::string& mode = "fast") {
    check(run({program("pg_ctl"), "-D", data(), "-w", "-t", "60", "-m", mode, "stop"}), "pg_ctl stop -m " + mode);
    untrack_pid();
  }
  /// pg_ctl restart -m MODE -w: returns once the server accepts connections again.
  void restart(const std::string& mode = "fast") {
    untrack_pid();
    check(run({program("pg_ctl"), "-D", data(), "-l", log_path(), "-w", "-t", "60", "-m", mode, "restart"}),
          "pg_ctl restart -m " + mode);
    track_pid();
  }
  /// pg_ctl promote -w: returns once the standby is a primary.
  void promote() { check(run({program("pg_ctl"), "-D", data(), "-w", "-t", "60", "promote"}), "pg_ctl promote"); }

  /// The postmaster's pid (from postmaster.pid), 0 when not running.
  [[nodiscard]] pid_t postmaster_pid() const {
    const std::string s = pg_cluster_detail::read_file(data() + "/postmaster.pid");
    return s.empty() ? 0 : static_cast<pid_t>(std::atoi(s.c_str()));
  }

  /// Runs `text` with psql as postgres over the unix socket (one statement, or
  /// several in one implicit transaction); returns the unaligned, tuples-only output
  /// without the final newline. Throws on any error.
  std::string sql(const std::string& text) const {
    CommandResult r = run({program("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", dir_, "-p",
                           std::to_string(port_), "-U", "postgres", "-d", "postgres", "-c", text});
    check(r, "psql -c \"" + text + "\"");
    while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
    return r.out;
  }

  /// CREATE ROLE app LOGIN PASSWORD 'pw' (scram-sha-256), allowed to create tables
  /// in public (PostgreSQL 15 no longer lets every role do that).
  void create_app_role() const {
    sql(std::string("CREATE ROLE ") + app_user + " LOGIN PASSWORD '" + app_password + "'");
    sql(std::string("GRANT CREATE ON SCHEMA public TO ") + app_user);
  }

  /// pg_terminate_backend of every client backend of the app role (with
  /// idle_only, of those waiting for a statement: pooled, or between statements);
  /// returns how many were terminated.
  int terminate_backends(bool idle_only = false) const {
    return std::stoi(sql(std::string("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                                     "WHERE usename = '") +
                         app_user + "' AND backend_type = 'client backend' AND pid <> pg_backend_pid()" +
                         (idle_only ? " AND state = 'idle'" : "")));
  }

  /// Whether the server accepts connections now (libpq's PQping over TCP: no
  /// authentication; false while starting, in recovery or down).
  [[nodiscard]] bool accepting() const {
    const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres connect_timeout=2";
    return PQping(conninfo.c_str()) == PQPING_OK;
  }

  /// The server log's size now: a starting point for wait_for_log().
  [[nodiscard]] std::size_t log_size() const {
    std::error_code ec;
    const auto n = std::filesystem::file_size(log_path(), ec);
    return ec ? 0 : static_cast<std::size_t>(n);
  }
  /// Waits until the server log, from byte `from` on, contains `needle`; polls
  /// every 2 ms. Returns false after `timeout`.
  bool wait_for_log(const std::string& needle, std::size_t from, std::chrono::milliseconds timeout) const {
    const auto until = std::chrono::steady_clock::now() + timeout;
    do {
      if (pg_cluster_detail::read_file(log_path(), from).find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    } while (std::chrono::steady_clock::now() < until);
    return false;
  }
  [[nodiscard]] std::string log_tail(std::size_t n = 4000) const {
    return pg_cluster_detail::tail(pg_cluster_detail::read_file(log_path()), n);
  }

 private:
  struct Standby {};
  // The directory and port only.
  explicit PgCluster(Standby) : port_(pg_cluster_detail::free_port()) {
    char tmpl[] = "/tmp/appinfra-pg.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    dir_ = tmpl;
    if (pg_cluster_detail::as_root()) {
      const passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        throw std::runtime_error("running as root, but cannot give " + dir_ +
                                 " to the postgres user (is PostgreSQL installed?)");
      }
    }
    ::chmod(dir_.c_str(), 0700);
  }

  // A member, not a function-local static: a cluster in a static object is stopped
  // during static destruction, possibly after such a static is gone.
  [[nodiscard]] std::string program(const std::string& name) const { return bin_.empty() ? name : bin_ + "/" + name; }

  CommandResult run(std::vector<std::string> argv) const { return run_command(std::move(argv), dir_); }

  void check(const CommandResult& r, const std::string& what) const {
    if (r.ok()) return;
    throw std::runtime_error(what + " failed (exit " + std::to_string(r.status) + ") in " + dir_ + "\nstdout:\n" +
                             pg_cluster_detail::tail(r.out) + "\nstderr:\n" + pg_cluster_detail::tail(r.err) +
                             "\nserver log:\n" + log_tail());
  }

  void configure() const {
    std::ofstream conf(data() + "/postgresql.conf", std::ios::app);
    conf << "\n# appinfra fault tests\n"
         << "port = " << port_ << "\n"
         << "listen_addresses = '127.0.0.1'\n"
         << "unix_socket_directories = '" << dir_ << "'\n"
         << "max_connections = 60\n"
         << "shared_buffers = 16MB\n"
         << "fsync = off\n"
         << "wal_level = replica\n"
         << "max_wal_senders = 5\n"
         << "wal_keep_size = 64MB\n"
         << "hot_standby = on\n"
         << "log_line_prefix = '%m [%p] '\n";
    if (!conf) throw std::runtime_error("cannot write " + data() + "/postgresql.conf");
  }

  void track_pid() {
    untrack_pid();
    pid_ = postmaster_pid();
    if (pid_ > 0) pg_cluster_detail::remember_postmaster(pid_);
  }
  void untrack_pid() {
    if (pid_ > 0) pg_cluster_detail::forget_postmaster(pid_);
    pid_ = 0;
  }

  std::string bin_ = pg_cluster_detail::bindir();
  int port_;
  std::string dir_;
  pid_t pid_ = 0;
};

/// postgresql://app:pw@HOST1:P1,HOST2:P2/postgres?target_session_attrs=read-write
inline std::string multi_host_url(const PgCluster& a, const PgCluster& b) {
  return std::string("postgresql://") + PgCluster::app_user + ":" + PgCluster::app_password + "@" + a.host_port() +
         "," + b.host_port() + "/postgres?target_session_attrs=read-write";
}

}  // namespace appinfra::test
