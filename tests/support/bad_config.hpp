#pragma once
// The bad-configuration corpus' machinery: a case is a configuration that must be
// rejected, with what the error must say. run() tries it and sorts the outcome:
// a clear error (the expected type, naming the database, the key and the value,
// shortened when long, with no NUL to cut what() short), an unclear one, or none
// at all (accepted silently).

#include <appinfra/db/config.hpp>
#include <appinfra/db/errors.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace appinfra::test {

enum class Raises { config, connection };

struct BadConfig {
  std::string what;  ///< the case, for the report
  std::string db;
  db::Options options;
  Raises raises;
  std::string key;    ///< as it must appear in what(), inside quotes ("" when the key cannot be named)
  std::string value;  ///< a text that must appear in what(): the value as shown ("" when withheld)
  std::string must_not{};  ///< a text what() must not hold (wrong advice, a secret)
};

enum class Outcome { clear, unclear, silent };

struct Verdict {
  Outcome outcome;
  std::string detail;  ///< why it is unclear, or what() of a clear one
};

/// Sorts what `attempt` (which builds the case's database and throws when it is
/// rejected) did with `c`.
inline Verdict judge(const BadConfig& c, const std::function<void()>& attempt) {
  const auto check = [&](const std::exception& e, bool right_type) -> Verdict {
    const std::string what = e.what();
    std::vector<std::string> missing;
    if (!right_type) missing.emplace_back("the expected exception type");
    if (what.find("'" + c.db + "'") == std::string::npos) missing.push_back("the database '" + c.db + "'");
    if (!c.key.empty() && what.find("'" + c.key + "'") == std::string::npos)
      missing.push_back("the key '" + c.key + "'");
    if (!c.value.empty() && what.find(c.value) == std::string::npos) missing.push_back("the value " + c.value);
    if (!c.must_not.empty() && what.find(c.must_not) != std::string::npos)
      missing.push_back("no '" + c.must_not + "'");
    if (std::strlen(e.what()) != what.size() || what.find('\0') != std::string::npos)
      missing.emplace_back("no NUL in what()");
    if (what.size() > 1000) missing.push_back("a short message (it has " + std::to_string(what.size()) + " bytes)");
    if (missing.empty()) return {Outcome::clear, what};
    std::string why = "missing:";
    for (const auto& m : missing) why += " [" + m + "]";
    return {Outcome::unclear, why + " in: " + what.substr(0, 400)};
  };
  try {
    attempt();
  } catch (const db::ConfigError& e) {
    return check(e, c.raises == Raises::config);
  } catch (const db::ConnectionError& e) {
    return check(e, c.raises == Raises::connection);
  } catch (const std::exception& e) {
    return check(e, false);
  }
  return {Outcome::silent, "accepted"};
}

/// Runs every case as one test: each must get a clear error. With
/// APPINFRA_BAD_CONFIG_CENSUS set, prints how many did, for the release note.
inline void run_corpus(const std::string& title, const std::vector<BadConfig>& cases,
                       const std::function<Verdict(const BadConfig&)>& run) {
  int clear = 0, unclear = 0, silent = 0;
  for (const auto& c : cases) {
    const Verdict v = run(c);
    INFO(title << ": " << c.what << " -> " << v.detail);
    CHECK(v.outcome == Outcome::clear);
    (v.outcome == Outcome::clear ? clear : v.outcome == Outcome::unclear ? unclear : silent)++;
    // =all shows the clear ones too, to read the messages.
    if (const char* census = std::getenv("APPINFRA_BAD_CONFIG_CENSUS");
        census != nullptr && (v.outcome != Outcome::clear || std::string_view(census) == "all"))
      std::cout << title << ": "
                << (v.outcome == Outcome::silent    ? "SILENT "
                    : v.outcome == Outcome::unclear ? "UNCLEAR "
                                                    : "CLEAR ")
                << c.what << ": " << v.detail.substr(0, 600) << "\n";
  }
  if (std::getenv("APPINFRA_BAD_CONFIG_CENSUS") != nullptr)
    std::cout << title << ": " << cases.size() << " cases, " << clear << " clear, " << unclear << " unclear, "
              << silent << " accepted silently\n";
}

}  // namespace appinfra::test
