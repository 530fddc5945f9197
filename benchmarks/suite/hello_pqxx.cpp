// A plain libpqxx hello world: the baseline for the quickstart's compile time and
// binary size (scripts/bench.sh compiles both with g++ -std=c++20 -O2).

#include <pqxx/pqxx>

#include <cstdio>
#include <cstdlib>

int main() {
  const char* url = std::getenv("DATABASE_URL");
  pqxx::connection c(url != nullptr ? url : "");
  pqxx::nontransaction t(c);
  auto r = t.exec("SELECT 'hello' || ', ' || 'libpqxx' AS greeting");
  std::printf("%s\n", r[0]["greeting"].c_str());
  return 0;
}
