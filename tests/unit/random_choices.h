// tests/unit/random_choices.h owns the seeded random choices the randomized tests make
// (policy scenes, the wire invariant test): one generator, so that a seed replays a run.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace vfs::test {

struct Rng {
  std::mt19937_64 g;
  explicit Rng(uint64_t seed) : g(seed) {}
  uint64_t below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(g); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(g) < p; }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }
};

}  // namespace vfs::test
