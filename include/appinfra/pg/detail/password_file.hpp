#pragma once
// password_file: the password of a PostgreSQL database read from a file (the Docker
// and Kubernetes secrets convention), for each new connection, so that a rotated
// secret takes effect without a restart. No libpqxx.

#include <appinfra/db/config/value.hpp>

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace appinfra::pg::detail {

/// The largest password file read; a larger one is not a password (a wrong path).
inline constexpr std::size_t max_password_file_size = 64 * 1024;

/// What reading a password file gave: the password, or why there is none (`error`,
/// never quoting the file's content).
struct PasswordFileRead {
  std::string password;
  std::string error;  ///< empty when the password was read
};

/// The password a file's `text` holds: the text without one trailing "\n" or "\r\n"
/// (what `echo` and editors add); or why it holds none (empty, a NUL, which libpq
/// would stop at). Pure.
inline PasswordFileRead password_of_file_text(std::string text) {
  PasswordFileRead r;
  if (text.ends_with("\r\n")) text.resize(text.size() - 2);
  else if (text.ends_with('\n')) text.pop_back();
  if (text.empty()) r.error = "the file holds no password (it is empty, or one newline)";
  else if (text.find('\0') != std::string::npos) r.error = "the file holds a NUL character";
  else r.password = std::move(text);
  return r;
}

/// Reads the password in file `path` (a symbolic link is followed: Kubernetes
/// swaps the link of a mounted secret when it changes).
inline PasswordFileRead read_password_file(const std::string& path) {
  const auto failed = [](std::string why) { return PasswordFileRead{{}, std::move(why)}; };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failed(std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return failed(std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return failed("it is a directory");
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed(std::strerror(errno));
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > max_password_file_size)
      return failed(fmt::format("the file is larger than {} bytes: not a password", max_password_file_size));
  }
  return password_of_file_text(std::move(text));
}

/// The message of a password file that could not be read: the database, the key
/// and the path, never a password.
inline std::string password_file_error(std::string_view database, std::string_view path, std::string_view why) {
  return fmt::format("database '{}': key 'password_file': cannot read a password from {}: {}", database,
                     db::detail::shown(path), why);
}

}  // namespace appinfra::pg::detail
