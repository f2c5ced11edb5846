// slowpath/srtcm.h owns the slow path's single-rate three-colour meter check: DPDK's
// rte_meter_srtcm_color_blind_check, minus its division when it would add nothing.
//
// The slow path reads the TSC once per received burst, so every frame of a burst but the
// first meets a meter already brought up to within one period of that TSC: no period has
// elapsed, the buckets gain nothing, and rte_meter's 64-bit division (time elapsed / period)
// only yields 0 — a third of a policer's time per frame when a burst is all different flows.
// Then the colour is decided on the buckets as they are, which is rte_meter's own arithmetic
// for zero periods (its tc never exceeds cbs, so nothing overflows into te). Otherwise
// rte_meter is called. tests/unit/slowpath/srtcm_test.cpp holds the two to the same colours
// and buckets.
#pragma once

#include <cstdint>

#include <rte_meter.h>

namespace vfs::slowpath {

inline rte_color srtcm_check(rte_meter_srtcm& m, rte_meter_srtcm_profile& p, uint64_t tsc,
                             uint32_t len) {
  if (tsc - m.time >= p.cir_period)
    return static_cast<rte_color>(rte_meter_srtcm_color_blind_check(&m, &p, tsc, len));
  if (m.tc >= len) {
    m.tc -= len;
    return RTE_COLOR_GREEN;
  }
  if (m.te >= len) {
    m.te -= len;
    return RTE_COLOR_YELLOW;
  }
  return RTE_COLOR_RED;
}

}  // namespace vfs::slowpath
