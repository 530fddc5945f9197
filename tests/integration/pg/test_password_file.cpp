// password_file against a PostgreSQL cluster of its own that checks passwords
// (scram-sha-256 over TCP; pg_virtualenv's may trust loopback): the password is
// read for each new connection, so a rotated secret takes effect without a restart
// while existing connections keep working; a wrong, missing or rotated-away password
// is an error that names the file, never a password; the passwords read are removed
// from errors, the query log, the health check and the metrics.
//
// Ports come from APPINFRA_TEST_PG_PORTS like the fault suite's (pg_cluster.hpp).

#include "../../support/capture_logger.hpp"
#include "../../support/pg_cluster.hpp"

#include <appinfra/db.hpp>
#include <appinfra/db/metrics.hpp>
#include <appinfra/pg.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace appinfra;
using Manager = db::Manager<pg::PG<>>;

namespace {

constexpr const char* first_pw = "first-Secret-7f3a";
constexpr const char* second_pw = "second-Secret-91bc";
constexpr const char* wrong_pw = "wrong-Secret-c0de";

void write_file(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::trunc);
  f << content;
  if (!f) throw std::runtime_error("cannot write " + path);
}

// The error a callable throws; empty when none.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

bool holds_a_password(const std::string& text) {
  for (const char* pw : {first_pw, second_pw, wrong_pw})
    if (text.find(pw) != std::string::npos) return true;
  return false;
}

struct Cluster {
  test::PgCluster pg;
  std::string secrets;  // the directory of the password files
  Cluster() {
    pg.start();
    pg.sql(std::string("CREATE ROLE rot LOGIN CREATEDB PASSWORD '") + first_pw + "'");
    secrets = pg.dir() + "/secrets";
    std::filesystem::create_directory(secrets);
  }
  [[nodiscard]] std::string url(const std::string& dbname = "postgres") const {
    return "postgresql://rot@" + pg.host_port() + "/" + dbname;
  }
};

Cluster& cluster() {
  static Cluster c;
  return c;
}

}  // namespace

TEST_CASE("a rotated password_file takes effect at the next connection; existing connections keep working") {
  Cluster& c = cluster();
  const std::string file = c.secrets + "/rotating";
  write_file(file, std::string(first_pw) + "\n");
  auto [lg, cap] = test::capture_logger(log::Level::trace);
  Manager m(lg, {{"app",
                  {{"url", c.url()}, {"password_file", file}, {"pool_size", 1}, {"max_overflow", 0},
                   {"pool_timeout", 1.0}, {"max_retries", 0}, {"setup_retry", false}, {"echo", true}}}});
  m.setup();
  REQUIRE(m.get_setup_errors().empty());
  auto& d = m.db("app").get<pg::PG<>>();
  std::vector<std::string> outputs;  // every text the library gave, checked for passwords at the end

  auto held = d.connect();
  CHECK(held.execute("SELECT current_user").scalar<std::string>() == "rot");

  // The secret rotates: the server first, the file later (as an operator would).
  c.pg.sql(std::string("ALTER ROLE rot PASSWORD '") + second_pw + "'");
  CHECK(held.execute("SELECT 1").scalar<int>() == 1);  // an open connection is not affected
  held.invalidate();                                    // the next checkout must open a new one
  held.close();

  // The file still holds the old password: the server refuses it (it checks passwords).
  const std::string refused = error_of([&] { d.connect().execute("SELECT 1"); });
  outputs.push_back(refused);
  CHECK(refused.find("password authentication failed") != std::string::npos);

  const auto errors = [&](db::Failure f) { return d.get_pool_status().errors_total[static_cast<std::size_t>(f)]; };
  std::uint64_t refused_connects = 0;  // counted by kind: 28P01 (invalid_password) is a query failure, 08xxx lost
  for (auto n : d.get_pool_status().errors_total) refused_connects += n;
  CHECK(refused_connects >= 1);
  const std::uint64_t queries_before = errors(db::Failure::query);
  write_file(file, std::string(second_pw) + "\r\n");
  {
    auto conn = d.connect();  // a new connection: the file is read again
    CHECK(conn.execute("SELECT current_user").scalar<std::string>() == "rot");
    // A statement holding the password: its error and its query log line hide it.
    const std::string e = error_of([&] { conn.execute(std::string("SELECT '") + second_pw + "'::int"); });
    outputs.push_back(e);
    CHECK(e.find("22P02") != std::string::npos);
    CHECK(e.find("'***'") != std::string::npos);
  }
  {
    std::string all;
    for (std::size_t k = 0; k < db::failure_kinds; ++k)
      all += std::string(db::to_string(static_cast<db::Failure>(k))) + "=" +
             std::to_string(d.get_pool_status().errors_total[k]) + " ";
    INFO("errors_total: " << all << "; before: " << queries_before);
    CHECK(errors(db::Failure::query) == queries_before + 1);  // the 22P02
  }
  for (const auto& [name, h] : m.health_check()) {
    CHECK(h.status == db::HealthStatus::healthy);
    outputs.push_back(h.error);
  }
  outputs.push_back(db::prometheus_text(m));
  outputs.push_back(db::metrics_json(m));
  m.close_all();
  outputs.push_back(cap->all());
  for (const auto& text : outputs) {
    INFO(text);
    CHECK_FALSE(holds_a_password(text));
  }
  c.pg.sql(std::string("ALTER ROLE rot PASSWORD '") + first_pw + "'");
}

