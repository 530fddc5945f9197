#pragma once
// Versioned, checksummed, locked migrations, for every backend.

#include <appinfra/db/errors.hpp>
#include <appinfra/db/result.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dirent.h>
#include <sys/stat.h>

namespace appinfra::db {

/// One migration: a version (its order), a name, and the SQL that applies it.
struct Migration {
  std::int64_t version = 0;
  std::string name;
  std::string sql;

  /// FNV-1a 64 of the SQL, as 16 hex digits: detects an edit, not an attacker.
  [[nodiscard]] std::string checksum() const {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : sql) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
    return fmt::format("{:016x}", h);
  }
};

/// Runs SQL for a migration hook; returns its result.
using MigrationExecutor = std::function<Result(std::string_view sql)>;
/// A hook run before or after the pending migrations (in its own transaction).
using MigrationHook = std::function<void(const MigrationExecutor&)>;

/// The migrations of a database, in version order, and the hooks around them.
/// Value type.
class Migrations {
 public:
  /// Adds a migration. Throws MigrationError for a version given twice or not
  /// positive.
  Migrations& add(std::int64_t version, std::string name, std::string sql) {
    if (version <= 0)
      throw MigrationError(fmt::format("migration '{}': version {} must be positive", name, version), version, name);
    for (const auto& m : list_)
      if (m.version == version)
        throw MigrationError(fmt::format("migration version {} is given twice: '{}' and '{}'", version, m.name, name),
                             version, name);
    list_.push_back({version, std::move(name), std::move(sql)});
    std::sort(list_.begin(), list_.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
    return *this;
  }

  /// Reads every `<version>_<name>.sql` file of `dir` (for example
  /// `0001_create_users.sql`). Other files are ignored; a .sql file without a
  /// numeric prefix, or two files with one version, is a MigrationError.
  static Migrations from_directory(const std::string& dir) {
    Migrations m;
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (!d)
      throw MigrationError(fmt::format("cannot read the migrations folder '{}': {}", dir, std::strerror(errno)), 0, "");
    for (;;) {
      errno = 0;  // readdir returns null at the end and on an error alike
      const dirent* entry = ::readdir(d.get());
      if (entry == nullptr) {
        if (errno != 0)
          throw MigrationError(fmt::format("cannot read the migrations folder '{}': {}", dir, std::strerror(errno)), 0,
                               "");
        break;
      }
      const std::string_view file = entry->d_name;
      if (file.size() <= 4 || file.substr(file.size() - 4) != ".sql") continue;
      const std::string path = dir + "/" + std::string(file);
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) continue;  // a dangling link, or gone since: not a migration
        throw MigrationError(fmt::format("cannot read migration file '{}': {}", path, std::strerror(errno)), 0,
                             std::string(file));
      }
      if (!S_ISREG(st.st_mode)) continue;
      const std::string stem(file.substr(0, file.size() - 4));
      std::int64_t version = 0;
      const auto [p, err] = std::from_chars(stem.data(), stem.data() + stem.size(), version);
      if (err != std::errc{} || p == stem.data() || (p != stem.data() + stem.size() && *p != '_'))
        throw MigrationError(fmt::format("migration file '{}' does not start with a version number (like "
                                         "0001_create_users.sql)",
                                         path),
                             0, stem);
      m.add(version, p == stem.data() + stem.size() ? stem : std::string(p + 1), read_file(path, version, stem));
    }
    return m;
  }
  static Migrations from_directory(std::string_view dir) { return from_directory(std::string(dir)); }
  static Migrations from_directory(const char* dir) { return from_directory(std::string(dir)); }

  Migrations& before(MigrationHook h) {
    before_.push_back(std::move(h));
    return *this;
  }
  Migrations& after(MigrationHook h) {
    after_.push_back(std::move(h));
    return *this;
  }

  [[nodiscard]] const std::vector<Migration>& list() const noexcept { return list_; }
  [[nodiscard]] const std::vector<MigrationHook>& before_hooks() const noexcept { return before_; }
  [[nodiscard]] const std::vector<MigrationHook>& after_hooks() const noexcept { return after_; }

 private:
  static std::string read_file(const std::string& path, std::int64_t version, const std::string& stem) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
    std::string text;
    if (f) {
      char buf[8192];
      std::size_t n = 0;
      while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) text.append(buf, n);
    }
    if (!f || std::ferror(f.get()))
      throw MigrationError(fmt::format("cannot read migration file '{}': {}", path, std::strerror(errno)), version,
                           stem);
    return text;
  }

  std::vector<Migration> list_;
  std::vector<MigrationHook> before_, after_;
};

/// Where one migration stands on a database.
struct MigrationState {
  enum Kind {
    applied,   ///< recorded, with the same checksum
    pending,   ///< not recorded yet
    modified,  ///< recorded with another checksum: its SQL was edited after it ran
    unknown,   ///< recorded, but not among the given migrations
  };
  std::int64_t version = 0;
  std::string name;
  Kind state = pending;
  std::string applied_at;  ///< when recorded; empty when pending
};

constexpr std::string_view to_string(MigrationState::Kind k) noexcept {
  constexpr std::string_view names[] = {"applied", "pending", "modified", "unknown"};
  return names[k];
}

/// What migrate() did (or, with dry_run, would do).
struct MigrateResult {
  std::vector<std::int64_t> applied;  ///< versions applied now (would be, in a dry run)
  std::size_t skipped = 0;            ///< already applied
  bool dry_run = false;
};

struct MigrateOptions {
  bool dry_run = false;  ///< report what would be applied; change nothing
};

