// Fuzz target: DatabaseConfig::from on options decoded from the input.
//
// Input layout (all of it optional; a short input just ends early):
//   byte 0: which url to start from (0-4 below; others: none), so that the other
//           keys are checked against a valid url too;
//   then up to 24 records: key, kind, value
//     key:   a byte; below 0xf0 one of detail::key_specs, else a text (length
//            byte, bytes) that may be any key at all;
//     kind:  a byte, low 2 bits: 0 bool (1 byte), 1 integer (8 bytes, or 1 signed
//            byte when bit 2 is set), 2 double (8 raw bytes: NaN, infinities,
//            subnormals), 3 text (length byte, bytes: NULs and all).
// Checked: from() returns or throws ConfigError, nothing else; an error names
// database "fuzzdb" and never shows the starting url's password (unless the input
// itself spells it; the url's own redaction is url_fuzz's part); a returned config
// keeps the bounds the keys document.

#include <appinfra/db/config.hpp>
#include <appinfra/db/errors.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

using appinfra::db::ConfigError;
using appinfra::db::DatabaseConfig;
using appinfra::db::Options;
using appinfra::db::Value;
using appinfra_fuzz::contains;
using appinfra_fuzz::printable;

namespace {

// The password of every starting url with one: "S3cr" + more, so that the check
// below can tell whether any of it leaked.
constexpr std::string_view secret_mark = "S3cr";
constexpr std::string_view start_urls[] = {
    "postgresql://app:S3cr%2Fet%20Pw@db.example:5432/app?sslmode=disable",
    "postgresql://app:S3cr et/Pw@db.example/app",
    "postgresql://db.example/app?user=app&password=S3cr%3Fet-Pw",
    "host=db.example password='S3cr et Pw' dbname=app",
    "sqlite:///:memory:",
};

class Reader {
 public:
  Reader(const std::uint8_t* d, std::size_t n) : d_(d), n_(n) {}
  [[nodiscard]] bool empty() const { return i_ >= n_; }
  std::uint8_t byte() { return i_ < n_ ? d_[i_++] : 0; }
  std::string text() {
    const std::size_t len = std::min<std::size_t>(byte(), n_ - std::min(i_, n_));
    std::string s(reinterpret_cast<const char*>(d_ + i_), len);
    i_ += len;
    return s;
  }
  template <class T>
  T raw() {
    unsigned char buf[sizeof(T)] = {};
    for (auto& b : buf) b = byte();
    T v;
    std::memcpy(&v, buf, sizeof v);
    return v;
  }

 private:
  const std::uint8_t* d_;
  std::size_t n_, i_ = 0;
};

Options decode(Reader& r) {
  Options o;
  const std::uint8_t start = r.byte();
  if (start < std::size(start_urls)) o.set("url", std::string(start_urls[start]));
  constexpr std::size_t key_count = appinfra::db::detail::key_specs.size();
  for (int n = 0; n < 24 && !r.empty(); ++n) {
    const std::uint8_t k = r.byte();
    std::string key = k < 0xf0 ? std::string(appinfra::db::detail::key_specs[k % key_count].name) : r.text();
    const std::uint8_t kind = r.byte();
    switch (kind & 3) {
      case 0: o.set(std::move(key), Value((r.byte() & 1) != 0)); break;
      case 1: o.set(std::move(key), (kind & 4) != 0 ? Value(static_cast<std::int8_t>(r.byte())) : Value(r.raw<std::int64_t>())); break;
      case 2: o.set(std::move(key), Value(r.raw<double>())); break;
      default: o.set(std::move(key), Value(r.text())); break;
    }
  }
  return o;
}

bool finite_within(DatabaseConfig::Seconds s, double min) {
  return std::isfinite(s.count()) && s.count() >= min && s.count() <= DatabaseConfig::max_seconds;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader r(data, size);
  const Options options = decode(r);
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The input may spell the mark itself (in a text value): then seeing it proves nothing.
  const bool mark_checkable = !contains(input, secret_mark);
  const auto describe = [&] {
    std::string s = "options:";
    for (const auto& [k, v] : options) s += " " + printable(k) + "=" + printable(v.display());
    return s;
  };

  try {
    const DatabaseConfig c = DatabaseConfig::from("fuzzdb", options);
    FUZZ_CHECK(c.name == "fuzzdb", describe());
    FUZZ_CHECK(!c.url.text().empty(), describe());
    FUZZ_CHECK(c.pool.pool_size >= 1 && c.pool.pool_size <= 1'000'000, describe());
    FUZZ_CHECK(c.pool.max_overflow <= 1'000'000, describe());  // unsigned now: never negative
    FUZZ_CHECK(c.pool.max_retries >= 0 && c.pool.max_retries <= 1'000'000, describe());
    FUZZ_CHECK(c.pool.min_idle <= c.pool.pool_size, describe());  // unsigned now: never negative
    FUZZ_CHECK(!(c.readonly && c.create_db), describe());
    FUZZ_CHECK(finite_within(c.pool.timeout, 0.0) && c.pool.timeout.count() > 0, describe());
    FUZZ_CHECK(finite_within(c.pool.recycle, -1.0), describe());
    FUZZ_CHECK(finite_within(c.pool.retry_delay, 0.0), describe());
    FUZZ_CHECK(finite_within(c.setup.retry_max_interval, 0.0) && c.setup.retry_max_interval.count() > 0, describe());
    FUZZ_CHECK(c.pool.recycle_jitter >= 0.0 && c.pool.recycle_jitter <= 1.0, describe());
    FUZZ_CHECK(finite_within(c.pool.pre_ping_window, 0.0), describe());
    FUZZ_CHECK(finite_within(c.pool.pre_ping_grace, 0.0) && c.pool.pre_ping_grace <= c.pool.pre_ping_window,
               describe());
    FUZZ_CHECK(finite_within(c.pool.idle_timeout, -1.0), describe());
    FUZZ_CHECK(finite_within(c.pool.hold_warning, -1.0), describe());
    FUZZ_CHECK(!c.pg.statement_timeout ||
                   (finite_within(*c.pg.statement_timeout, 0.0) && c.pg.statement_timeout->count() > 0),
               describe());
    for (const auto& e : c.pg.extensions) FUZZ_CHECK(appinfra::db::detail::is_identifier(e, true), describe());
    FUZZ_CHECK(c.pg.schema.empty() || appinfra::db::detail::is_identifier(c.pg.schema), describe());
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    FUZZ_CHECK(e.database() == "fuzzdb" && contains(what, "fuzzdb"), describe() + "\nerror: " + printable(what));
    FUZZ_CHECK(!mark_checkable || (!contains(what, secret_mark) && !contains(e.value(), secret_mark)),
               describe() + "\nerror: " + printable(what) + "\nvalue: " + printable(e.value()));
  }
  return 0;
}
