// The password corpus: random passwords of every printable ASCII class, and a few
// hand-picked nasty ones, in every spelling libpq knows (a percent-encoded URL, the
// same unencoded, a ?password= parameter, key/value strings quoted and unquoted),
// through every failure path a test can drive against a PostgreSQL cluster it
// controls (scram-sha-256 over TCP): a wrong password, an unreachable port, a
// missing database, create_db failing, setup errors, health results, db(), the
// pool's "unreachable" timeout, the debug log, the query log of a statement that
// holds the password. No output may contain the password or any 6-character
// substring of it; with the right password every spelling libpq accepts connects.
//
// Ports come from APPINFRA_TEST_PG_PORTS like the fault suite's (pg_cluster.hpp).
// A `password-leaks:` line gives the number of leak sites found.

#include "../../support/capture_logger.hpp"
#include "../../support/pg_cluster.hpp"

#include <appinfra/db.hpp>
#include <appinfra/pg.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace appinfra;
using Manager = db::Manager<pg::PG<>>;

namespace {

constexpr const char* punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ";
constexpr const char* dollar_tag = "$pwtag$";

// 20 characters: at least one lower-case letter, upper-case letter, digit, and
// eight of the punctuation characters and space; the rest from all printable ASCII.
std::string random_password(std::mt19937& rng) {
  const auto pick = [&](std::string_view from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
  };
  std::string all;
  for (char c = ' '; c <= '~'; ++c) all += c;
  std::string pw;
  pw += pick("abcdefghijklmnopqrstuvwxyz");
  pw += pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ");
  pw += pick("0123456789");
  for (int i = 0; i < 8; ++i) pw += pick(punctuation);
  while (pw.size() < 20) pw += pick(all);
  std::shuffle(pw.begin(), pw.end(), rng);
  return pw;
}

std::vector<std::string> corpus() {
  std::vector<std::string> out = {
      // every punctuation character and the space, between letters
      "Ab1!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ z9Y",
      // what the issue found leaking: '/', '?', '#', '@', ':', '%' and a space
      "my s3cr/t?p#ss@w:rd%zz",
      "pA5s@db.zq:6543/x?y#",      // looks like an authority of its own
      "%41%42%43 plain%2Fslash",   // valid escapes, unencoded: libpq would decode them
      "ends with a backslash \\",
      "' OR '1'='1 -- quote'",
  };
  std::mt19937 rng(20261201);
  for (int i = 0; i < 3; ++i) out.push_back(random_password(rng));
  for (auto& pw : out)
    while (pw.find(dollar_tag) != std::string::npos) pw += "x";
  return out;
}

std::string percent_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

// libpq's key/value quoting: inside '...', a backslash escapes the next character.
std::string kv_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}
// Unquoted: a backslash escapes white space, quotes and backslashes.
std::string kv_unquoted(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// Whether `text` holds `pw` or any 6-character substring of it.
bool leaks(const std::string& text, const std::string& pw) {
  if (text.find(pw) != std::string::npos) return true;
  for (std::size_t i = 0; i + 6 <= pw.size(); ++i)
    if (text.find(pw.substr(i, 6)) != std::string::npos) return true;
  return false;
}

struct Spelling {
  std::string name;
  bool uri;           // a URL (through the Manager) or a key/value string (through the connector)
  bool libpq_takes;   // libpq reads the password as written (connecting works)
};

struct Target {
  std::string role, password, host;
  int port;
  std::string dbname;
};

std::string spell(const Spelling& s, const Target& t) {
  const std::string hp = t.host + ":" + std::to_string(t.port);
  if (s.name == "url-encoded") return "postgresql://" + t.role + ":" + percent_encode(t.password) + "@" + hp + "/" + t.dbname;
  if (s.name == "url-raw") return "postgresql://" + t.role + ":" + t.password + "@" + hp + "/" + t.dbname;
  if (s.name == "url-upper-scheme")
    return "POSTGRESQL://" + t.role + ":" + percent_encode(t.password) + "@" + hp + "/" + t.dbname;
  if (s.name == "query-encoded")
    return "postgres://" + t.role + "@" + hp + "/" + t.dbname + "?application_name=x&password=" + percent_encode(t.password);
  if (s.name == "query-raw") return "postgresql://" + t.role + "@" + hp + "/" + t.dbname + "?password=" + t.password;
  const std::string head = "host=" + t.host + " port=" + std::to_string(t.port) + " dbname=" + t.dbname + " user=" + t.role;
  if (s.name == "kv-quoted") return head + " password=" + kv_quoted(t.password);
  if (s.name == "kv-unquoted") return head + " password = " + kv_unquoted(t.password) + " application_name=x";
  throw std::logic_error("unknown spelling " + s.name);
}

std::vector<Spelling> spellings(const std::string& pw) {
  const bool no = pw.find_first_of("@/%") == std::string::npos;
  const bool query_ok = pw.find_first_of("&=%") == std::string::npos;
  return {{"url-encoded", true, true},      {"url-raw", true, no},         {"url-upper-scheme", true, true},
          {"query-encoded", true, true},    {"query-raw", true, query_ok}, {"kv-quoted", false, true},
          {"kv-unquoted", false, true}};
}

// Every text a path produced, by where it came from.
struct Outputs {
  std::vector<std::pair<std::string, std::string>> items;  // (source, text)
  bool connected = false;                                  // with the right password
  void add(std::string source, std::string text) { items.emplace_back(std::move(source), std::move(text)); }
};

template <class F>
void catch_what(Outputs& out, const std::string& source, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    out.add(source, e.what());
    if (const auto* c = dynamic_cast<const db::ConfigError*>(&e)) out.add(source + ".value", c->value());
  }
}

