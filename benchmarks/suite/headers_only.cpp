// The quickstart's includes and nothing else: scripts/bench.sh compiles it beside the
// quickstart and the libpqxx hello world, to show what the headers alone cost.

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>
#include <appinfra/sqlite.hpp>

#include <fmt/core.h>

int main() { return 0; }
