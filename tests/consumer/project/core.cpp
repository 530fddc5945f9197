// appinfra-core alone: no backend, no database library on the command line.
#include <appinfra/db.hpp>

#include <fmt/format.h>

int main() {
  using namespace appinfra;
  const auto url = db::Url::parse("postgresql://app@db.example/orders");
  return fmt::format("{}/{}", url.host(), url.path()) == "db.example/orders" ? 0 : 1;
}
