// A point query on a 100,000-row SQLite table, one thread, for scripts/bench.sh:
// appinfra's pooled execute() beside raw sqlite3 with its one statement prepared once.
//
//   sqlite_point both SECONDS FILE [PREPARED_CACHE_SIZE]
//
// Both sides run in this one process, taking turns in slices of 50 ms (SECONDS
// each in all), so that what else the machine does hits both alike:
//   appinfra  a full checkout + execute("SELECT v FROM t WHERE id = $1", id) + return
//             per query, through db::Manager<sqlite::SQLite<>> with pool_pre_ping on;
//             PREPARED_CACHE_SIZE (default 100) is the database's prepared_cache_size
//   raw       sqlite3 on a connection of its own to the same file: the statement
//             prepared once, then bind, step, read the value, reset per query
//
// FILE is created with the table (id INTEGER PRIMARY KEY, v TEXT) of 100,000 rows
// when it does not exist. Ids are drawn at random, the same sequence on both sides.
// Prints one JSON line: {"mode", "threads", "seconds", "appinfra_per_second",
// "raw_per_second", "prepared_cache_size", "cache_hits", "cache_misses"}.

#include <appinfra/db.hpp>
#include <appinfra/sqlite.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

using namespace appinfra;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kRows = 100'000;
constexpr const char* kQuery = "SELECT v FROM t WHERE id = $1";

// The ids, from a fixed-seed generator (xorshift): cheap next to a query.
struct Ids {
  std::uint64_t s = 88172645463325252ull;
  int next() noexcept {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<int>(s % kRows) + 1;
  }
};

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
}

void create(const std::string& file) {
  if (std::filesystem::exists(file)) return;
  sqlite3* db = nullptr;
  check(sqlite3_open(file.c_str(), &db), db, "open");
  check(sqlite3_exec(db,
                     "BEGIN; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) "
                     "INSERT INTO t SELECT i, 'value ' || i FROM n; COMMIT",
                     nullptr, nullptr, nullptr),
        db, "create");
  sqlite3_close(db);
}

struct Tally {
  long long ops = 0;
  double seconds = 0;
  Tally& operator+=(const Tally& o) {
    ops += o.ops;
    seconds += o.seconds;
    return *this;
  }
  [[nodiscard]] double rate() const { return static_cast<double>(ops) / seconds; }
};

// Runs op() (warmed once, untimed) until `seconds` have passed; the clock is read
// every 64 ops.
template <class Op>
Tally drive(double seconds, Op op) {
  op();
  const auto t0 = Clock::now();
  const auto until = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  long long n = 0;
  for (;;) {
    for (int i = 0; i < 64; ++i) op();
    n += 64;
    if (Clock::now() >= until) break;
  }
  return {n, std::chrono::duration<double>(Clock::now() - t0).count()};
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s both SECONDS FILE [PREPARED_CACHE_SIZE]\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  const double seconds = std::atof(argv[2]);
  const std::string file = std::filesystem::absolute(argv[3]).string();
  const int cache_size = argc > 4 ? std::atoi(argv[4]) : 100;
  if (mode != "both") throw std::runtime_error("unknown mode " + mode);
  if (seconds <= 0) throw std::runtime_error("need seconds > 0");
  create(file);

  auto logger = log::LoggerFactory::create_root(log::LogConfig::from_params("warning"));
  db::Manager<sqlite::SQLite<>> manager(logger, {{"bench",
                                                  {{"url", "sqlite:///" + file},
                                                   {"pool_pre_ping", true},
                                                   {"prepared_cache_size", cache_size}}}});
  manager.setup();
  auto& database = manager.db("bench");
  Ids ours_ids, raw_ids;  // the same sequence of ids on both sides
  const auto ours = [&] {
    auto r = database.connect().execute(kQuery, ours_ids.next());  // checkout, execute, return
    if (r.size() != 1) throw std::runtime_error("the point query gave no row");
  };

  sqlite3* db = nullptr;
  check(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr), db, "open");
  sqlite3_stmt* st = nullptr;
  check(sqlite3_prepare_v2(db, kQuery, -1, &st, nullptr), db, "prepare");
  const auto raw = [&] {
    sqlite3_bind_int64(st, 1, raw_ids.next());
    if (sqlite3_step(st) != SQLITE_ROW) throw std::runtime_error("the point query gave no row");
    std::string v(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                  static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
    check(sqlite3_step(st), db, "step");
    sqlite3_reset(st);
  };

  // Slices of 50 ms, taking turns, so that whatever else the machine does hits both.
  Tally a, b;
  const int slices = std::max(2, static_cast<int>(seconds / 0.05));
  for (int i = 0; i < slices; ++i) {
    if (i % 2 == 0) {
      a += drive(0.05, ours);
      b += drive(0.05, raw);
    } else {
      b += drive(0.05, raw);
      a += drive(0.05, ours);
    }
  }
  const auto status = database.get_pool_status();
  manager.close_all();
  sqlite3_finalize(st);
  sqlite3_close(db);
  std::printf(
      "{\"mode\": \"both\", \"threads\": 1, \"seconds\": %.3f, \"appinfra_per_second\": %.1f, "
      "\"raw_per_second\": %.1f, \"prepared_cache_size\": %d, \"cache_hits\": %llu, \"cache_misses\": %llu}\n",
      a.seconds + b.seconds, a.rate(), b.rate(), cache_size,
      static_cast<unsigned long long>(status.statement_cache_hits_total),
      static_cast<unsigned long long>(status.statement_cache_misses_total));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "sqlite_point: %s\n", e.what());
  return 1;
}
