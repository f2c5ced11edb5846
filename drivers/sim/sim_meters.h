// drivers/sim/sim_meters.h owns the sim's meters, as rte_mtr has them: srTCM profiles
// (RFC 2697) and meter objects by caller-chosen ids, each meter colouring frames with
// DPDK's rte_meter (color-blind) and counting them per colour. Time comes from an
// injected clock (ns), so tests drive the token buckets exactly.
//
// Not thread-safe: the flow table's owner serialises calls (drivers/sim/sim_flow_table.h).
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

#include <rte_meter.h>

#include "base/clock.h"
#include "drivers/flow_backend.h"

namespace vfs::drivers::sim {

// rte_meter_srtcm_profile_config derives its token-bucket period from the TSC rate (and
// needs EAL for it); the sim's clock counts nanoseconds, so this computes the same
// parameters for a 1 GHz "TSC". The colouring itself is DPDK's.
rte_meter_srtcm_profile srtcm_profile_ns(uint64_t cir, uint64_t cbs, uint64_t ebs);

// A token-bucket state started full at `now_ns`.
rte_meter_srtcm srtcm_start(const rte_meter_srtcm_profile& p, uint64_t now_ns);

struct SimMeterProfile {
  MeterProfile params;
  rte_meter_srtcm_profile rt{};
  uint32_t meters = 0;  // meters that use it
};

struct Meter {
  uint32_t id = 0;
  SimMeterProfile* profile = nullptr;
  rte_meter_srtcm state{};
  MeterStats stats;
  uint32_t rules = 0;  // rules whose METER action names it
};

class MeterTable {
 public:
  explicit MeterTable(const Clock& clock) : clock_(clock) {}

  FlowStatus add_profile(uint32_t id, const MeterProfile& p);
  FlowStatus delete_profile(uint32_t id);  // EBUSY while a meter uses it
  FlowStatus create(uint32_t id, uint32_t profile_id);
  FlowStatus destroy(uint32_t id);  // EBUSY while a rule uses it
  FlowResult<MeterStats> stats(uint32_t id) const;
  Meter* find(uint32_t id) const;
  void clear();

  // Colours a frame of len bytes now and counts it; false = red (to be dropped).
  bool police(Meter& m, uint32_t len);

 private:
  const Clock& clock_;
  std::unordered_map<uint32_t, std::unique_ptr<SimMeterProfile>> profiles_;
  std::unordered_map<uint32_t, std::unique_ptr<Meter>> meters_;
};

}  // namespace vfs::drivers::sim
