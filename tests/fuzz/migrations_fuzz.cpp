// Fuzz target: Migrations::from_directory on a folder the input fills.
//
// Input: records of
//   kind:    a byte, low 2 bits: 0 a file, 1 a folder, 2 a symbolic link (to the
//            content, taken as a name in the same folder: dangling, a loop, a file,
//            a folder), 3 a file with ".sql" appended to its name; bit 2: put the
//            next byte in front of the name as a decimal version and '_';
//   name:    length byte, bytes ('/' and NUL become '_'; "", "." and ".." skipped);
//   content: two length bytes (little-endian), bytes.
// Checked: from_directory returns or throws MigrationError, nothing else; what it
// returns has one migration per regular *.sql file (links followed), in strictly
// increasing positive versions, each with the version its name starts with and
// that file's bytes as its SQL.

#include <appinfra/db/errors.hpp>
#include <appinfra/db/migrations.hpp>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_check.hpp"

using appinfra::db::MigrationError;
using appinfra::db::Migrations;
using appinfra_fuzz::printable;
namespace fs = std::filesystem;

namespace {

/// One folder per process, emptied before each input and removed at exit.
class TempFolder {
 public:
  TempFolder() {
    const char* tmp = std::getenv("TMPDIR");
    path_ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/appinfra-fuzz-migrations-XXXXXX";
    if (::mkdtemp(path_.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const std::string& folder() {
  static const TempFolder dir;
  return dir.path();
}

void empty_folder(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir)) fs::remove_all(e.path(), ec);
}

std::string sanitize(std::string name) {
  for (auto& c : name)
    if (c == '/' || c == '\0') c = '_';
  if (name.size() > 200) name.resize(200);
  return name;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& dir = folder();
  empty_folder(dir);

  std::size_t i = 0;
  const auto byte = [&]() -> std::uint8_t { return i < size ? data[i++] : 0; };
  const auto bytes = [&](std::size_t n) {
    n = std::min(n, size - std::min(i, size));
    std::string s(reinterpret_cast<const char*>(data + i), n);
    i += n;
    return s;
  };
  std::string layout;  // what was made, for messages
  for (int records = 0; records < 32 && i < size; ++records) {
    const std::uint8_t kind = byte();
    std::string name;
    if ((kind & 4) != 0) name = std::to_string(byte()) + "_";
    name += bytes(byte());
    const std::size_t len = byte();
    std::string content = bytes(len | static_cast<std::size_t>(byte()) << 8);
    if ((kind & 3) == 3) name += ".sql";
    name = sanitize(std::move(name));
    if (name.empty() || name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    std::error_code ec;
    switch (kind & 3) {
      case 1:
        fs::create_directory(path, ec);
        layout += "\n  folder " + printable(name);
        break;
      case 2: {
        const std::string target = sanitize(content);
        if (target.empty()) continue;
        fs::create_symlink(target, path, ec);
        layout += "\n  link " + printable(name) + " -> " + printable(target);
        break;
      }
      default: {
        if (fs::is_directory(path, ec) || fs::is_symlink(path, ec)) continue;
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        layout += "\n  file " + printable(name) + " (" + std::to_string(content.size()) + " bytes)";
        break;
      }
    }
  }

  // What from_directory should find: every regular *.sql file, links followed.
  struct Expected {
    std::string name, sql;
  };
  std::vector<Expected> expected;
  bool unreadable = false;  // a link loop or the like: an error is the right answer
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() <= 4 || name.substr(name.size() - 4) != ".sql") continue;
    struct stat st {};
    if (::stat(e.path().c_str(), &st) != 0) {
      unreadable = unreadable || errno != ENOENT;
      continue;
    }
    if (S_ISREG(st.st_mode)) expected.push_back({name, read_all(e.path().string())});
  }

  try {
    const Migrations m = Migrations::from_directory(dir);
    const auto& list = m.list();
    FUZZ_CHECK(!unreadable, "folder:" + layout + "\nan unreadable .sql entry was ignored");
    FUZZ_CHECK(list.size() == expected.size(), "folder:" + layout + "\nmigrations: " + std::to_string(list.size()) +
                                                    ", regular .sql files: " + std::to_string(expected.size()));
    for (std::size_t k = 0; k < list.size(); ++k) {
      const auto& mig = list[k];
      FUZZ_CHECK(mig.version > 0, "folder:" + layout);
      FUZZ_CHECK(k == 0 || list[k - 1].version < mig.version, "folder:" + layout);
      bool found = false;
      for (const auto& x : expected) {
        std::int64_t v = 0;
        std::from_chars(x.name.data(), x.name.data() + x.name.size(), v);
        found = found || (v == mig.version && x.sql == mig.sql);
      }
      FUZZ_CHECK(found, "folder:" + layout + "\nmigration " + std::to_string(mig.version) + " '" + printable(mig.name) +
                            "' matches no file");
    }
  } catch (const MigrationError& e) {
    FUZZ_CHECK(std::string_view(e.what()).size() > 0, "folder:" + layout);
  }
  return 0;
}
