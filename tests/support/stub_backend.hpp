#pragma once
// A backend with no server: connections are counters, failures are switches.
// It models db::Interface, so the Manager, the pool and the policies can be unit
// tested without PostgreSQL or SQLite.

#include <appinfra/db.hpp>
#include <appinfra/db/detail/pooled_backend.hpp>

#include "test_case.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <source_location>
#include <string>
#include <utility>

namespace appinfra::test {

/// Switches and counters of one stub database, shared by its connections.
struct StubControl {
  std::atomic<int> opened{0};
  std::atomic<int> closed{0};
  std::atomic<int> pings{0};
  std::atomic<int> commits{0};
  std::atomic<int> rollbacks{0};
  std::atomic<int> statements{0};
  std::atomic<int> alive_checks{0};
  std::atomic<int> resets{0};
  std::atomic<bool> fail_open{false};
  std::atomic<bool> fail_ping{false};
  std::atomic<bool> fail_alive{false};
  std::atomic<bool> fail_query{false};
  std::atomic<bool> fail_reset{false};
};

/// The control of the stub database `name` in the running test case (made on
/// first use; `fresh`: anew). Keyed by the test case too, so no test sees another's
/// switches or counters whatever the order they run in, or alone.
inline std::shared_ptr<StubControl> stub_control(const std::string& name, bool fresh = false) {
  static std::mutex m;
  static std::map<std::pair<std::string, std::string>, std::shared_ptr<StubControl>> all;
  auto key = std::make_pair(current_test_case(), name);
  std::lock_guard lock(m);
  auto& c = all[std::move(key)];
  if (!c || fresh) c = std::make_shared<StubControl>();
  return c;
}

struct StubConn {
  int id = 0;
  std::shared_ptr<StubControl> ctl;
  bool dirty = false;  // a transaction left open: reset() must clean it
  StubConn() = default;
  StubConn(int i, std::shared_ptr<StubControl> c) : id(i), ctl(std::move(c)) {}
  StubConn(StubConn&& o) noexcept : id(o.id), ctl(std::move(o.ctl)), dirty(o.dirty) {}
  StubConn& operator=(StubConn&& o) noexcept {
    if (this != &o) {
      if (ctl) ++ctl->closed;
      id = o.id;
      ctl = std::move(o.ctl);
      dirty = o.dirty;
    }
    return *this;
  }
  ~StubConn() {
    if (ctl) ++ctl->closed;
  }
};

/// Connector of the stub: `stub://down/...` urls, or fail_open, refuse to connect.
struct StubConnector {
  using connection_type = StubConn;
  std::string db_name;
  std::shared_ptr<StubControl> ctl;
  log::Logger log{log::Level::off};

  [[nodiscard]] const std::string& name() const noexcept { return db_name; }
  [[nodiscard]] const log::Logger& logger() const noexcept { return log; }
  StubConn open() {
    if (ctl->fail_open) throw db::ConnectionError("database '" + db_name + "': stub refuses to connect");
    return StubConn(++ctl->opened, ctl);
  }
  bool alive(StubConn&) noexcept {
    ++ctl->alive_checks;
    return !ctl->fail_alive;
  }
  bool ping(StubConn&) noexcept {
    ++ctl->pings;
    return !ctl->fail_ping;
  }
  bool reset(StubConn& c) noexcept {
    if (!c.dirty) return true;
    ++ctl->resets;
    c.dirty = false;
    return !ctl->fail_reset;
  }
  void round_trip(StubConn&) {
    if (ctl->fail_query) throw db::QueryError("database '" + db_name + "': stub query failed", "XX000");
    ++ctl->statements;
  }
};

/// A db::Interface model over StubConnector, for `stub://` urls.
template <db::Access A = db::ReadWrite, db::Logger L = log::Logger, class PoolP = db::UseQueuePool<>>
class StubBackend : public db::detail::PooledBackend<StubBackend<A, L, PoolP>, StubConnector, PoolP, L> {
  using Base = db::detail::PooledBackend<StubBackend<A, L, PoolP>, StubConnector, PoolP, L>;
  using lease_type = typename Base::lease_type;

 public:
  using access_type = A;
  static constexpr std::string_view schemes = "stub";
  static bool accepts(const db::DatabaseConfig& c) noexcept {
    return c.url.scheme() == "stub" && c.readonly == A::read_only;
  }
  StubBackend(const L& logger, db::DatabaseConfig c)
      : Base(logger, c, make_connector(c), c.pool_options()) {}

  class Connection {
   public:
    db::Result execute(std::string_view sql) { return execute(db::Deadline{}, sql); }
    /// A deadline (the earlier of it and connect()'s) that has passed: nothing is
    /// sent, QueryError 57014, as the real backends do.
    db::Result execute(db::Deadline deadline, std::string_view) {
      not_passed(h_, earliest(deadline, deadline_));
      h_.connector().round_trip(h_.get());
      return db::Result({"id"}, {std::to_string(h_.get().id)}, 0);
    }
    void close() noexcept { h_.release(); }
    [[nodiscard]] int id() { return h_.get().id; }
    void dirty() { h_.get().dirty = true; }
    void invalidate() noexcept { h_.invalidate(); }
    explicit Connection(lease_type h, db::Deadline deadline = {}) : h_(std::move(h)), deadline_(deadline) {}

   private:
    lease_type h_;
    db::Deadline deadline_;
  };
  class Session {
   public:
    explicit Session(lease_type h, db::Deadline deadline = {}) : h_(std::move(h)), deadline_(deadline) {}
    Session(Session&&) noexcept = default;
    Session& operator=(Session&&) noexcept = default;
    ~Session() { close(); }
    db::Result execute(std::string_view sql) { return execute(db::Deadline{}, sql); }
    db::Result execute(db::Deadline deadline, std::string_view) {
      if (!h_) throw db::UsageError("the session is closed");
      not_passed(h_, earliest(deadline, deadline_));
      h_.connector().round_trip(h_.get());
      open_ = true;
      return {};
    }
    void commit() {
      if (open_) ++h_.connector().ctl->commits;
      open_ = false;
    }
    void rollback() {
      if (open_) ++h_.connector().ctl->rollbacks;
      open_ = false;
    }
    void close() noexcept {
      if (!h_) return;
      rollback();
      h_.release();
    }
    [[nodiscard]] bool in_transaction() const noexcept { return open_; }

   private:
    lease_type h_;
    db::Deadline deadline_;
    bool open_ = false;
  };

  // connect() and session(), with or without a deadline: from Base.
  /// Leaves a "transaction" open on a connection, as a careless caller would.
  static void dirty(Connection& c) { c.dirty(); }

 private:
  static void not_passed(lease_type& h, db::Deadline d) {
    if (d && d.passed())
      throw db::QueryError("database '" + h.connector().name() + "': the deadline passed before the statement was sent",
                           "57014");
  }
  static StubConnector make_connector(const db::DatabaseConfig& c) {
    auto ctl = stub_control(c.name);
    if (c.url.host() == "down") ctl->fail_open = true;
    return StubConnector{c.name, ctl, log::Logger(log::Level::off)};
  }
};

static_assert(db::Interface<StubBackend<>>);

}  // namespace appinfra::test
