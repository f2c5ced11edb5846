// slowpath/daemon/eswitch_dataplane.h owns the adapter that lets the supervisor drive
// this host's datapath: it turns a vsm::DataplaneConfig (vEthernets by VF index) into an
// offload::PolicySnapshot (ports by ethdev id), publishes it to the slow path and waits
// for the offload engine to bring the NIC in line; it keeps the VF knobs in line too
// (slowpath/daemon/vf_knobs.h); and it reports rules and counters.
//
// DHCP snooping: a thread of its own takes the slow path's binding events, keeps the
// leases (slowpath/daemon/dhcp_leases.h) in the vEthernets' source bindings, republishes
// the policy when they change (so the rules admit the leased addresses in hardware),
// expires them, and keeps them in <state-dir>/dhcp-snooping-bindings.json across restarts.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "drivers/eswitch.h"
#include "offload/offload_engine.h"
#include "offload/policy.h"
#include "slowpath/daemon/dhcp_leases.h"
#include "slowpath/daemon/veth_counters.h"
#include "slowpath/daemon/vf_knobs.h"
#include "slowpath/slow_path.h"
#include "vsm/dataplane.h"

namespace vfs::daemon {

class ESwitchDataplane final : public vsm::Dataplane {
 public:
  // state_dir: where DHCP snooping's leases persist ("" = nowhere).
  ESwitchDataplane(std::vector<drivers::PortInfo> ports, offload::PolicyChannel& policy,
                   offload::OffloadEngine& offload, slowpath::SlowPath& slow,
                   drivers::VfAdmin* vf_admin = nullptr, bool eswitch_has_meters = false,
                   std::string state_dir = "");
  ~ESwitchDataplane() override;
  ESwitchDataplane(const ESwitchDataplane&) = delete;
  ESwitchDataplane& operator=(const ESwitchDataplane&) = delete;

  Result<void> apply(const vsm::DataplaneConfig& cfg) override;
  int vf_count() const override;
  nlohmann::json rules_json() const override;
  // Also {"dhcp_snooping": {"bindings": [...]}}: the leases DHCP snooping holds.
  nlohmann::json counters_json() const override;

 private:
  std::vector<drivers::PortInfo> ports_;
  uint16_t proxy_port_ = 0;  // the port `flow create` names in dumps: the uplink's
  offload::PolicyChannel& policy_;
  offload::OffloadEngine& offload_;
  slowpath::SlowPath& slow_;
  mutable std::mutex mu_;  // serialises apply(); readers use copies
  uint64_t generation_ = 0;
  std::vector<vsm::ResolvedVeth> veths_;  // last applied, for counters by vEthernet
  std::optional<VfKnobs> knobs_;          // absent when the driver has no VfAdmin
  SwCountersByVeth sw_counters_;          // slow-path counts per vEthernet (guarded by mu_)

  SwPortCounts read_vf(int vf) const;  // the slow path's counters of VF vf's port

  // Publishes cfg, with the leases merged in, and waits for the slow path and the NIC.
  Result<void> publish_locked(const vsm::DataplaneConfig& cfg);
  void snoop_loop();
  bool take_snooping_events_locked();  // true when the bindings changed
  void save_leases_locked();
  void log_gone(const std::vector<DhcpLease>& gone, const char* why) const;
  std::string veth_label(uint32_t veth) const;

  DhcpLeases leases_;                        // guarded by mu_
  std::optional<vsm::DataplaneConfig> cfg_;  // last applied, without leases
  std::set<uint32_t> bound_veths_;           // of cfg_
  std::string leases_path_;
  uint64_t malformed_seen_ = 0;
  bool stopping_ = false;  // guarded by mu_
  std::condition_variable snoop_cv_;
  std::thread snoop_thread_;
};

}  // namespace vfs::daemon
