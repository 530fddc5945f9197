#pragma once
// Reading SQL text without parsing it: the first keyword, whether a statement only
// reads, and whether it may change the connection's session. Pure functions, no
// libpqxx, allocation-free: they run on every statement.

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace appinfra::pg::detail {

constexpr char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

/// Where the first keyword of a statement starts: after white space, parentheses
/// and comments.
inline std::size_t keyword_start(std::string_view sql) noexcept {
  std::size_t i = 0;
  for (;;) {
    while (i < sql.size() && (sql[i] == ' ' || (sql[i] >= '\t' && sql[i] <= '\r') || sql[i] == '(')) ++i;
    if (sql.substr(i, 2) == "--") {
      const auto nl = sql.find('\n', i);
      i = nl == std::string_view::npos ? sql.size() : nl + 1;
    } else if (sql.substr(i, 2) == "/*") {
      const auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      return i;
    }
  }
}

/// The word of letters starting at `i` (at most 12), lower case; `i` moves past it.
inline std::string word_at(std::string_view sql, std::size_t& i) {
  std::string word;  // at most 12 letters: within the small-string buffer, no allocation
  for (; i < sql.size() && word.size() < 12; ++i) {
    const char c = ascii_lower(sql[i]);
    if (c < 'a' || c > 'z') break;
    word += c;
  }
  return word;
}

/// Moves `i` past white space.
inline void skip_space(std::string_view sql, std::size_t& i) noexcept {
  while (i < sql.size() && (sql[i] == ' ' || (sql[i] >= '\t' && sql[i] <= '\r'))) ++i;
}

/// The first keyword of a statement, lower case.
inline std::string first_keyword(std::string_view sql) {
  std::size_t i = keyword_start(sql);
  return word_at(sql, i);
}

/// Whether `word` (lower case) appears in `text`, in any case.
inline bool contains_ci(std::string_view text, std::string_view word) noexcept {
  if (word.empty() || word.size() > text.size()) return word.empty();
  for (std::size_t i = 0; i + word.size() <= text.size(); ++i) {
    std::size_t k = 0;
    while (k < word.size() && ascii_lower(text[i + k]) == word[k]) ++k;
    if (k == word.size()) return true;
  }
  return false;
}

/// Whether `text` calls set_config() or takes an advisory lock: whether it holds
/// "set_config" or "advisory_lock", in any case. One pass, and a cheap one: both
/// words hold a '_', so only the '_' characters (found with memchr) are candidates,
/// each compared where the word would start. Same answer as contains_ci() on
/// each word, without reading the text twice.
inline bool mentions_session_function(std::string_view text) noexcept {
  const auto at = [text](std::size_t start, std::string_view word) {
    if (start + word.size() > text.size()) return false;
    for (std::size_t k = 0; k < word.size(); ++k)
      if (ascii_lower(text[start + k]) != word[k]) return false;
    return true;
  };
  for (std::size_t u = text.find('_'); u != std::string_view::npos; u = text.find('_', u + 1))
    if ((u >= 3 && at(u - 3, "set_config")) || (u >= 8 && at(u - 8, "advisory_lock"))) return true;
  return false;
}

/// Whether a text that mentions set_config() or an advisory lock
/// (mentions_session_function) leaves nothing past its transaction: every
/// set_config() has a literal `true` (is_local) as its last argument and no
/// session advisory lock is taken (pg_advisory_xact_lock is not one). Anything it
/// cannot read counts as session state.
inline bool session_functions_are_local(std::string_view sql) {
  if (contains_ci(sql, "advisory_lock")) return false;
  bool any = false;
  for (std::size_t at = 0; at + 10 <= sql.size(); ++at) {
    std::size_t k = 0;
    while (k < 10 && ascii_lower(sql[at + k]) == "set_config"[k]) ++k;
    if (k < 10) continue;
    any = true;
    std::size_t i = at + 10;
    skip_space(sql, i);
    if (i >= sql.size() || sql[i] != '(') return false;
    int depth = 0;
    bool quoted = false;
    std::size_t last_comma = std::string_view::npos;
    for (; i < sql.size(); ++i) {
      const char c = sql[i];
      if (c == '\'') quoted = !quoted;
      else if (quoted) continue;
      else if (c == '(') ++depth;
      else if (c == ')' && --depth == 0) break;
      else if (c == ',' && depth == 1) last_comma = i;
    }
    if (i >= sql.size() || last_comma == std::string_view::npos) return false;
    std::size_t a = last_comma + 1;
    skip_space(sql, a);
    if (word_at(sql, a) != "true") return false;
    skip_space(sql, a);
    if (a != i) return false;
    at = i;
  }
  return any;
}

/// Whether `piece` (one statement) declares a cursor WITH HOLD: the two words next
/// to each other, not a name such as `holdings`, not WITHOUT HOLD.
inline bool with_hold(std::string_view piece) {
  const auto word_char = [](char c) {
    c = ascii_lower(c);
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
  };
  std::string previous, word;
  for (std::size_t i = 0; i <= piece.size(); ++i) {
    if (i < piece.size() && word_char(piece[i])) {
      word += ascii_lower(piece[i]);
      continue;
    }
    if (!word.empty()) {
      if (previous == "with" && word == "hold") return true;
      previous = std::move(word);
      word.clear();
    } else if (i < piece.size() && !(piece[i] == ' ' || (piece[i] >= '\t' && piece[i] <= '\r'))) {
      previous.clear();  // a quote or an operator between them
    }
  }
  return false;
}

/// Whether `sql` holds more than one statement and one of them begins, ends or
/// aborts a transaction: behind a pooler in transaction mode such a text could end
/// the transaction that carries the database's settings, or open one without them.
inline bool controls_transaction_among_others(std::string_view sql) {
  int statements = 0;
  bool control = false;
  for (std::size_t start = 0; start <= sql.size();) {
    const std::size_t end = std::min(sql.find(';', start), sql.size());
    const std::string_view piece = sql.substr(start, end - start);
    std::size_t i = keyword_start(piece);
    const std::string w = word_at(piece, i);
    if (!w.empty()) {
      ++statements;
      control = control || w == "begin" || w == "start" || w == "commit" || w == "end" || w == "rollback" ||
                w == "abort";
    }
    start = end + 1;
  }
  return statements > 1 && control;
}

/// True when `sql` only reads, so that the row count libpq reports (for a SELECT,
/// the rows returned) is not a change count. A WITH statement is judged by its main
/// statement, after the parenthesised CTEs (skipping quoted text).
inline bool is_query(std::string_view sql) {
  const auto query_word = [](std::string_view w) {
    return w == "select" || w == "values" || w == "show" || w == "table" || w == "explain";
  };
  const std::string first = first_keyword(sql);
  if (first != "with") return query_word(first);
  int depth = 0;
  for (std::size_t i = keyword_start(sql) + 4; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      const auto end = sql.find(c, i + 1);
      if (end == std::string_view::npos) return false;
      i = end;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (depth == 0 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      std::string w;  // the whole word (a name like select_ids is not SELECT), lower case
      std::size_t j = i;
      for (; j < sql.size(); ++j) {
        const char d = ascii_lower(sql[j]);
        if ((d >= 'a' && d <= 'z') || (d >= '0' && d <= '9') || d == '_' || d == '$') w += d;
        else break;
      }
      if (query_word(w)) return true;
      if (w == "insert" || w == "update" || w == "delete" || w == "merge") return false;
      i = j - 1;
    }
  }
  return false;
}

/// What a statement may leave on its connection beyond its own end.
struct SessionEffect {
  bool dirty = false;             ///< a transaction, setting, lock, listener or temporary object: reset on return
  bool drops_prepared = false;    ///< DISCARD or DEALLOCATE: prepared statements may be gone
  /// Outlives the transaction on the server connection (what a pooler in
  /// transaction mode would hand to another client): a session SET or RESET,
  /// LISTEN, PREPARE, LOAD, a temporary object, a WITH HOLD cursor, set_config() or
  /// a session advisory lock. Not a BEGIN, DISCARD or DEALLOCATE.
  bool session_state = false;
};

/// Reads `sql` for what it may leave on the connection. Every ';'-separated piece
/// counts (a ';' inside a literal only adds pieces: a false "dirty" costs one reset
/// on return, a missed one would leak state to the next borrower). Dirty: BEGIN or
/// START (a transaction left open), SET and RESET but SET LOCAL and SET TRANSACTION
/// (which end with the transaction), LISTEN, DECLARE, PREPARE, LOAD, CREATE TEMP
/// objects, and set_config() or session advisory locks anywhere in the text. Not
/// seen: what a server-side function does inside.
inline SessionEffect session_effect(std::string_view sql) {
  SessionEffect e;
  for (std::size_t start = 0; start <= sql.size();) {
    const std::size_t end = std::min(sql.find(';', start), sql.size());
    const std::string_view piece = sql.substr(start, end - start);
    std::size_t i = keyword_start(piece);
    const std::string w = word_at(piece, i);
    if (w == "set") {
      skip_space(piece, i);
      const std::string next = word_at(piece, i);
      if (next != "local" && next != "transaction") e.dirty = e.session_state = true;
    } else if (w == "begin" || w == "start") {
      e.dirty = true;
    } else if (w == "declare") {  // a cursor ends with its transaction, unless WITH HOLD
      e.dirty = true;
      e.session_state = e.session_state || with_hold(piece);
    } else if (w == "reset" || w == "listen" || w == "prepare" || w == "load") {
      e.dirty = e.session_state = true;
    } else if (w == "create") {  // CREATE TEMP, CREATE LOCAL TEMPORARY, CREATE OR REPLACE TEMP VIEW
      bool temp = false;
      for (int k = 0; k < 3 && !temp; ++k) {
        skip_space(piece, i);
        const std::string next = word_at(piece, i);
        temp = next == "temp" || next == "temporary";
      }
      if (temp) e.dirty = e.session_state = true;
    } else if (w == "discard" || w == "deallocate") {
      e.dirty = true;
      e.drops_prepared = true;
    }
    start = end + 1;
  }
  // Shorter than "set_config": most short statements skip the call.
  if (!e.session_state && sql.size() >= 10 && mentions_session_function(sql)) {
    e.dirty = true;  // a local set_config() too: reset on return costs one round trip, a leak more
    e.session_state = !session_functions_are_local(sql);
  }
  return e;
}

}  // namespace appinfra::pg::detail
