#pragma once
// The SQLSTATE of a server error whose code libpqxx 6 dropped, from the error's
// text. Pure functions, no libpqxx.
//
// libpqxx 6.4 throws pqxx::insufficient_privilege (42501) without its SQLSTATE
// (result::ThrowSQLError passes no code for it; every other sql_error subclass
// keeps it), and throws 40001/40P01/40003/40000 and 53300 as classes that are no
// sql_error at all. The typed cases are best recovered from the exception's type;
// this function covers an untyped sql_error, and a message written with
// PQERRORS_VERBOSE, which carries the code itself ("ERROR:  42501: permission
// denied for table t").

#include <cstddef>
#include <string>
#include <string_view>

namespace appinfra::pg::detail {

namespace sqlstate_detail {
constexpr bool is_code_char(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); }

// The code after the severity of a verbose message: "ERROR:  42501: ...".
constexpr std::string_view verbose_code(std::string_view what) noexcept {
  for (std::string_view severity : {"ERROR:  ", "FATAL:  ", "PANIC:  "}) {
    if (what.substr(0, severity.size()) != severity) continue;
    const std::string_view rest = what.substr(severity.size());
    if (rest.size() < 7 || rest[5] != ':' || rest[6] != ' ') return {};
    for (std::size_t i = 0; i < 5; ++i)
      if (!is_code_char(rest[i])) return {};
    return rest.substr(0, 5);
  }
  return {};
}

struct Known {
  std::string_view text;  ///< found anywhere in the message's first line
  std::string_view sqlstate;
};

// PostgreSQL 15's wording (src/backend/...; the messages are not translated when
// lc_messages is C, the default for a server started by initdb without a locale).
inline constexpr Known known[] = {
    {"permission denied for ", "42501"},  // table, schema, sequence, function, database, ...
    {"permission denied to ", "42501"},   // "permission denied to create database", "... to set role"
    {"must be owner of ", "42501"},
    {"must be superuser", "42501"},
    {"canceling statement due to statement timeout", "57014"},
    {"canceling statement due to user request", "57014"},
    {"canceling statement due to lock timeout", "55P03"},
    {"could not serialize access", "40001"},
    {"deadlock detected", "40P01"},
    {"in a read-only transaction", "25006"},
    {"terminating connection due to administrator command", "57P01"},
    {"terminating connection due to idle-in-transaction timeout", "25P03"},
    {"terminating connection due to idle-session timeout", "57P05"},
    {"the database system is starting up", "57P03"},
    {"the database system is shutting down", "57P03"},
    {"the database system is in recovery mode", "57P03"},
    {"sorry, too many clients already", "53300"},
    {"too many connections for ", "53300"},
    {"duplicate key value violates unique constraint", "23505"},
    {"violates foreign key constraint", "23503"},
    {"violates not-null constraint", "23502"},
    {"violates check constraint", "23514"},
    {"division by zero", "22012"},
    {"syntax error at or near", "42601"},
    {"syntax error at end of input", "42601"},
};
}  // namespace sqlstate_detail

/// The SQLSTATE a PostgreSQL error message stands for: the code a verbose message
/// carries, else the code of a known wording on its first line; "" when neither.
/// For an error whose SQLSTATE libpqxx lost (see above): the code from the
/// exception itself, when there is one, is always the better answer.
inline std::string sqlstate_from_message(std::string_view what) {
  if (const auto code = sqlstate_detail::verbose_code(what); !code.empty()) return std::string(code);
  const std::string_view first_line = what.substr(0, what.find('\n'));
  for (const auto& k : sqlstate_detail::known)
    if (first_line.find(k.text) != std::string_view::npos) return std::string(k.sqlstate);
  return {};
}

}  // namespace appinfra::pg::detail
