#pragma once
// StaticManager: database names and backends fixed at compile time.

#include <appinfra/db/concepts/backend.hpp>
#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/fixed_check.hpp>
#include <appinfra/db/detail/fixed_string.hpp>
#include <appinfra/db/detail/manager_base.hpp>
#include <appinfra/db/detail/type_list.hpp>
#include <appinfra/db/errors.hpp>
#include <appinfra/db/fixed_options.hpp>

#include <fmt/core.h>

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace appinfra::db {

/// Declares a database of a StaticManager: its name, its backend type and,
/// optionally, options fixed at compile time (fixed_options(); see
/// db/fixed_options.hpp). Fixed options are checked by the configuration's rules
/// when the declaration is used: a value those rules reject does not compile, with
/// the database, the key, the value and the rule in the compiler's note.
template <detail::FixedString Name, Interface Backend, auto Fixed = FixedOptions<>{}>
struct Named {
  static_assert(detail::fixed_options_valid<detail::fixed_violation<Name, Fixed, Backend>()>::value,
                "appinfra::db::Named: a fixed option breaks the configuration's rules (the note below names the "
                "database, the key, the value and the rule)");
  static constexpr auto name = Name;
  static constexpr auto fixed = Fixed;
  using backend_type = Backend;
};

namespace detail {
template <class T>
inline constexpr bool is_named = false;
template <FixedString N, class B, auto F>
inline constexpr bool is_named<Named<N, B, F>> = true;

template <class Decl>
struct Slot : EntryState {
  Slot() : EntryState(std::string(Decl::name.view())) {}
  std::optional<typename Decl::backend_type> backend;
};

template <class... Decls>
constexpr bool names_unique() {
  constexpr std::string_view names[] = {Decls::name.view()...};
  for (std::size_t i = 0; i < sizeof...(Decls); ++i)
    for (std::size_t j = i + 1; j < sizeof...(Decls); ++j)
      if (names[i] == names[j]) return false;
  return true;
}

/// The position of `name` among the declarations; their count when absent.
template <class... Decls>
constexpr std::size_t index_of(std::string_view name) noexcept {
  constexpr std::string_view names[] = {Decls::name.view()...};
  for (std::size_t i = 0; i < sizeof...(Decls); ++i)
    if (names[i] == name) return i;
  return sizeof...(Decls);
}

template <FixedString>
inline constexpr bool name_not_declared = false;
}  // namespace detail

/// A Manager whose databases are declared in its type, for example
/// `StaticManager<Named<"primary", pg::PG<>, primary_options>, Named<"cache", sqlite::SQLite<>>>`.
/// A database's options are its fixed options (checked at compile time) with the
/// Config's options for it over them: a key the Config gives overrides the fixed
/// value. A database whose fixed options hold everything it needs (its url) needs
/// no entry in the Config.
/// `db<"primary">()` returns the concrete backend type with no lookup at run
/// time, and a name that is not declared does not compile.
///
/// A declared database with no fixed options that is missing from the Config, a
/// configured one that is not declared, and one whose url or readonly flag its backend does not accept are
/// setup errors, recorded like any other.
///
/// Thread safety and lifetime: as Manager.
template <class... Decls>
class StaticManager
    : public detail::ManagerBase<StaticManager<Decls...>,
                                 typename detail::common_logger<typename Decls::backend_type...>::type> {
  static_assert(sizeof...(Decls) > 0, "appinfra::db::StaticManager needs at least one Named<\"name\", Backend>");
  static_assert((detail::is_named<Decls> && ...),
                "appinfra::db::StaticManager takes Named<\"name\", Backend> declarations");
  static_assert(detail::names_unique<Decls...>(), "appinfra::db::StaticManager: a database name is declared twice");
  using Base = detail::ManagerBase<StaticManager, typename detail::common_logger<typename Decls::backend_type...>::type>;
  friend Base;

 public:
  using logger_type = typename Base::logger_type;
  /// true when a database has fixed options: setup() then needs no Config.
  static constexpr bool has_fixed_options =
      (!std::is_same_v<std::remove_const_t<decltype(Decls::fixed)>, FixedOptions<>> || ...);

  StaticManager(logger_type logger, Config config) : Base(std::move(logger), std::move(config)) {}
  StaticManager(const StaticManager&) = delete;
  StaticManager& operator=(const StaticManager&) = delete;
  ~StaticManager() { this->close_all(); }

  /// The backend declared as `Name`, with its concrete type. Throws SetupError
  /// (original error nested) when its setup failed (saying when the next attempt is
  /// while it is retried), ClosedError after close_all(), UsageError before setup().
  template <detail::FixedString Name>
  [[nodiscard]] auto& db() {
    constexpr std::size_t i = detail::index_of<Decls...>(Name.view());
    if constexpr (i < sizeof...(Decls)) {
      auto& slot = std::get<i>(slots_);
      slot.require_available();
      return *slot.backend;
    } else {
      static_assert(detail::name_not_declared<Name>,
                    "appinfra::db::StaticManager::db<name>(): no database of this name is declared in this "
                    "StaticManager (check the spelling against its Named<\"name\", Backend> list)");
    }
  }

 private:
  void setup_entries() {
    std::apply([&](auto&... slot) { (setup_slot(slot), ...); }, slots_);
    for (const auto& [name, options] : this->config_) {
      if (detail::index_of<Decls...>(name) < sizeof...(Decls)) continue;
      detail::EntryState& s = undeclared_.emplace_back(name);
      std::string error = fmt::format(
          "database '{}' is configured but not declared in this StaticManager (declared: {})", name, declared_names());
      auto cause = std::make_exception_ptr(ConfigError(name, "", "", error));
      this->record_failure(s, std::move(error), std::move(cause));
    }
  }

  template <class Decl>
  void setup_slot(detail::Slot<Decl>& slot) {
    const Options* options = this->config_.find(slot.name);
    if constexpr (std::is_same_v<std::remove_const_t<decltype(Decl::fixed)>, FixedOptions<>>) {  // no fixed options
      slot.configured = options != nullptr;
      this->setup_entry(slot, options);
    } else {
      slot.configured = true;
      const Options merged = detail::with_fixed(Decl::fixed, options);
      this->setup_entry(slot, &merged);
    }
  }

  // Called by setup() and by the retry thread; `s` is one of the slots (an
  // undeclared entry is never built: its error is a configuration error).
  void build(detail::EntryState& s, const DatabaseConfig& c) {
    std::apply([&](auto&... slot) { ((&s == &slot ? build_slot(slot, c) : void()), ...); }, slots_);
  }

  template <class Decl>
  void build_slot(detail::Slot<Decl>& slot, const DatabaseConfig& c) {
    using B = typename Decl::backend_type;
    if (!B::accepts(c))
      throw ConfigError(c.name, "url", "'" + c.url.redacted() + "'",
                        fmt::format("database '{}': url '{}' with readonly {} does not suit its declared backend "
                                    "(schemes: {}; {})",
                                    c.name, c.url.redacted(), c.readonly, B::schemes,
                                    B::access_type::read_only ? "read-only" : "read-write"));
    slot.backend.emplace(this->logger_, c);
  }

  static std::string declared_names() {
    std::string out;
    ((out += (out.empty() ? "" : ", ") + std::string(Decls::name.view())), ...);
    return out;
  }

  // For ManagerBase::for_each_entry(): `self` is this manager, const or not.
  template <class Self, class F>
  static void visit_entries(Self& self, F& f) {
    // set_up (acquire), not backend.has_value(): the retry thread may be emplacing it.
    std::apply([&](auto&... slot) { (f(slot, slot.set_up.load(std::memory_order_acquire) ? &*slot.backend : nullptr), ...); },
               self.slots_);
    using First = typename std::tuple_element_t<0, std::tuple<Decls...>>::backend_type;
    for (auto& s : self.undeclared_) f(s, detail::backend_ptr<Self, First>(nullptr));
  }

  std::tuple<detail::Slot<Decls>...> slots_;
  std::deque<detail::EntryState> undeclared_;
};

}  // namespace appinfra::db
