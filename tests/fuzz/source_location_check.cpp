// Built only in the fuzz build (clang 14): the library's headers that use
// std::source_location compile with the shim, and current() reports the caller.

#include <source_location>

#if __has_include(<pqxx/pqxx>)
#include <appinfra/pg.hpp>
#endif
#if __has_include(<sqlite3.h>)
#include <appinfra/sqlite.hpp>
#endif

namespace {

constexpr std::source_location where(std::source_location w = std::source_location::current()) { return w; }

static_assert(__cpp_lib_source_location >= 201907L);
static_assert(where().line() == __LINE__, "current() in a default argument gives the caller's line");

}  // namespace

int appinfra_fuzz_source_location_check() { return static_cast<int>(where().line()); }
