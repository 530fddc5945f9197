#pragma once
#include <concepts>
#include <string>

namespace appinfra::db {

/// What a backend gives its pool: how to open and check one connection.
/// Requirements: `C::connection_type` is nothrow-movable; `c.open()` returns a new
/// open connection or throws ConnectionError; `c.ping(conn)` returns false when the
/// connection is no longer usable (it must not throw); `c.name()` names the
/// database for error messages.
/// Laws: open() and ping() may be called from several threads at once, each on its
/// own connection.
/// Models: pg::detail::Connector, sqlite::detail::Connector, the test stub.
template <class C>
concept Connector = std::is_nothrow_move_constructible_v<typename C::connection_type> &&
                    requires(C& c, typename C::connection_type& conn) {
                      { c.open() } -> std::same_as<typename C::connection_type>;
                      { c.ping(conn) } -> std::convertible_to<bool>;
                      { c.name() } -> std::convertible_to<std::string>;
                    };

}  // namespace appinfra::db
