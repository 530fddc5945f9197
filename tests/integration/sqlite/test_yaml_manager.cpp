// A Manager built from a YAML file, end to end on SQLite: the file is read,
// validated by the Manager's setup and used; a bad value in it fails that
// database's setup with the file's position.

#include <appinfra/db.hpp>
#include <appinfra/db/config/yaml.hpp>
#include <appinfra/sqlite.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace appinfra;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

TEST_CASE("a SQLite Manager built from a YAML file sets up, connects and reports bad values at their position") {
  const fs::path dir = fs::temp_directory_path() / ("appinfra-yaml-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ::setenv("APPINFRA_YAML_TEST_DIR", dir.c_str(), 1);
  const fs::path file = dir / "infra.yaml";
  std::ofstream(file) << "dbs:\n"
                         "  main:\n"
                         "    url: sqlite:///${APPINFRA_YAML_TEST_DIR}/app.db\n"
                         "    create_db: true\n"
                         "    pool_size: 2\n"
                         "  broken:\n"
                         "    url: 'sqlite:///:memory:'\n"
                         "    pool_timeout: -1\n";
  db::Manager<sqlite::SQLite<>> m(log::Logger(log::Level::off), db::config_from_yaml_file(file));
  m.setup();
  auto c = m.db("main").connect();
  c.execute("CREATE TABLE t(x INTEGER)");
  CHECK(c.execute("INSERT INTO t VALUES ($1)", 7).affected_rows() == 1);
  CHECK(c.execute("SELECT x FROM t").scalar<int>() == 7);
  CHECK(fs::exists(dir / "app.db"));
  CHECK_THAT(m.get_setup_errors().at("broken"),
             Contains(file.string() + ":8:19: database 'broken': key 'pool_timeout'"));
  m.close_all();
  ::unsetenv("APPINFRA_YAML_TEST_DIR");
  fs::remove_all(dir);
}
