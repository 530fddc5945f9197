#pragma once
#include <concepts>

namespace appinfra::db {

/// Access policy.
/// Requirements: `A::read_only` is a constant bool.
/// Models: ReadWrite, ReadOnly.
template <class A>
concept Access = requires {
  { A::read_only } -> std::convertible_to<bool>;
  requires(A::read_only || !A::read_only);  // usable in a constant expression
};

}  // namespace appinfra::db