namespace detail {

/// The migration runner, shared by the backends. `Conn` executes SQL in autocommit
/// mode (execute(sql, args...)); `Dialect` says how this backend locks and what it
/// adds (extensions, schema):
///   lock(conn), unlock(conn): around the whole run (PostgreSQL: an advisory lock);
///   each_transaction(conn), optional: run first in each transaction (PostgreSQL
///   behind a pooler in transaction mode: a transaction-level advisory lock);
///   begin: the statement that starts each migration's transaction (SQLite: BEGIN
///   EXCLUSIVE, which is also its lock); setup(conn): extensions and schema.
/// Each migration runs in its own transaction with its record; the record is
/// checked again inside that transaction, so concurrent runners apply it once.
template <class Conn, class Dialect>
class MigrationRunner {
 public:
  MigrationRunner(Conn& c, Dialect d, std::string database)
      : conn_(c), dialect_(std::move(d)), database_(std::move(database)) {}

  std::vector<MigrationState> status(const Migrations& m) {
    ensure_table();
    return states(m, recorded());
  }

  MigrateResult migrate(const Migrations& m, MigrateOptions o) {
    MigrateResult result;
    result.dry_run = o.dry_run;
    dialect_.lock(conn_);
    try {
      ensure_table();
      const auto states_now = states(m, recorded());
      for (const auto& s : states_now)
        if (s.state == MigrationState::modified)
          throw MigrationError(fmt::format("database '{}': migration {} '{}' was edited after it was applied (its "
                                           "checksum differs from the one recorded on {})",
                                           database_, s.version, s.name, s.applied_at),
                               s.version, s.name);
      for (const auto& s : states_now)
        if (s.state == MigrationState::applied) ++result.skipped;
      if (o.dry_run) {
        for (const auto& s : states_now)
          if (s.state == MigrationState::pending) result.applied.push_back(s.version);
      } else {
        apply(m, result);
      }
    } catch (...) {
      try {
        dialect_.unlock(conn_);
      } catch (...) {  // the error that matters is the first one
      }
      throw;
    }
    dialect_.unlock(conn_);
    return result;
  }

 private:
  void apply(const Migrations& m, MigrateResult& result) {
    {
      in_transaction(0, "setup", [&] { dialect_.setup(conn_); });
      for (const auto& hook : m.before_hooks()) in_transaction(0, "before hook", [&] { hook(executor()); });
      for (const auto& mig : m.list()) {
        bool ran = false;
        in_transaction(mig.version, mig.name, [&] {
          // Again inside the transaction: another process may have applied it.
          if (!conn_.execute("SELECT 1 FROM schema_migrations WHERE version = $1", mig.version).empty()) return;
          conn_.execute(mig.sql);
          conn_.execute("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, " +
                         std::string(dialect_.now) + ")",
                     mig.version, mig.name, mig.checksum());
          ran = true;
        });
        if (ran) result.applied.push_back(mig.version);
      }
      for (const auto& hook : m.after_hooks()) in_transaction(0, "after hook", [&] { hook(executor()); });
    }
  }

  struct Row {
    std::int64_t version;
    std::string checksum, applied_at;
  };

  void ensure_table() {
    in_transaction(0, "schema_migrations", [&] {
      conn_.execute(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
          "checksum TEXT NOT NULL, applied_at TEXT NOT NULL)");
    });
  }

  std::vector<Row> recorded() {
    std::vector<Row> rows;
    for (auto r : conn_.execute("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version"))
      rows.push_back({r[0].template as<std::int64_t>(), r[1].template as<std::string>(), r[2].template as<std::string>()});
    return rows;
  }

  static std::vector<MigrationState> states(const Migrations& m, const std::vector<Row>& rows) {
    std::vector<MigrationState> out;
    for (const auto& mig : m.list()) {
      MigrationState s{mig.version, mig.name, MigrationState::pending, {}};
      for (const auto& r : rows)
        if (r.version == mig.version) {
          s.state = r.checksum == mig.checksum() ? MigrationState::applied : MigrationState::modified;
          s.applied_at = r.applied_at;
        }
      out.push_back(s);
    }
    for (const auto& r : rows)
      if (std::none_of(m.list().begin(), m.list().end(), [&](const Migration& g) { return g.version == r.version; }))
        out.push_back({r.version, "", MigrationState::unknown, r.applied_at});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
    return out;
  }

  MigrationExecutor executor() {
    return [this](std::string_view sql) { return conn_.execute(sql); };
  }

  template <class F>
  void in_transaction(std::int64_t version, const std::string& name, F&& f) {
    conn_.execute(dialect_.begin);
    try {
      if constexpr (requires { dialect_.each_transaction(conn_); }) dialect_.each_transaction(conn_);
      f();
      conn_.execute("COMMIT");
    } catch (const std::exception& e) {
      try {
        conn_.execute("ROLLBACK");
      } catch (...) {  // the error that matters is the first one
      }
      if (dynamic_cast<const MigrationError*>(&e) != nullptr) throw;
      if (version == 0)
        throw MigrationError(fmt::format("database '{}': migration {} failed: {}", database_, name, e.what()), 0, name);
      throw MigrationError(fmt::format("database '{}': migration {} '{}' failed and was rolled back; the ones before it "
                                       "stay applied: {}",
                                       database_, version, name, e.what()),
                           version, name);
    }
  }

  Conn& conn_;
  Dialect dialect_;
  std::string database_;
};

}  // namespace detail
}  // namespace appinfra::db
