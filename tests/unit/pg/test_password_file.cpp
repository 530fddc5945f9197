// password_file: the key as DatabaseConfig::from() reads it, the file as the
// connector reads it for each new connection (pg::detail::read_password_file), the
// password added to the conninfo, and the redactor that learns it. No server; the
// rotation against a real one is in tests/integration/pg/test_password_file.cpp.

#include <appinfra/db/config.hpp>
#include <appinfra/db/detail/redact.hpp>
#include <appinfra/pg/detail/conninfo.hpp>
#include <appinfra/pg/detail/password_file.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace appinfra;
namespace fs = std::filesystem;

namespace {

// A directory of its own, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "appinfra-pwfile-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& content) const {
    const fs::path p = path / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
};

std::string what_of(const db::Options& o) {
  try {
    (void)db::DatabaseConfig::from("orders", o);
  } catch (const db::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("password_file is read as a path, shown in errors, and defaults to none") {
  CHECK(db::DatabaseConfig::from("orders", {{"url", "postgresql://app@db/orders"}}).pg.password_file.empty());
  const auto c = db::DatabaseConfig::from(
      "orders", {{"url", "postgresql://app@db/orders"}, {"password_file", "/run/secrets/db-password"}});
  CHECK(c.pg.password_file == "/run/secrets/db-password");
  CHECK_FALSE(c.url_has_password());
  // Unlike a key naming a secret, its value (a path) is shown.
  CHECK(db::Value("/run/secrets/pw").display("password_file") == "'/run/secrets/pw'");
  CHECK(db::Value("Hunter2").display("password") == "***");
}

TEST_CASE("a url with a password of its own and password_file is an error naming both keys, not the password") {
  for (const std::string url :
       {"postgresql://app:Hunter2Hunter2@db/orders", "postgresql://app@db/orders?password=Hunter2Hunter2",
        "host=db user=app password=Hunter2Hunter2 dbname=orders"}) {
    INFO(url);
    const std::string what = what_of({{"url", url}, {"password_file", "/run/secrets/pw"}});
    CHECK(what.find("database 'orders'") != std::string::npos);
    CHECK(what.find("'password_file'") != std::string::npos);
    CHECK(what.find("'url'") != std::string::npos);
    CHECK(what.find("/run/secrets/pw") != std::string::npos);
    CHECK(what.find("Hunter2") == std::string::npos);
  }
  // A user without a password is fine; so is an empty one, which libpq does not read.
  CHECK(what_of({{"url", "postgresql://app@db/orders"}, {"password_file", "/p"}}).empty());
  CHECK(what_of({{"url", "postgresql://app:@db/orders"}, {"password_file", "/p"}}).empty());
}

TEST_CASE("a password file loses one trailing newline, LF or CRLF, and nothing else") {
  using pg::detail::password_of_file_text;
  CHECK(password_of_file_text("s3cret").password == "s3cret");
  CHECK(password_of_file_text("s3cret\n").password == "s3cret");
  CHECK(password_of_file_text("s3cret\r\n").password == "s3cret");
  CHECK(password_of_file_text("s3cret\n\n").password == "s3cret\n");
  CHECK(password_of_file_text(" s3 cret \n").password == " s3 cret ");
  CHECK(password_of_file_text("line1\nline2").password == "line1\nline2");
  for (const std::string empty : {"", "\n", "\r\n"}) {
    const auto r = password_of_file_text(empty);
    CHECK(r.password.empty());
    CHECK(r.error.find("no password") != std::string::npos);
  }
  const auto nul = password_of_file_text(std::string("abc\0def", 7));
  CHECK(nul.password.empty());
  CHECK(nul.error.find("NUL") != std::string::npos);
}

TEST_CASE("read_password_file reads the file each time, and says why it cannot, never quoting it") {
  TempDir dir;
  const std::string path = dir.write("pw", "first-password\n");
  CHECK(pg::detail::read_password_file(path).password == "first-password");
  dir.write("pw", "second-password\r\n");
  CHECK(pg::detail::read_password_file(path).password == "second-password");

  // Kubernetes updates a mounted secret by swapping a symbolic link.
  const std::string target = dir.write("pw.v2", "third-password");
  fs::create_symlink(target, dir.path / "link");
  CHECK(pg::detail::read_password_file((dir.path / "link").string()).password == "third-password");

  const auto missing = pg::detail::read_password_file((dir.path / "missing").string());
  CHECK(missing.password.empty());
  CHECK(missing.error == "No such file or directory");
  CHECK(pg::detail::read_password_file(dir.path.string()).error == "it is a directory");
  const std::string big = dir.write("big", std::string(pg::detail::max_password_file_size + 1, 'x'));
  CHECK(pg::detail::read_password_file(big).error.find("larger than") != std::string::npos);
  if (::geteuid() != 0) {  // root reads anything
    const std::string locked = dir.write("locked", "locked-password");
    fs::permissions(locked, fs::perms::none);
    CHECK(pg::detail::read_password_file(locked).error == "Permission denied");
  }

  const std::string msg = pg::detail::password_file_error("orders", "/run/secrets/pw", missing.error);
  CHECK(msg == "database 'orders': key 'password_file': cannot read a password from '/run/secrets/pw': No such file "
               "or directory");
}

TEST_CASE("the password from the file is the only password in the conninfo, quoted for libpq") {
  const auto c = db::DatabaseConfig::from("orders", {{"url", "postgresql://app@db/orders"}, {"password_file", "/p"}});
  const std::string ci = pg::detail::conninfo(c);
  CHECK(ci.find("password") == std::string::npos);
  CHECK(pg::detail::with_password(ci, "it's a \\ pass word") == ci + " password='it\\'s a \\\\ pass word'");
  CHECK(pg::detail::with_password(ci, "") == ci);
}

TEST_CASE("a learning redactor removes a password learnt later, in every copy, from any thread") {
  const auto url = db::Url::parse("postgresql://app@db/orders");
  const db::detail::Redactor plain(url);
  const db::detail::Redactor learning = plain.learning();
  const db::detail::Redactor copy = learning;  // the query log keeps a copy
  learning.learn("rotated-secret-1");
  std::thread([&] { learning.learn("rotated-secret-2"); }).join();
  CHECK(copy("FATAL: role app: rotated-secret-1 and rotated-secret-2") == "FATAL: role app: *** and ***");
  plain.learn("rotated-secret-1");  // not learning: ignored
  CHECK(plain("rotated-secret-1") == "rotated-secret-1");
  CHECK_FALSE(learning.empty());
}
