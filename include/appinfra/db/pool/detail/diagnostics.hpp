#pragma once
// What the pool says when a checkout times out, a connection is held too long
// or returned late: the texts, from plain values, so that they can be tested
// alone.

#include <appinfra/db/detail/log.hpp>

#include <fmt/core.h>

#include <chrono>
#include <cstddef>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

namespace appinfra::db::detail {

inline std::string where_text(const std::source_location& w) {
  return fmt::format("{}:{} in {}", w.file_name(), w.line(), w.function_name());
}

/// A checked-out connection, for a saturated pool's timeout message.
struct Holder {
  std::size_t index;  // which connection
  double held_s;      // for how long
  std::source_location where;
};

/// The `limit` longest holders, longest first, as "; #i held x s, acquired at
/// w" each; of equal ones, the first given comes first. (A selection, not
/// std::stable_sort, whose merge machinery every translation unit would compile.)
inline std::string longest_holders(std::vector<Holder> holders, std::size_t limit = 3) {
  std::string text;
  for (std::size_t n = 0; n < limit && !holders.empty(); ++n) {
    auto longest = holders.begin();
    for (auto it = holders.begin(); it != holders.end(); ++it)
      if (it->held_s > longest->held_s) longest = it;
    text += fmt::format("; #{} held {:.3f} s, acquired at {}", longest->index, longest->held_s,
                        where_text(longest->where));
    holders.erase(longest);
  }
  return text;
}

/// What ran out: the pool's timeout, or the caller's deadline after `waited_s`
/// (which is less).
inline std::string timeout_cause(bool by_caller, double waited_s, double pool_timeout_s) {
  return by_caller ? fmt::format(
                         ": the deadline passed after waiting {:.3f} s "
                         "(pool_timeout {} s)",
                         waited_s, pool_timeout_s)
                   : fmt::format(" after waiting {} s", pool_timeout_s);
}

/// The timeout of a pool that cannot reach its database.
inline std::string unreachable_message(std::string_view db, std::string_view after, std::size_t failed_attempts,
                                       std::string_view last_error) {
  return fmt::format(
      "database '{}': no connection{}: the database is "
      "unreachable: {} connection "
      "attempt{} failed since the last success; last error: {}",
      db, after, failed_attempts, failed_attempts == 1 ? "" : "s", without_db(last_error, db));
}

/// The timeout of a pool whose connections are all checked out; `holders` from
/// longest_holders().
inline std::string saturated_message(std::string_view db, std::string_view after, std::size_t checked_out,
                                     std::size_t capacity, std::size_t pool_size, std::size_t max_overflow,
                                     std::size_t waiting, std::string_view holders) {
  return fmt::format(
      "database '{}': no connection{}: the pool is saturated: "
      "{} of {} connections checked out "
      "(pool_size {}, max_overflow {}), {} waiting{}",
      db, after, checked_out, capacity, pool_size, max_overflow, waiting, holders);
}

/// A checkout refused because its deadline had passed `late_s` before it began.
inline std::string passed_before_message(std::string_view db, double late_s) {
  return fmt::format(
      "database '{}': no connection: the deadline had passed "
      "{:.3f} s before the checkout began",
      db, late_s);
}

inline std::string hold_warning_message(std::string_view db, std::size_t index, double held_s, double limit_s,
                                        const std::source_location& where) {
  return fmt::format(
      "database '{}': connection #{} held for {:.1f} s "
      "(hold_warning {} s), acquired at {}",
      db, index, held_s, limit_s, where_text(where));
}

inline std::string late_return_message(std::string_view db, std::size_t index, double held_s,
                                       const std::source_location& where) {
  return fmt::format("database '{}': connection #{} returned after {:.1f} s, acquired at {}", db, index, held_s,
                     where_text(where));
}

}  // namespace appinfra::db::detail