TEST_CASE("a wrong password in password_file is an error that shows neither it nor the file's content") {
  Cluster& c = cluster();
  const std::string file = c.secrets + "/wrong";
  write_file(file, std::string(wrong_pw) + "\n");
  auto [lg, cap] = test::capture_logger(log::Level::trace);
  Manager m(lg, {{"app", {{"url", c.url()}, {"password_file", file}, {"max_retries", 0}, {"setup_retry", false}}}});
  CHECK_THROWS(m.setup());
  const auto errors = m.get_setup_errors();
  REQUIRE(errors.size() == 1);
  for (const auto& [name, e] : errors) {
    INFO(e);
    CHECK(e.find("database 'app'") != std::string::npos);
    CHECK(e.find("password authentication failed") != std::string::npos);
    CHECK_FALSE(holds_a_password(e));
  }
  for (const auto& [name, h] : m.health_check()) CHECK_FALSE(holds_a_password(h.error));
  CHECK_FALSE(holds_a_password(cap->all()));
  CHECK_FALSE(holds_a_password(db::prometheus_text(m)));
}

TEST_CASE("a password_file missing at setup is a ConfigError naming the database, the key and the path") {
  Cluster& c = cluster();
  const std::string file = c.secrets + "/never-written";
  auto [lg, cap] = test::capture_logger(log::Level::trace);
  Manager m(lg, {{"app", {{"url", c.url()}, {"password_file", file}, {"setup_retry", true}}}});
  CHECK_THROWS(m.setup());
  const auto errors = m.get_setup_errors();
  REQUIRE(errors.size() == 1);
  for (const auto& [name, e] : errors) {
    INFO(e);
    CHECK(e.find("database 'app'") != std::string::npos);
    CHECK(e.find("'password_file'") != std::string::npos);
    CHECK(e.find(file) != std::string::npos);
    CHECK(e.find("No such file or directory") != std::string::npos);
  }
  // Not a passing failure: not retried in the background.
  const auto states = m.get_database_states();
  REQUIRE(states.size() == 1);
  CHECK(states[0].state == db::SetupState::failed);
}

TEST_CASE("a password_file removed after setup fails the next connection, naming the path") {
  Cluster& c = cluster();
  const std::string file = c.secrets + "/removed";
  write_file(file, first_pw);
  auto [lg, cap] = test::capture_logger(log::Level::trace);
  Manager m(lg, {{"app",
                  {{"url", c.url()}, {"password_file", file}, {"pool_size", 1}, {"max_overflow", 0},
                   {"pool_timeout", 0.5}, {"max_retries", 0}, {"setup_retry", false}}}});
  m.setup();
  auto& d = m.db("app").get<pg::PG<>>();
  {
    auto conn = d.connect();
    CHECK(conn.execute("SELECT 1").scalar<int>() == 1);
    conn.invalidate();
  }
  std::filesystem::remove(file);
  const std::string e = error_of([&] { d.connect().execute("SELECT 1"); });
  INFO(e);
  CHECK(e.find("'password_file'") != std::string::npos);
  CHECK(e.find(file) != std::string::npos);
  CHECK_FALSE(holds_a_password(e + cap->all()));
}

TEST_CASE("create_db connects with the password from password_file") {
  Cluster& c = cluster();
  const std::string file = c.secrets + "/create";
  write_file(file, std::string(first_pw) + "\n");
  auto [lg, cap] = test::capture_logger(log::Level::trace);
  Manager m(lg, {{"app", {{"url", c.url("made_by_pwfile")}, {"password_file", file}, {"create_db", true},
                          {"max_retries", 0}, {"setup_retry", false}}}});
  m.setup();
  CHECK(m.db("app").connect().execute("SELECT current_database()").scalar<std::string>() == "made_by_pwfile");
  CHECK_FALSE(holds_a_password(cap->all()));
}
