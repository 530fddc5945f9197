#include <appinfra/db/detail/statement_cache.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using appinfra::db::detail::StatementCache;

TEST_CASE("a statement cache finds what was inserted and evicts the least recently used", "[statement_cache]") {
  StatementCache<int> c(2);
  CHECK(c.find("SELECT 1") == nullptr);
  CHECK_FALSE(c.insert("SELECT 1", 1));
  CHECK_FALSE(c.insert("SELECT 2", 2));
  REQUIRE(c.find("SELECT 1") != nullptr);  // now the most recent: SELECT 2 goes first
  CHECK(*c.find("SELECT 1") == 1);
  const auto evicted = c.insert("SELECT 3", 3);
  REQUIRE(evicted);
  CHECK(evicted->first == "SELECT 2");
  CHECK(evicted->second == 2);
  CHECK(c.find("SELECT 2") == nullptr);
  CHECK(c.size() == 2);
  CHECK(*c.find("SELECT 3") == 3);
}

TEST_CASE("a statement cache of capacity 0 keeps nothing and hands the entry back", "[statement_cache]") {
  StatementCache<int> c(0);
  const auto back = c.insert("SELECT 1", 7);
  REQUIRE(back);
  CHECK(back->second == 7);
  CHECK(c.size() == 0);
  CHECK(c.find("SELECT 1") == nullptr);
}

TEST_CASE("a statement cache erases one entry, drains all and survives a move", "[statement_cache]") {
  StatementCache<int> c(3);
  (void)c.insert("a", 1);
  (void)c.insert("b", 2);
  (void)c.insert("c", 3);
  const auto gone = c.erase("b");
  REQUIRE(gone);
  CHECK(gone->second == 2);
  CHECK_FALSE(c.erase("b"));
  StatementCache<int> moved(std::move(c));
  REQUIRE(moved.find("a") != nullptr);  // the index still points into the moved entries
  std::vector<std::string> seen;
  moved.drain([&](const std::string& sql, int&) { seen.push_back(sql); });
  CHECK(seen == std::vector<std::string>{"a", "c"});  // most recent first: find("a") moved it up
  CHECK(moved.size() == 0);
  CHECK(moved.find("a") == nullptr);
}

TEST_CASE("statement cache counters add up into a pool status", "[statement_cache]") {
  appinfra::db::detail::StatementCacheCounters n;
  n.hit();
  n.hit();
  n.miss();
  n.evicted();
  appinfra::db::PoolStatus s;
  s.statement_cache_hits_total = 1;
  n.add_to(s);
  CHECK(s.statement_cache_hits_total == 3);
  CHECK(s.statement_cache_misses_total == 1);
  CHECK(s.statement_cache_evictions_total == 1);
}
