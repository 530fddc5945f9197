// The README's option table is the one the key declarations render.
#include <appinfra/db/config/options_table.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#ifndef APPINFRA_README
#error "APPINFRA_README: the path of README.md (tests/meson.build defines it)"
#endif

namespace {
// The text between the option markers, without the blank lines around it.
std::string readme_table() {
  std::ifstream in(APPINFRA_README);
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  const auto begin = text.find("<!-- options:begin");
  const auto end = text.find("<!-- options:end -->");
  if (begin == std::string::npos || end == std::string::npos || end < begin) return "(no option markers)";
  std::string table = text.substr(text.find('\n', begin) + 1, end - text.find('\n', begin) - 1);
  while (!table.empty() && table.front() == '\n') table.erase(0, 1);
  while (table.size() > 1 && table[table.size() - 2] == '\n') table.pop_back();
  return table;
}
}  // namespace

TEST_CASE("the README's option table is the one rendered from the key declarations") {
  const std::string expected = appinfra::db::detail::options_table_markdown();
  INFO("README.md, between <!-- options:begin ... --> and <!-- options:end -->, should read:\n" << expected);
  CHECK(readme_table() == expected);
}
