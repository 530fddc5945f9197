// The YAML loader (db/config/yaml.hpp): what a file becomes, and what its errors
// say: file:line:column, the database and the key, never a password.

#include <appinfra/db/config.hpp>
#include <appinfra/db/config/yaml.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <string>

using namespace appinfra;
using Catch::Matchers::Contains;

namespace {
// The message of the ConfigError that f throws.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const db::ConfigError& e) {
    return e.what();
  }
  FAIL("no ConfigError");
  return {};
}
std::string load_error(const std::string& yaml) {
  return error_of([&] { (void)db::config_from_yaml(yaml, "etc/infra.yaml"); });
}
// The error DatabaseConfig::from() (the Manager's setup) gives for database `name`.
std::string validation_error(const std::string& yaml, const std::string& name) {
  const db::Config c = db::config_from_yaml(yaml, "etc/infra.yaml");
  return error_of([&] { (void)db::DatabaseConfig::from(name, *c.find(name)); });
}
struct Env {
  std::string name;
  Env(std::string n, const char* value) : name(std::move(n)) {
    if (value) ::setenv(name.c_str(), value, 1);
    else ::unsetenv(name.c_str());
  }
  ~Env() { ::unsetenv(name.c_str()); }
};
}  // namespace

TEST_CASE("the example infra.yaml loads the databases of its dbs section in order, typed") {
  Env pw("APPINFRA_YAML_TEST_PASSWORD", "s3cr3t");
  Env reports("APPINFRA_YAML_TEST_REPORTS_URL", nullptr);
  const db::Config c = db::config_from_yaml_file(APPINFRA_EXAMPLE_YAML);
  REQUIRE(c.size() == 3);
  std::vector<std::string> names;
  for (const auto& [name, options] : c) names.push_back(name);
  CHECK(names == std::vector<std::string>{"primary", "reports", "cache"});

  const db::Options& p = *c.find("primary");
  CHECK(std::get<std::string>(p.find("url")->storage()) == "postgresql://app:s3cr3t@db.internal:5432/app");
  CHECK(std::get<std::int64_t>(p.find("pool_size")->storage()) == 10);
  CHECK(std::get<bool>(p.find("pool_pre_ping")->storage()) == true);
  CHECK(std::get<double>(p.find("retry_delay")->storage()) == 0.5);
  CHECK(std::get<db::Value::List>(p.find("extensions")->storage()) == db::Value::List{"pg_trgm", "uuid-ossp"});
  CHECK(std::get<std::string>(c.find("reports")->find("url")->storage()) == "postgresql://reports@replica.internal/app");

  const db::DatabaseConfig primary = db::DatabaseConfig::from("primary", p);
  CHECK(primary.pool.pool_size == 10);
  CHECK(primary.pg.extensions == std::vector<std::string>{"pg_trgm", "uuid-ossp"});
  CHECK(db::DatabaseConfig::from("reports", *c.find("reports")).readonly);
  CHECK(db::DatabaseConfig::from("cache", *c.find("cache")).create_db);
}

TEST_CASE("every value knows its file, line and column (1-based)") {
  const db::Config c = db::config_from_yaml("dbs:\n  main:\n    url: 'sqlite:///:memory:'\n    pool_size: 3\n", "x.yaml");
  const auto& origin = c.find("main")->find("pool_size")->origin();
  REQUIRE(origin);
  CHECK(origin->display() == "x.yaml:4:16");
}

TEST_CASE("a bad value is reported at its position with the database and the key") {
  const std::string e = validation_error("dbs:\n  primary:\n    url: 'sqlite:///:memory:'\n    pool_size: 0\n", "primary");
  CHECK_THAT(e, Contains("etc/infra.yaml:4:16: database 'primary': key 'pool_size'") && Contains("0"));
}

TEST_CASE("quoted scalars stay texts; plain ones are typed as YAML 1.2 does") {
  const db::Config c = db::config_from_yaml(
      "dbs:\n  m:\n    a: '10'\n    b: 10\n    c: \"true\"\n    d: yes\n    h: -inf\n    e: 1.5e3\n    f: -7\n    g: 99999999999999999999\n");
  const db::Options& o = *c.find("m");
  CHECK(std::get<std::string>(o.find("a")->storage()) == "10");
  CHECK(std::get<std::int64_t>(o.find("b")->storage()) == 10);
  CHECK(std::get<std::string>(o.find("c")->storage()) == "true");
  CHECK(std::get<std::string>(o.find("d")->storage()) == "yes");  // YAML 1.1's boolean, a text in 1.2
  CHECK(std::get<double>(o.find("e")->storage()) == 1500.0);
  CHECK(std::get<std::int64_t>(o.find("f")->storage()) == -7);
  CHECK(std::get<std::string>(o.find("g")->storage()) == "99999999999999999999");
  CHECK(std::get<std::string>(o.find("h")->storage()) == "-inf");
}

