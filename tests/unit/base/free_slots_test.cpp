// Tests for base/free_slots.h: the lowest free slot first, whatever order slots were
// freed in, checked against a std::set over random sequences.
#include "base/free_slots.h"

#include <doctest/doctest.h>

#include <random>
#include <set>

namespace vfs::free_slots_test {

TEST_CASE("FreeSlots hands out the lowest free slot, in any order of frees") {
  FreeSlots f;
  CHECK(f.empty());
  for (uint32_t s : {700u, 3u, 64u, 65u, 0u, 129u}) f.add(s);
  CHECK(f.size() == 6);
  CHECK(f.contains(65));
  CHECK_FALSE(f.contains(66));
  std::vector<uint32_t> got;
  while (!f.empty()) got.push_back(f.take_lowest());
  CHECK(got == std::vector<uint32_t>{0, 3, 64, 65, 129, 700});
  CHECK_THROWS_AS(f.take_lowest(), std::logic_error);
}

TEST_CASE("FreeSlots refuses a double free and changes nothing") {
  FreeSlots f;
  f.add(5);
  CHECK_THROWS_AS(f.add(5), std::logic_error);
  CHECK(f.size() == 1);
  CHECK(f.take_lowest() == 5);
}

TEST_CASE("FreeSlots agrees with a sorted set over random adds and takes") {
  std::mt19937 rng(20261126);
  FreeSlots f;
  std::set<uint32_t> ref;
  std::set<uint32_t> taken;  // slots in use, which may be freed again
  for (uint32_t s = 0; s < 5000; ++s) taken.insert(s);
  for (int step = 0; step < 50000; ++step) {
    if (!ref.empty() && rng() % 2 == 0) {
      const uint32_t s = f.take_lowest();
      REQUIRE(s == *ref.begin());
      ref.erase(ref.begin());
      taken.insert(s);
    } else if (!taken.empty()) {
      auto it = taken.begin();
      std::advance(it, rng() % std::min<size_t>(taken.size(), 64));
      if (rng() % 2) it = std::prev(taken.end());
      f.add(*it);
      ref.insert(*it);
      taken.erase(it);
    }
    REQUIRE(f.size() == ref.size());
  }
  f.clear();
  CHECK(f.empty());
  CHECK_FALSE(f.contains(0));
}

}  // namespace vfs::free_slots_test
