#pragma once
#include <appinfra/db/concepts/logger.hpp>

#include <concepts>
#include <string>
#include <type_traits>

namespace appinfra::db {

/// What a backend gives its pool: how to open and check one connection.
/// Requirements:
/// - `C::connection_type`: nothrow-movable, closes itself when destroyed;
/// - `c.open()`: one attempt at a new connection, or an exception saying why
///   (the pool retries);
/// - `c.alive(conn)`: a check without a round trip (is the socket still open?);
/// - `c.ping(conn)`: a round trip (`SELECT 1`); false when it fails;
/// - `c.reset(conn)`: make a returned connection clean, with a round trip only when
///   it is dirty (a transaction left open or failed); false: close it instead;
/// - `c.name()`: the database's name; `c.logger()`: a Logger.
/// Laws: alive, ping and reset are noexcept; every call may come from several
/// threads at once, each with its own connection.
/// Models: pg::detail::Connector, sqlite::detail::Connector, the test stub.
template <class C>
concept Connector = std::is_nothrow_move_constructible_v<typename C::connection_type> &&
                    requires(C& c, typename C::connection_type& conn) {
                      { c.open() } -> std::same_as<typename C::connection_type>;
                      { c.alive(conn) } noexcept -> std::convertible_to<bool>;
                      { c.ping(conn) } noexcept -> std::convertible_to<bool>;
                      { c.reset(conn) } noexcept -> std::convertible_to<bool>;
                      { c.name() } -> std::convertible_to<std::string>;
                      { c.logger() } -> Logger;
                    };

}  // namespace appinfra::db