TEST_CASE("a key given twice in a database is an error naming both positions, never a value") {
  const std::string e = load_error("dbs:\n  primary:\n    url: postgresql://u:hunter2@h/db\n    password: pw1\n"
                                   "    password: pw2\n");
  CHECK_THAT(e, Contains("etc/infra.yaml:5:5: database 'primary': key 'password': given twice (first at "
                         "etc/infra.yaml:4:5)"));
  CHECK_THAT(e, !Contains("pw1") && !Contains("pw2") && !Contains("hunter2"));
}

TEST_CASE("a database given twice is an error naming both positions") {
  const std::string e = load_error("dbs:\n  primary:\n    url: 'sqlite:///:memory:'\n  primary:\n    url: sqlite:///b\n");
  CHECK_THAT(e, Contains("etc/infra.yaml:4:3: database 'primary': given twice (first at etc/infra.yaml:2:3)"));
}

TEST_CASE("a dbs section given twice is an error") {
  CHECK_THAT(load_error("dbs:\n  a:\n    url: x\ndbs:\n  b:\n    url: y\n"),
             Contains("etc/infra.yaml:4:1: key 'dbs': given twice (first at etc/infra.yaml:1:1)"));
}

TEST_CASE("a YAML syntax error names the file, line and column") {
  const std::string e = load_error("dbs:\n  primary:\n    url: [sqlite:///x\n    pool_size: 3\n");
  CHECK_THAT(e, Contains("etc/infra.yaml:") && Contains("YAML syntax error"));
  CHECK_THAT(load_error("dbs:\n  a: b\n c: d\n"), Contains("etc/infra.yaml:3:"));
}

TEST_CASE("a file without dbs, a database that is no mapping and an empty value are errors") {
  CHECK_THAT(load_error("logging:\n  level: info\n"), Contains("etc/infra.yaml:1:1: no 'dbs' section"));
  CHECK_THAT(load_error("dbs:\n  primary: sqlite:///x\n"), Contains("etc/infra.yaml:2:12: database 'primary': expected a mapping"));
  CHECK_THAT(load_error("dbs:\n  primary:\n    url:\n"), Contains("etc/infra.yaml:3:5: database 'primary': key 'url': has no value"));
  CHECK_THAT(load_error("dbs:\n  primary:\n    url: {a: b}\n"), Contains("key 'url': expected a value or a list"));
  CHECK(db::config_from_yaml("dbs:\n").empty());
}

TEST_CASE("an unreadable file is an error naming it") {
  CHECK_THAT(error_of([] { (void)db::config_from_yaml_file("/nonexistent/infra.yaml"); }),
             Contains("'/nonexistent/infra.yaml': cannot read the configuration file"));
}

TEST_CASE("${VAR} and ${VAR:-default} are replaced from the environment; $$ is a literal $") {
  Env host("APPINFRA_YAML_TEST_HOST", "db.internal");
  Env empty("APPINFRA_YAML_TEST_EMPTY", "");
  Env unset("APPINFRA_YAML_TEST_UNSET", nullptr);
  const db::Config c = db::config_from_yaml(
      "dbs:\n  m:\n    url: postgresql://${APPINFRA_YAML_TEST_HOST}/app\n"
      "    schema: ${APPINFRA_YAML_TEST_UNSET:-fallback}\n"
      "    a: ${APPINFRA_YAML_TEST_EMPTY:-used when empty}\n"
      "    b: x${APPINFRA_YAML_TEST_EMPTY}y\n"
      "    c: pa$$word $x\n"
      "    pool_size: ${APPINFRA_YAML_TEST_UNSET:-4}\n"
      "    extensions: [\"${APPINFRA_YAML_TEST_UNSET:-pg_trgm}\", citext]\n");
  const db::Options& o = *c.find("m");
  CHECK(std::get<std::string>(o.find("url")->storage()) == "postgresql://db.internal/app");
  CHECK(std::get<std::string>(o.find("schema")->storage()) == "fallback");
  CHECK(std::get<std::string>(o.find("a")->storage()) == "used when empty");
  CHECK(std::get<std::string>(o.find("b")->storage()) == "xy");
  CHECK(std::get<std::string>(o.find("c")->storage()) == "pa$word $x");
  CHECK(std::get<std::string>(o.find("pool_size")->storage()) == "4");  // a text, which validation reads as 4
  CHECK(std::get<db::Value::List>(o.find("extensions")->storage()) == db::Value::List{"pg_trgm", "citext"});
}

