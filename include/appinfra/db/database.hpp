#pragma once
// Database: one named database of a run-time Manager, with static dispatch to its
// backend; AnyConnection and AnySession, what it hands out.

#include <appinfra/db/concepts/backend.hpp>
#include <appinfra/db/deadline.hpp>
#include <appinfra/db/detail/entry_state.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/health.hpp>
#include <appinfra/db/result.hpp>
#include <appinfra/db/stats.hpp>

#include <fmt/core.h>

#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace appinfra::db {

template <Interface... Backends>
class Manager;

namespace detail {
/// What AnyConnection and AnySession share: the backend's handle in a variant,
/// each call dispatched statically (std::visit). No virtual function, nothing
/// stored beside the variant.
template <class Variant>
class AnyHandout {
 public:
  using variant_type = Variant;
  explicit AnyHandout(variant_type v) noexcept : handout_(std::move(v)) {}

  template <class... Args>
  Result execute(std::string_view sql, const Args&... args) {
    return std::visit([&](auto& h) { return h.execute(sql, args...); }, handout_);
  }
  /// A statement bounded by `deadline` and the handle's own (the earlier): see the
  /// backend's Connection::execute(deadline, ...) and Session::execute(deadline, ...).
  template <class... Args>
  Result execute(Deadline deadline, std::string_view sql, const Args&... args) {
    return std::visit([&](auto& h) { return h.execute(deadline, sql, args...); }, handout_);
  }
  void close() noexcept {
    std::visit([](auto& h) { h.close(); }, handout_);
  }
  /// Calls f with the backend's own connection or session type (for native()).
  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), handout_);
  }

 protected:
  variant_type handout_;
};
}  // namespace detail

/// A connection from whichever backend a database has: execute() dispatches
/// statically (std::visit over the backends' connection types). Move-only.
template <class... Backends>
class AnyConnection : public detail::AnyHandout<std::variant<decltype(std::declval<Backends&>().connect())...>> {
 public:
  using detail::AnyHandout<std::variant<decltype(std::declval<Backends&>().connect())...>>::AnyHandout;
};

/// A session from whichever backend a database has. Move-only; rolls back unless
/// committed.
template <class... Backends>
class AnySession : public detail::AnyHandout<std::variant<decltype(std::declval<Backends&>().session())...>> {
 public:
  using detail::AnyHandout<std::variant<decltype(std::declval<Backends&>().session())...>>::AnyHandout;

  void commit() {
    std::visit([](auto& s) { s.commit(); }, this->handout_);
  }
  void rollback() {
    std::visit([](auto& s) { s.rollback(); }, this->handout_);
  }
  [[nodiscard]] bool in_transaction() const noexcept {
    return std::visit([](const auto& s) { return s.in_transaction(); }, this->handout_);
  }
};

/// One named database of a Manager: the backend the factory chose for it, or why
/// its setup failed. Returned by reference from Manager::db(); lives as long as the
/// Manager. Thread-safe after setup(), also while the Manager's retry thread sets
/// it up: the backend is published (release) before available() (acquire) is true.
template <class... Backends>
class Database : private detail::EntryState {
 public:
  explicit Database(std::string name) : EntryState(std::move(name)) {}
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  using EntryState::available;
  [[nodiscard]] const std::string& name() const noexcept { return EntryState::name; }
  /// Why setup failed (a copy: a background retry may change it); empty if it did
  /// not, or has since succeeded.
  using EntryState::setup_error;
  /// Setup failed for a reason that may pass and is being tried again in the background.
  using EntryState::retrying;

  /// Calls f(backend&) with the concrete backend. Throws like Manager::db() when the
  /// database is not available.
  template <class F>
  decltype(auto) visit(F&& f) {
    require_available();
    return std::visit(std::forward<F>(f), *backend_);
  }

  /// The concrete backend; throws db::Error naming the database when it has another type.
  template <class B>
  [[nodiscard]] B& get() {
    require_available();
    if (B* b = std::get_if<B>(&*backend_)) return *b;
    throw Error(fmt::format("database '{}' does not have the requested backend type", EntryState::name));
  }
  template <class B>
  [[nodiscard]] bool holds() const noexcept {
    return set_up.load(std::memory_order_acquire) && std::holds_alternative<B>(*backend_);
  }

  /// A pooled connection; `where` is recorded for pool diagnostics (leave the default).
  [[nodiscard]] AnyConnection<Backends...> connect(std::source_location where = std::source_location::current()) {
    return hand_out<AnyConnection<Backends...>>([&](auto& b) { return b.connect(where); });
  }
  /// A connection whose checkout waits no longer than `deadline`
  /// (PoolTimeoutError) and whose every statement is bounded by it.
  [[nodiscard]] AnyConnection<Backends...> connect(Deadline deadline,
                                                   std::source_location where = std::source_location::current()) {
    return hand_out<AnyConnection<Backends...>>([&](auto& b) { return b.connect(deadline, where); });
  }
  /// A session; `where` is recorded for pool diagnostics (leave the default).
  [[nodiscard]] AnySession<Backends...> session(std::source_location where = std::source_location::current()) {
    return hand_out<AnySession<Backends...>>([&](auto& b) { return b.session(where); });
  }
  /// A session whose checkout waits no longer than `deadline` and whose
  /// statements (and commit) are bounded by it.
  [[nodiscard]] AnySession<Backends...> session(Deadline deadline,
                                                std::source_location where = std::source_location::current()) {
    return hand_out<AnySession<Backends...>>([&](auto& b) { return b.session(deadline, where); });
  }
  [[nodiscard]] HealthResult health_check(std::source_location where = std::source_location::current()) {
    return visit([&](auto& b) { return b.health_check(where); });
  }
  [[nodiscard]] PoolStatus get_pool_status() {
    return visit([](auto& b) { return b.get_pool_status(); });
  }

 private:
  template <Interface...>
  friend class Manager;
  // `get(backend)` (its connection or session) as the alternative of `Any` for
  // this backend.
  template <class Any, class Get>
  Any hand_out(Get&& get) {
    return visit([&](auto& b) {
      return Any(typename Any::variant_type(std::in_place_type<decltype(get(b))>, get(b)));
    });
  }
  std::optional<std::variant<Backends...>> backend_;  // emplaced in place: backends do not move
};

}  // namespace appinfra::db
