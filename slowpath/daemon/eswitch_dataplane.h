// slowpath/daemon/eswitch_dataplane.h owns the adapter that lets the supervisor drive
// this host's datapath: it turns a vsm::DataplaneConfig (vEthernets by VF index) into an
// offload::PolicySnapshot (ports by ethdev id), publishes it to the slow path and waits
// for the offload engine to bring the NIC in line; it keeps the VF knobs in line too
// (slowpath/daemon/vf_knobs.h); and it reports rules and counters.
#pragma once

#include <mutex>
#include <optional>
#include <vector>

#include "drivers/eswitch.h"
#include "offload/offload_engine.h"
#include "offload/policy.h"
#include "slowpath/daemon/veth_counters.h"
#include "slowpath/daemon/vf_knobs.h"
#include "slowpath/slow_path.h"
#include "vsm/dataplane.h"

namespace vfs::daemon {

class ESwitchDataplane final : public vsm::Dataplane {
 public:
  ESwitchDataplane(std::vector<drivers::PortInfo> ports, offload::PolicyChannel& policy,
                   offload::OffloadEngine& offload, const slowpath::SlowPath& slow,
                   drivers::VfAdmin* vf_admin = nullptr, bool eswitch_has_meters = false);

  Result<void> apply(const vsm::DataplaneConfig& cfg) override;
  int vf_count() const override;
  nlohmann::json rules_json() const override;
  nlohmann::json counters_json() const override;

 private:
  std::vector<drivers::PortInfo> ports_;
  uint16_t proxy_port_ = 0;  // the port `flow create` names in dumps: the uplink's
  offload::PolicyChannel& policy_;
  offload::OffloadEngine& offload_;
  const slowpath::SlowPath& slow_;
  mutable std::mutex mu_;  // serialises apply(); readers use copies
  uint64_t generation_ = 0;
  std::vector<vsm::ResolvedVeth> veths_;  // last applied, for counters by vEthernet
  std::optional<VfKnobs> knobs_;          // absent when the driver has no VfAdmin
  SwCountersByVeth sw_counters_;          // slow-path counts per vEthernet (guarded by mu_)

  SwPortCounts read_vf(int vf) const;      // the slow path's counters of VF vf's port
};

}  // namespace vfs::daemon
