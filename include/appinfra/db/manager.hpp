#pragma once
// Manager: named databases from run-time configuration, each served by the first
// backend of the Manager's type list that accepts its configuration.

#include <appinfra/db/concepts/backend.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/database.hpp>
#include <appinfra/db/detail/manager_base.hpp>
#include <appinfra/db/detail/type_list.hpp>
#include <appinfra/db/errors.hpp>

#include <fmt/core.h>

#include <deque>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace appinfra::db {

/// The seed's Manager, composed at compile time from a list of backends, for
/// example `Manager<pg::PG<>, pg::PG<ReadOnly>, sqlite::SQLite<>>`.
///
/// setup() builds one backend per configured database: the first type of the list
/// whose `accepts(config)` is true (url scheme and `readonly`), dispatching
/// statically from then on. A database whose url scheme no backend serves fails
/// with UnknownDBTypeException, recorded while the others are set up. A database
/// that failed for a reason that may pass (server down, starting, a standby, no
/// answer in time) is set up again in the background until it succeeds (see
/// ManagerBase::setup(), the options `setup_retry` and `setup_retry_max_interval`).
///
/// Thread safety: setup() and close_all() must not run concurrently with anything
/// else; all other members may be called concurrently after setup(), also while a
/// database is being set up in the background: it becomes visible to db() at once
/// and completely.
/// Lifetime: references from db() live as long as the Manager; the destructor
/// calls close_all().
template <Interface... Backends>
class Manager : public detail::ManagerBase<Manager<Backends...>, typename detail::common_logger<Backends...>::type> {
  static_assert(sizeof...(Backends) > 0, "appinfra::db::Manager needs at least one backend");
  static_assert(detail::unique_types<Backends...>, "appinfra::db::Manager: a backend type is listed twice");
  using Base = detail::ManagerBase<Manager, typename detail::common_logger<Backends...>::type>;
  friend Base;

 public:
  using logger_type = typename Base::logger_type;
  using database_type = Database<Backends...>;
  static constexpr bool has_fixed_options = false;  ///< every option comes from the Config

  Manager(logger_type logger, Config config) : Base(std::move(logger), std::move(config)) {}
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;
  ~Manager() { this->close_all(); }

  /// The database named `name`. Throws NotFoundError for a name that is not
  /// configured, SetupError (with the original error nested) for one whose setup
  /// failed (saying when the next attempt is while it is retried), ClosedError after
  /// close_all(), UsageError before setup().
  [[nodiscard]] database_type& db(std::string_view name) {
    if (!this->setup_called())
      throw UsageError(fmt::format("Database '{}' is not set up: db() was called before setup(); call setup() first",
                                   name));
    for (auto& d : dbs_)
      if (d.name() == name) {
        d.require_available();
        return d;
      }
    throw NotFoundError(fmt::format("Database connection '{}' not found", name));
  }

  /// The backend types' url schemes, for messages ("postgresql, postgres, sqlite").
  [[nodiscard]] static std::string supported_schemes() {
    std::string out;
    detail::for_each_type<Backends...>([&](auto t, std::size_t) {
      const std::string_view s = decltype(t)::type::schemes;
      if (out.find(s) == std::string::npos) out += (out.empty() ? "" : ", ") + std::string(s);
    });
    return out;
  }

 private:
  void setup_entries() {
    for (const auto& [name, options] : this->config_) {
      database_type& d = dbs_.emplace_back(name);
      this->setup_entry(d, &options);
    }
  }

  // Called by setup() and by the retry thread; `s` is always one of dbs_.
  void build(detail::EntryState& s, const DatabaseConfig& c) { create(static_cast<database_type&>(s), c); }

  // The factory: the first backend that accepts the configuration.
  void create(database_type& d, const DatabaseConfig& c) {
    bool made = false;
    detail::for_each_type<Backends...>([&](auto t, std::size_t) {
      using B = typename decltype(t)::type;
      if (!made && B::accepts(c)) {
        d.backend_.emplace(std::in_place_type<B>, this->logger_, c);
        made = true;
      }
    });
    if (made) return;
    if (!c.pg.replicas.empty())
      throw ConfigError(c.name, "replicas", "[...]",
                        fmt::format("database '{}': key 'replicas' is given but this Manager has no backend for a "
                                    "database with replicas{} (add pg::Replicated<> to the Manager's backends)",
                                    c.name, c.readonly ? " that is read-only" : ""));
    DatabaseConfig other = c;
    other.readonly = !c.readonly;
    bool other_access = false;
    detail::for_each_type<Backends...>([&](auto t, std::size_t) { other_access = other_access || decltype(t)::type::accepts(other); });
    if (other_access)
      throw ConfigError(c.name, "readonly", c.readonly ? "true" : "false",
                        fmt::format("database '{}': key 'readonly' is {} but this Manager has no {} backend for "
                                    "'{}' urls (add one with the {} access policy to the Manager's backends)",
                                    c.name, c.readonly, c.readonly ? "read-only" : "read-write", c.url.scheme(),
                                    c.readonly ? "ReadOnly" : "ReadWrite"));
    throw UnknownDBTypeException(c.name, "url", "'" + c.url.redacted() + "'",
                                 fmt::format("database '{}': key 'url' has unknown database type '{}' in '{}' "
                                             "(this Manager supports: {})",
                                             c.name, c.url.scheme(), c.url.redacted(), supported_schemes()));
  }

  // For ManagerBase::for_each_entry(): `self` is this manager, const or not.
  template <class Self, class F>
  static void visit_entries(Self& self, F& f) {
    using First = std::tuple_element_t<0, std::tuple<Backends...>>;
    using State = std::conditional_t<std::is_const_v<Self>, const detail::EntryState, detail::EntryState>;
    for (auto& d : self.dbs_) {
      // set_up (acquire), not backend_.has_value(): the retry thread may be emplacing it.
      State& state = d;
      if (d.set_up.load(std::memory_order_acquire)) std::visit([&](auto& b) { f(state, &b); }, *d.backend_);
      else f(state, detail::backend_ptr<Self, First>(nullptr));
    }
  }

  std::deque<database_type> dbs_;  // a deque: entries never move once built
};

}  // namespace appinfra::db
