// Reading what the server said before it closed a connection: no server needed.

#include <appinfra/pg/detail/server_message.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace appinfra::pg::detail;

namespace {
// A backend protocol message: type, length, fields (code, text, NUL), NUL.
std::string message(char type, std::initializer_list<std::pair<char, std::string>> fields) {
  std::string body;
  for (const auto& [code, text] : fields) body += code + text + '\0';
  body += '\0';
  const auto n = static_cast<std::uint32_t>(body.size() + 4);
  std::string out(1, type);
  for (int shift : {24, 16, 8, 0}) out += static_cast<char>((n >> shift) & 0xff);
  return out + body;
}
}  // namespace

TEST_CASE("nothing waiting, benign notices and notifications: usable") {
  CHECK(read_pending("").verdict == Pending::usable);
  CHECK(read_pending(message('N', {{'S', "NOTICE"}, {'C', "00000"}, {'M', "hi"}})).verdict == Pending::usable);
  std::string notify = "A";
  notify += std::string("\0\0\0\x0e", 4) + std::string("\0\0\0\x01", 4) + "ch" + '\0' + '\0';
  CHECK(read_pending(notify).verdict == Pending::usable);
}

TEST_CASE("an ErrorResponse on an idle connection: dead, with its SQLSTATE") {
  const auto p = read_pending(message('E', {{'S', "FATAL"}, {'C', "57P01"}, {'M', "terminating connection"}}));
  CHECK(p.verdict == Pending::dead);
  CHECK(p.sqlstate == "57P01");
  CHECK(read_pending("E\0\0").verdict == Pending::dead);  // cut short: still an error
}

TEST_CASE("PostgreSQL 15's goodbye warnings on an immediate shutdown or a crash: dead") {
  for (const char* state : {"57P01", "57P02"}) {
    const auto p = read_pending(message('N', {{'S', "WARNING"}, {'C', state}, {'M', "terminating connection"}}));
    CHECK(p.verdict == Pending::dead);
    CHECK(p.sqlstate == state);
  }
  // The warning after a benign notice is found too.
  const auto two = message('N', {{'C', "00000"}}) + message('N', {{'C', "57P02"}});
  CHECK(read_pending(two).verdict == Pending::dead);
}

TEST_CASE("a changed setting, a notice cut before its code, or unknown bytes: ask the server") {
  CHECK(read_pending("S\0\0\0\x08" "ab").verdict == Pending::ask);
  CHECK(read_pending(message('N', {{'S', "WARNING"}, {'C', "57P02"}}).substr(0, 9)).verdict == Pending::ask);
  CHECK(read_pending("\x17\x03\x03").verdict == Pending::ask);  // a TLS record
}

TEST_CASE("the server's goodbye in libpq's text gives its SQLSTATE") {
  CHECK(sqlstate_of_goodbye("FATAL:  terminating connection due to administrator command\nserver closed") == "57P01");
  CHECK(sqlstate_of_goodbye("WARNING:  terminating connection because of crash of another server process") == "57P02");
  CHECK(sqlstate_of_goodbye("connection to server at \"127.0.0.1\", port 5 failed: FATAL:  the database system is starting up") == "57P03");
  CHECK(sqlstate_of_goodbye("server closed the connection unexpectedly") == "");
}
