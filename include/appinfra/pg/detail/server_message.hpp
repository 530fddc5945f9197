#pragma once
// What the server said before it closed a connection: read from the protocol bytes
// waiting on the socket (for a pooled connection's check), or from libpq's message
// text (for a statement that was running). Pure functions, no libpqxx.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace appinfra::pg::detail {

/// What the bytes waiting on an idle connection's socket say.
struct Pending {
  enum Verdict { usable, dead, ask } verdict = usable;  ///< ask: only a round trip can tell
  std::string sqlstate;                                 ///< why it is dead, when the server said
};

/// Reads the backend protocol messages in `bytes` (a peek at the socket, possibly
/// cut short). An ErrorResponse ('E') on an idle connection means the server ended
/// the session (57P01 terminated or shut down, ...); PostgreSQL 15 ends sessions on
/// an immediate shutdown or a crash of another backend with a WARNING notice ('N',
/// 57P01 or 57P02) and then closes the socket, so such a notice means dead too. Other
/// notices and notifications ('A') are benign; a ParameterStatus ('S', a setting
/// changed: default_transaction_read_only after a failover, say) or anything else
/// (TLS records) needs a round trip.
inline Pending read_pending(std::string_view bytes) {
  Pending p;
  std::size_t i = 0;
  while (i < bytes.size()) {
    const char type = bytes[i];
    if (type != 'E' && type != 'N' && type != 'A') {
      p.verdict = Pending::ask;
      return p;
    }
    if (bytes.size() - i < 5) {  // the header cut short
      p.verdict = type == 'E' ? Pending::dead : Pending::ask;
      return p;
    }
    const auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + k])); };
    const std::uint32_t length = byte(1) << 24 | byte(2) << 16 | byte(3) << 8 | byte(4);
    if (length < 4) {
      p.verdict = Pending::ask;
      return p;
    }
    const std::size_t end = i + 1 + length;
    std::string sqlstate;
    if (type != 'A') {  // fields: a code byte and a C string each, ended by a zero byte
      for (std::size_t f = i + 5; f < std::min(end, bytes.size()) && bytes[f] != '\0';) {
        const std::size_t z = bytes.find('\0', f + 1);
        if (z == std::string_view::npos || z >= end) break;
        if (bytes[f] == 'C') sqlstate = std::string(bytes.substr(f + 1, z - f - 1));
        f = z + 1;
      }
    }
    if (type == 'E') {
      p.verdict = Pending::dead;
      p.sqlstate = sqlstate;
      return p;
    }
    if (type == 'N') {
      if (sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03") {
        p.verdict = Pending::dead;
        p.sqlstate = sqlstate;
        return p;
      }
      if (sqlstate.empty() && end > bytes.size()) {  // a notice cut short before its code
        p.verdict = Pending::ask;
        return p;
      }
    }
    i = end;
  }
  return p;
}

/// The SQLSTATE of the message with which the server ended a session, from libpq's
/// text of it, or "" when the text is not one of them. libpqxx 6 replaces such a
/// message with its own ("Could not obtain client encoding"), so this reads what
/// libpq kept. The server words these in its lc_messages language: in another
/// language than English they are not recognised, and the failure is reported as
/// connection_lost (08006).
inline std::string sqlstate_of_goodbye(std::string_view text) {
  const auto has = [&](std::string_view s) { return text.find(s) != std::string_view::npos; };
  if (has("terminating connection because of crash of another server process")) return "57P02";
  if (has("terminating connection due to administrator command") ||
      has("terminating connection due to immediate shutdown command") ||
      has("terminating connection due to unexpected postmaster exit"))
    return "57P01";
  if (has("the database system is shutting down") || has("the database system is starting up") ||
      has("the database system is in recovery mode") || has("the database system is not yet accepting connections") ||
      has("the database system is not accepting connections"))
    return "57P03";
  if (has("terminating connection due to idle-session timeout")) return "57P05";
  if (has("terminating connection due to idle-in-transaction timeout")) return "25P03";
  return "";
}

}  // namespace appinfra::pg::detail
