// SmallVector against std::vector: random sequences of every operation, across the
// inline/heap boundary, in both directions (copies and moves of either kind), with the
// same contents and the same order (==, <=>) after each step.
#include <doctest/doctest.h>

#include <algorithm>
#include <compare>
#include <cstdint>
#include <utility>
#include <vector>

#include "base/small_vector.h"
#include "tests/unit/random_choices.h"

namespace vfs::small_vector_test {

struct Pair {
  uint8_t kind = 0;
  uint32_t arg = 0;
  auto operator<=>(const Pair&) const = default;
};
using Small = SmallVector<Pair, 3>;

bool same(const Small& s, const std::vector<Pair>& v) {
  return s.size() == v.size() && std::equal(s.begin(), s.end(), v.begin()) &&
         s.empty() == v.empty() && (v.empty() || (s.front() == v.front() && s.back() == v.back()));
}

}  // namespace vfs::small_vector_test

using namespace vfs::small_vector_test;

TEST_CASE("SmallVector does what std::vector does, inline and on the heap") {
  vfs::test::Rng rng(7);
  uint64_t heap_seen = 0, inline_seen = 0;
  for (int round = 0; round < 300; ++round) {
    Small s;
    std::vector<Pair> v;
    Small other;
    std::vector<Pair> other_v;
    for (int step = 0; step < 60; ++step) {
      const Pair p{static_cast<uint8_t>(rng.below(4)), static_cast<uint32_t>(rng.below(5))};
      switch (rng.below(11)) {
        case 0:
        case 1:
          s.push_back(p);
          v.push_back(p);
          break;
        case 2: {
          const size_t at = rng.below(v.size() + 1);
          CHECK(*s.insert(s.begin() + at, p) == p);
          v.insert(v.begin() + static_cast<ptrdiff_t>(at), p);
          break;
        }
        case 3: {
          const size_t at = rng.below(v.size() + 1);
          const std::vector<Pair> more(rng.below(6), p);
          s.insert(s.begin() + at, more.begin(), more.end());
          v.insert(v.begin() + static_cast<ptrdiff_t>(at), more.begin(), more.end());
          break;
        }
        case 4:
          if (!v.empty()) {
            const size_t at = rng.below(v.size());
            s.erase(s.begin() + at);
            v.erase(v.begin() + static_cast<ptrdiff_t>(at));
          }
          break;
        case 5:
          if (!v.empty()) {
            s.pop_back();
            v.pop_back();
          }
          break;
        case 6:
          other = s;  // copy
          other_v = v;
          break;
        case 7:
          s = std::move(other);  // move: other is left empty
          v = std::move(other_v);
          other_v.clear();
          CHECK(other.empty());
          break;
        case 8: {
          Small moved(std::move(s));
          s = moved;
          break;
        }
        case 9:
          s.push_back(s.empty() ? p : s[0]);  // a value from the vector itself
          v.push_back(v.empty() ? p : v[0]);
          break;
        case 10:
          if (rng.chance(0.3)) {
            s.clear();
            v.clear();
          } else {
            s = {p, p};
            v = {p, p};
          }
          break;
      }
      REQUIRE(same(s, v));
      REQUIRE(same(other, other_v));
      CHECK((s == other) == (v == other_v));
      CHECK((s <=> other) == (v <=> other_v));
      (s.capacity() > 3 ? heap_seen : inline_seen)++;
    }
  }
  CHECK(heap_seen > 1000);
  CHECK(inline_seen > 1000);
}

TEST_CASE("SmallVector: reserve keeps the values; a moved-from vector is empty and usable") {
  Small s{{1, 1}, {2, 2}};
  s.reserve(10);
  CHECK(s.capacity() >= 10);
  CHECK(s == Small{{1, 1}, {2, 2}});
  Small t(std::move(s));
  CHECK(s.empty());
  s.push_back({3, 3});
  CHECK(s == Small{{3, 3}});
  CHECK(t.size() == 2);
  CHECK(t[1] == Pair{2, 2});
}