void manager_outputs(Outputs& out, const std::string& scenario, const db::Options& options,
                     const std::function<void(Manager&)>& more = {}) {
  auto [lg, cap] = test::capture_logger(log::Level::trace);
  {
    Manager m(lg, {{"app", options}});
    catch_what(out, scenario + "/setup", [&] { m.setup(); });
    for (const auto& [name, error] : m.get_setup_errors()) out.add(scenario + "/get_setup_errors", error);
    for (const auto& [name, h] : m.health_check()) out.add(scenario + "/health_check", h.error);
    catch_what(out, scenario + "/db", [&] { (void)m.db("app"); });
    if (more) more(m);
    m.close_all();
  }
  for (const auto& line : cap->lines) out.add(scenario + "/log", line);
}

struct Fixture {
  test::PgCluster cluster;
  std::vector<std::string> passwords = corpus();
  int closed_port = 0;
  std::unique_ptr<PGconn, void (*)(PGconn*)> admin{nullptr, PQfinish};
  std::mutex admin_mutex;

  Fixture() {
    cluster.start();
    // psql costs a process per statement; the superuser over the socket does not.
    const std::string ci = "host=" + cluster.dir() + " port=" + std::to_string(cluster.port()) + " user=postgres dbname=postgres";
    admin.reset(PQconnectdb(ci.c_str()));
    if (PQstatus(admin.get()) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(admin.get()));
    cluster.sql("CREATE ROLE wrong LOGIN PASSWORD 'not-the-one-we-send'");
    for (std::size_t i = 0; i < passwords.size(); ++i)
      cluster.sql("CREATE ROLE pw" + std::to_string(i) + " LOGIN PASSWORD " + dollar_tag + passwords[i] + dollar_tag);
    closed_port = test::pg_cluster_detail::free_port();
  }

  void sql(const std::string& text) {
    std::lock_guard lock(admin_mutex);
    std::unique_ptr<PGresult, void (*)(PGresult*)> r(PQexec(admin.get(), text.c_str()), PQclear);
    const auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw std::runtime_error(PQerrorMessage(admin.get()));
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// All outputs of every failure path for password `i` spelled `s`.
Outputs run_paths(std::size_t i, const Spelling& s) {
  Fixture& f = fixture();
  const std::string& pw = f.passwords[i];
  const std::string role = "pw" + std::to_string(i);
  Outputs out;
  const Target right{role, pw, "127.0.0.1", f.cluster.port(), "postgres"};
  const Target wrong_password{"wrong", pw, "127.0.0.1", f.cluster.port(), "postgres"};
  const Target unreachable{role, pw, "127.0.0.1", f.closed_port, "postgres"};
  const Target missing_db{role, pw, "127.0.0.1", f.cluster.port(), "no_such_db"};

  // What formats the url for messages.
  const std::string text = spell(s, right);
  out.add("Url::redacted", db::Url::parse(text).redacted());
  out.add("Url::redact", db::Url::redact(text));
  out.add("Redactor", db::detail::Redactor(db::Url::parse(text))("error near " + text + " here"));
  out.add("Value::display", db::Value(text).display("url"));

  const db::Options base = {{"pool_size", 1}, {"max_overflow", 0}, {"pool_timeout", 0.3}, {"max_retries", 0},
                            {"setup_retry", false}, {"echo", true}};
  const auto with = [&](const Target& t, std::initializer_list<db::Options::Item> extra) {
    db::Options o = base;
    o.set("url", spell(s, t));
    for (const auto& [k, v] : extra) o.set(k, v);
    return o;
  };

  if (s.uri) {
    manager_outputs(out, "wrong-password", with(wrong_password, {}));
    manager_outputs(out, "unreachable", with(unreachable, {}));
    manager_outputs(out, "missing-database", with(missing_db, {}));
    manager_outputs(out, "create_db", with(wrong_password, {{"create_db", true}}));
    manager_outputs(out, "right-password", with(right, {}), [&](Manager& m) {
      if (!m.get_setup_errors().empty()) return;
      out.connected = true;
      auto& d = m.db("app");
      catch_what(out, "query", [&] {
        d.connect().execute(std::string("SELECT ") + dollar_tag + pw + dollar_tag);
      });
      catch_what(out, "failing-query", [&] {
        d.connect().execute(std::string("SELECT ") + dollar_tag + pw + dollar_tag + "::int");
      });
      // The pool's "unreachable" timeout: the role's password changes, its
      // connections are ended, the next checkout cannot open one. It waits for
      // pool_timeout: the first two hand-picked passwords only.
      if (i >= 2) return;
      f.sql("ALTER ROLE " + role + " PASSWORD 'changed-for-the-test'");
      f.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + role + "'");
      catch_what(out, "pool-unreachable", [&] { d.connect().execute("SELECT 1"); });
      for (const auto& [name, h] : m.health_check()) out.add("pool-unreachable/health_check", h.error);
      f.sql("ALTER ROLE " + role + " PASSWORD " + dollar_tag + pw + dollar_tag);
    });
  } else {
    // Key/value strings have no scheme: the Manager cannot pick a backend, and
    // says so. The connector itself takes them.
    manager_outputs(out, "no-scheme", with(right, {}));
    auto [lg, cap] = test::capture_logger(log::Level::trace);
    const auto connector_open = [&, lg = lg](const std::string& scenario, const Target& t) {
      catch_what(out, scenario + "/open", [&] {
        pg::detail::Connector<log::Logger> c(lg, db::DatabaseConfig::from("app", with(t, {})), false);
        (void)c.open();
      });
    };
    connector_open("kv-wrong-password", wrong_password);
    connector_open("kv-unreachable", unreachable);
    connector_open("kv-missing-database", missing_db);
    catch_what(out, "kv-create_db", [&] {
      pg::detail::Connector<log::Logger> c(lg, db::DatabaseConfig::from("app", with(wrong_password, {{"create_db", true}})),
                                           false);
    });
    catch_what(out, "kv-right-password", [&] {
      pg::detail::Connector<log::Logger> c(lg, db::DatabaseConfig::from("app", with(right, {})), false);
      auto conn = c.open();
      out.connected = true;
    });
    for (const auto& line : cap->lines) out.add("kv/log", line);
  }
  return out;
}

}  // namespace

