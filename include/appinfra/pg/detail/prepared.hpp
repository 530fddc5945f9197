#pragma once
// The registry of a database's prepared statements, declared on each connection at
// its first use there.

#include <appinfra/db/detail/identifier.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/pg/detail/pg_conn.hpp>
#include <appinfra/pg/detail/sql_text.hpp>

#include <fmt/core.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace appinfra::pg::detail {

/// Thread-safe; movable (its state is on the heap).
class PreparedRegistry {
 public:
  /// Registers a statement for every connection of database `db`. Throws
  /// UsageError for a bad name, or a name registered with another text.
  void add(const std::string& db, const std::string& name, const std::string& sql) {
    if (!db::detail::is_identifier(name))
      throw db::UsageError(
          fmt::format("database '{}': invalid prepared statement name '{}' (expected [a-z][a-z0-9_]*)", db, name));
    std::lock_guard lock(state_->mutex);
    for (const auto& [n, text] : state_->statements)
      if (n == name) {
        if (text != sql)
          throw db::UsageError(
              fmt::format("database '{}': prepared statement '{}' is already registered with another text", db, name));
        return;
      }
    state_->statements.emplace_back(name, sql);
  }

  /// The text of a registered statement. Throws UsageError for an unknown name.
  [[nodiscard]] std::string text(const std::string& db, const std::string& name) const {
    {
      std::lock_guard lock(state_->mutex);
      for (const auto& [n, text] : state_->statements)
        if (n == name) return text;
    }
    throw db::UsageError(fmt::format("database '{}': no prepared statement named '{}' (call prepare() first)", db, name));
  }

  /// Declares `name` on `conn` if it is not yet (the server prepares it at its
  /// first execution).
  const Declared& declare(const std::string& db, PgConn& conn, const std::string& name) const {
    for (const auto& d : conn.prepared)
      if (d.name == name) return d;
    const std::string sql = text(db, name);
    conn.pq->prepare(name, sql);
    conn.prepared.push_back(Declared{name, is_query(sql), session_effect(sql)});
    return conn.prepared.back();
  }

 private:
  struct State {
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> statements;  // name, text
  };
  std::unique_ptr<State> state_ = std::make_unique<State>();
};

}  // namespace appinfra::pg::detail
