// Fuzz target: the SQL text helpers (pg/detail/sql_text.hpp) and, where SQLite's
// header is there, the authorizer classification (sqlite/detail/tracking.hpp).
//
// They run on every statement, so beyond not crashing or hanging, only invariants
// that hold for every text are checked:
// - first_keyword is at most 12 lower-case ASCII letters, and does not change when
//   white space, '(' or a comment is put in front;
// - session_effect ignores a trailing ';', and on "a;b" is that of a or'ed with that of b
//   (every ';' splits, and the words it looks for hold no ';');
// - is_query holds only for a text whose first keyword is a query's or WITH;
// - contains_ci(text, word) is "the lower-cased text contains word";
// - mentions_session_function(text) is contains_ci for "set_config" or "advisory_lock".

#include <appinfra/pg/detail/sql_text.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

#if __has_include(<sqlite3.h>)
#include <appinfra/sqlite/detail/tracking.hpp>
#define APPINFRA_FUZZ_SQLITE 1
#endif

namespace pgd = appinfra::pg::detail;
using appinfra_fuzz::printable;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = pgd::ascii_lower(c);
  return out;
}

std::string show(pgd::SessionEffect e) {
  return std::string("dirty=") + (e.dirty ? "1" : "0") + " drops_prepared=" + (e.drops_prepared ? "1" : "0");
}

bool same(pgd::SessionEffect a, pgd::SessionEffect b) {
  return a.dirty == b.dirty && a.drops_prepared == b.drops_prepared;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view sql(reinterpret_cast<const char*>(data), size);
  const auto in = [&] { return "sql: " + printable(sql); };

  FUZZ_CHECK(pgd::keyword_start(sql) <= sql.size(), in());

  const std::string first = pgd::first_keyword(sql);
  FUZZ_CHECK(first.size() <= 12, in() + "\nfirst_keyword: " + printable(first));
  for (char c : first) FUZZ_CHECK(c >= 'a' && c <= 'z', in() + "\nfirst_keyword: " + printable(first));
  for (std::string_view prefix : {" \t\r\n(", "/* comment */", "-- comment\n", "( /**/ --\n"}) {
    const std::string prefixed = std::string(prefix) + std::string(sql);
    FUZZ_CHECK(pgd::first_keyword(prefixed) == first, in() + "\nprefix: " + printable(prefix));
  }

  const pgd::SessionEffect effect = pgd::session_effect(sql);
  const std::string with_semicolon = std::string(sql) + ";";
  FUZZ_CHECK(same(pgd::session_effect(with_semicolon), effect), in() + "\nwithout ';': " + show(effect));

  // Split where the first byte says: session_effect("a;b") is the union of a's and b's.
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  const std::string_view a = sql.substr(0, cut), b = sql.substr(cut);
  const pgd::SessionEffect ea = pgd::session_effect(a), eb = pgd::session_effect(b);
  const pgd::SessionEffect joined = pgd::session_effect(std::string(a) + ";" + std::string(b));
  FUZZ_CHECK(joined.dirty == (ea.dirty || eb.dirty) && joined.drops_prepared == (ea.drops_prepared || eb.drops_prepared),
             "a: " + printable(a) + "\nb: " + printable(b) + "\na: " + show(ea) + ", b: " + show(eb) +
                 ", a;b: " + show(joined));

  if (pgd::is_query(sql))
    FUZZ_CHECK(first == "select" || first == "values" || first == "show" || first == "table" || first == "explain" ||
                   first == "with",
               in() + "\nfirst_keyword: " + first);

  // A word from the text itself (so that it is often found), as written and lower-cased.
  const std::string_view word = b.substr(0, size == 0 ? 0 : data[size - 1] % 9);
  const std::string text = lower(sql);
  for (const std::string& w : {std::string(word), lower(word)})
    FUZZ_CHECK(pgd::contains_ci(sql, w) == (text.find(w) != std::string::npos), in() + "\nword: " + printable(w));
  FUZZ_CHECK(pgd::mentions_session_function(sql) ==
                 (pgd::contains_ci(sql, "set_config") || pgd::contains_ci(sql, "advisory_lock")),
             in());

#ifdef APPINFRA_FUZZ_SQLITE
  // The authorizer's arguments are C strings: the text up to its first NUL, twice.
  namespace sd = appinfra::sqlite::detail;
  const std::string arg1(a.substr(0, a.find('\0'))), arg2(b.substr(0, b.find('\0')));
  const int action = size == 0 ? 0 : data[0] % 40;
  const bool changes = sd::changes_connection(action, arg1.c_str(), arg2.c_str(), arg2.c_str());
  (void)changes;
  FUZZ_CHECK(!sd::changes_connection(SQLITE_PRAGMA, arg1.c_str(), nullptr, "main"), in());  // a pragma that only reads
  FUZZ_CHECK(sd::changes_connection(SQLITE_CREATE_TABLE, arg1.c_str(), nullptr, "temp"), in());
  FUZZ_CHECK(!sd::changes_connection(SQLITE_CREATE_TABLE, arg1.c_str(), nullptr, "main"), in());
  FUZZ_CHECK(sd::changes_connection(SQLITE_ATTACH, arg1.c_str(), nullptr, nullptr), in());
#endif
  return 0;
}
