// slowpath/srtcm.h against rte_meter itself: random profiles, and frames whose TSCs often
// repeat (a burst's frames share one) or step by less than a period, sometimes by many;
// every colour and both buckets must be rte_meter_srtcm_color_blind_check's.
#include <doctest/doctest.h>

#include "slowpath/srtcm.h"
#include "tests/unit/random_choices.h"

using namespace vfs::slowpath;

TEST_CASE("srtcm_check colours and fills as rte_meter does") {
  vfs::test::Rng rng(20261126);
  uint64_t same_tsc_checks = 0, divisions_due = 0;
  for (int profile = 0; profile < 200; ++profile) {
    rte_meter_srtcm_profile p{};
    p.cbs = 1 + rng.below(20000);
    p.ebs = rng.chance(0.5) ? 0 : rng.below(20000);
    p.cir_period = 1 + rng.below(4000);
    p.cir_bytes_per_period = 1 + rng.below(3000);
    rte_meter_srtcm ref{}, ours{};
    ref.time = ours.time = rng.below(1'000'000);
    ref.tc = ours.tc = p.cbs;
    ref.te = ours.te = p.ebs;
    uint64_t tsc = ref.time;
    for (int frame = 0; frame < 2000; ++frame) {
      const uint64_t step = rng.below(4);
      if (step == 1) tsc += rng.below(p.cir_period);
      if (step == 2) tsc += rng.below(4 * p.cir_period);
      if (step == 3) tsc += rng.below(1000 * p.cir_period);
      const uint32_t len = static_cast<uint32_t>(1 + rng.below(1600));
      if (tsc - ours.time < p.cir_period)
        ++same_tsc_checks;
      else
        ++divisions_due;
      const auto want = rte_meter_srtcm_color_blind_check(&ref, &p, tsc, len);
      const rte_color got = srtcm_check(ours, p, tsc, len);
      REQUIRE(static_cast<int>(got) == static_cast<int>(want));
      REQUIRE(ours.tc == ref.tc);
      REQUIRE(ours.te == ref.te);
      REQUIRE(ours.time == ref.time);
    }
  }
  // Both ways were taken, many times.
  CHECK(same_tsc_checks > 100'000);
  CHECK(divisions_due > 50'000);
}
