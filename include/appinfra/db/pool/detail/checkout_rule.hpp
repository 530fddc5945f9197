#pragma once
// The one rule that decides whether an idle connection may be handed out, and
// what must be checked first. Both checkout paths ask it: the inline fast path
// and the slow path.

#include <appinfra/db/pool/detail/ticks.hpp>
#include <appinfra/db/pool/options.hpp>

#include <algorithm>

namespace appinfra::db::detail {

/// The pre_ping options in the pool's clock ticks, converted once.
template <class Rep>
struct CheckoutRule {
  bool pre_ping = true;
  Rep grace = 0;   // pre_ping_grace, never beyond window: pre_ping_window 0 checks every checkout
  Rep window = 0;  // pre_ping_window

  template <class Clock>
  static CheckoutRule from(const PoolOptions& o) noexcept {
    return {o.pre_ping, Ticks<Clock>::of(std::min(o.pre_ping_grace, o.pre_ping_window)),
            Ticks<Clock>::of(o.pre_ping_window)};
  }
};

/// What to do with an idle connection at checkout: hand it out with no check
/// (`use`), after the connector's socket-level check (`needs_alive`), after that
/// and a round trip (`needs_ping`), or replace it (`expired`: due for recycling).
/// One byte, so that the inline fast path keeps it in a register.
enum class CheckoutVerdict : unsigned char { use, needs_alive, needs_ping, expired };

/// Not due for recycling (`expires`, 0: never), and with pre_ping either
/// checked out last less than the grace ago (held and idle together: a
/// connection held for minutes without a statement gets checked), or else
/// checked: alive, plus a ping when it idled at least the window. `times` gives
/// `acquired_at()` and `returned_at()`; each is read only when the rule needs
/// it, so that the fast path loads nothing it did not load before.
template <class Rep, class Times>
[[gnu::always_inline]] inline CheckoutVerdict checkout_verdict(const CheckoutRule<Rep>& rule, Rep expires,
                                                               const Times& times, Rep now) noexcept {
  if (expires != 0 && now >= expires) return CheckoutVerdict::expired;
  if (!rule.pre_ping || now - times.acquired_at() < rule.grace) return CheckoutVerdict::use;
  return now - times.returned_at() >= rule.window ? CheckoutVerdict::needs_ping : CheckoutVerdict::needs_alive;
}

}  // namespace appinfra::db::detail
