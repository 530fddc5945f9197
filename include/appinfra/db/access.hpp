#pragma once
// The access policies a backend is instantiated with.

namespace appinfra::db {

/// Read and write (the default).
struct ReadWrite {
  static constexpr bool read_only = false;
};

/// Every transaction is read-only, enforced by the server; selected by
/// `readonly: true` in a database's configuration.
struct ReadOnly {
  static constexpr bool read_only = true;
};

}  // namespace appinfra::db