TEST_CASE("an unset ${VAR} without a default names the variable, the position, the database and the key") {
  Env unset("APPINFRA_YAML_TEST_UNSET", nullptr);
  const std::string e = load_error("dbs:\n  primary:\n    url: postgresql://u:hunter2@${APPINFRA_YAML_TEST_UNSET}/db\n");
  CHECK_THAT(e, Contains("etc/infra.yaml:3:10: database 'primary': key 'url': environment variable "
                         "'APPINFRA_YAML_TEST_UNSET' is not set"));
  CHECK_THAT(e, !Contains("hunter2"));
  CHECK_THAT(load_error("dbs:\n  p:\n    password: hunter2${oops\n"), Contains("key 'password': a '${' has no closing '}'") && !Contains("hunter2"));
  CHECK_THAT(load_error("dbs:\n  p:\n    url: a${not a name}\n"), Contains("does not name an environment variable"));
}

TEST_CASE("a password from the environment is never shown in a validation error") {
  Env pw("APPINFRA_YAML_TEST_PASSWORD", "hunter2-from-env");
  // A URL whose scheme no backend takes: the error shows the URL, redacted.
  std::string e = validation_error("dbs:\n  primary:\n    url: mysql://app:${APPINFRA_YAML_TEST_PASSWORD}@h/db\n"
                                   "    pool_size: x\n", "primary");
  CHECK_THAT(e, Contains("etc/infra.yaml:") && !Contains("hunter2"));
  // A key that names a secret shows *** whatever its value.
  e = validation_error("dbs:\n  primary:\n    url: 'sqlite:///:memory:'\n    password: ${APPINFRA_YAML_TEST_PASSWORD}\n",
                       "primary");
  CHECK_THAT(e, Contains("etc/infra.yaml:4:") && !Contains("hunter2"));
  // The same key twice, in substituted values.
  e = load_error("dbs:\n  primary:\n    url: postgresql://u:${APPINFRA_YAML_TEST_PASSWORD}@h/db\n"
                 "    url: postgresql://u:${APPINFRA_YAML_TEST_PASSWORD}@h/db2\n");
  CHECK_THAT(e, Contains("given twice") && !Contains("hunter2"));
}

TEST_CASE("config_from_environment() configures one database named primary from DATABASE_URL") {
  const char* saved = std::getenv("DATABASE_URL");
  const std::string keep = saved ? saved : "";
  {
    Env url("DATABASE_URL", "sqlite:///:memory:");
    const db::Config c = db::config_from_environment();
    REQUIRE(c.size() == 1);
    CHECK(std::get<std::string>(c.find("primary")->find("url")->storage()) == "sqlite:///:memory:");
  }
  {
    Env url("DATABASE_URL", nullptr);
    CHECK_THAT(error_of([] { (void)db::config_from_environment(); }), Contains("DATABASE_URL is not set"));
  }
  if (saved) ::setenv("DATABASE_URL", keep.c_str(), 1);
}

TEST_CASE("password_file from YAML: read like any key, its path shown in errors with the file's position") {
  const db::Config c = db::config_from_yaml(
      "dbs:\n  primary:\n    url: postgresql://app@db.internal/app\n    password_file: /run/secrets/db-password\n",
      "etc/infra.yaml");
  CHECK(db::DatabaseConfig::from("primary", *c.find("primary")).pg.password_file == "/run/secrets/db-password");
  const db::Config both = db::config_from_yaml(
      "dbs:\n  primary:\n    url: postgresql://app:hunter2hunter2@db.internal/app\n"
      "    password_file: /run/secrets/db-password\n",
      "etc/infra.yaml");
  const std::string e = error_of([&] { (void)db::DatabaseConfig::from("primary", *both.find("primary")); });
  CHECK_THAT(e, Contains("etc/infra.yaml:4:20: database 'primary': key 'password_file' ('/run/secrets/db-password')"));
  CHECK_THAT(e, Contains("key 'url'"));
  CHECK_THAT(e, !Contains("hunter2"));
}