TEST_CASE("no output of any failure path holds the password or a 6-character piece of it, in any spelling") {
  Fixture& f = fixture();
  std::set<std::string> sites;  // spelling + source
  // Each path must really have been driven: (source prefix, text it must show at least once).
  std::map<std::pair<std::string, std::string>, bool> driven = {
      {{"wrong-password/get_setup_errors", "password authentication failed"}, false},
      {{"unreachable/health_check", "cannot connect"}, false},
      {{"missing-database/db", "does not exist"}, false},
      {{"create_db/get_setup_errors", "create_db: cannot create database"}, false},
      {{"right-password/log", "connected to"}, false},
      {{"right-password/log", "SELECT $pwtag$***$pwtag$"}, false},
      {{"failing-query", "SQLSTATE 22P02"}, false},
      {{"pool-unreachable", "unreachable"}, false},
      {{"pool-unreachable/health_check", "unreachable"}, false},
      {{"no-scheme/get_setup_errors", "unknown database type"}, false},
      {{"kv-wrong-password/open", "password authentication failed"}, false},
      {{"kv-create_db", "create_db: cannot create database"}, false},
      {{"url-raw", "key 'url' is not a connection string libpq reads as written"}, false}};
  std::size_t outputs = 0, whole = 0;
  std::map<std::string, std::string> example;
  // The passwords in three threads: most of the time goes to waiting for the
  // server. Catch2's assertions stay on this thread.
  std::vector<std::vector<Outputs>> results(f.passwords.size());
  {
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 3; ++t)
      threads.emplace_back([&, t] {
        for (std::size_t i = t; i < f.passwords.size(); i += 3)
          for (const auto& s : spellings(f.passwords[i])) results[i].push_back(run_paths(i, s));
      });
    for (auto& th : threads) th.join();
  }
  for (std::size_t i = 0; i < f.passwords.size(); ++i) {
    const auto sp = spellings(f.passwords[i]);
    for (std::size_t k = 0; k < sp.size(); ++k) {
      const auto& s = sp[k];
      const Outputs& out = results[i][k];
      if (s.libpq_takes) {
        INFO("password #" << i << ": the right password spelled " << s.name << " connects");
        CHECK(out.connected);
      }
      for (const auto& [source, text] : out.items) {
        ++outputs;
        for (auto& [what, seen] : driven)
          if ((source.rfind(what.first, 0) == 0 || s.name == what.first) && text.find(what.second) != std::string::npos)
            seen = true;
        if (!leaks(text, f.passwords[i])) continue;
        const std::string site = s.name + " " + source;
        if (text.find(f.passwords[i]) != std::string::npos) ++whole;
        if (sites.insert(site).second) example[site] = "password #" + std::to_string(i) + ": " + text;
      }
    }
  }
  for (const auto& [site, text] : example) UNSCOPED_INFO("leak at " << site << " -- " << text);
  std::printf("password-leaks: %zu sites in %zu outputs (%zu outputs with a whole password), %zu passwords x 7 spellings x every path\n",
              sites.size(), outputs, whole, f.passwords.size());
  CHECK(sites.empty());
  for (const auto& [what, seen] : driven) {
    INFO("a " << what.first << " output shows \"" << what.second << "\"");
    CHECK(seen);
  }
}
