// slowpath/daemon/veth_counters.h owns the per-vEthernet counters the supervisor reports
// (the counters contract, docs/architecture.md "Counters"): it merges what the NIC counted
// (offload::HwCounters, already monotonic) with what the slow path counted on the
// vEthernet's port, and keeps the software side monotonic per vEthernet too: the slow
// path counts per port, and a vEthernet may leave its VF (detach) and come back on
// another, or its VF may be reused by someone else.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "offload/drop_reason.h"
#include "offload/hw_counters.h"
#include "vsm/dataplane.h"

namespace vfs::daemon {

// One port's slow-path counters as read at one instant (they only grow).
struct SwPortCounts {
  offload::PacketTotals rx, tx;
  std::array<uint64_t, offload::kDropReasonCount> drops{};
  std::array<offload::PoliceTotals, 2> police{};  // the software policers: [0] input, [1] output
};

// The slow path's counts attributed to vEthernets: what each counted on the ports it was
// bound to, from its binding on. Not thread-safe (the dataplane serialises it).
class SwCountersByVeth {
 public:
  using ReadPort = std::function<SwPortCounts(int vf)>;

  // After a new configuration took effect: `bound` maps each bound vEthernet to its VF.
  // A vEthernet that left its VF keeps what it counted there; one that arrived starts
  // from the VF's counts now.
  void rebind(const std::map<uint32_t, int>& bound, const ReadPort& read);
  // Everything vEthernet `veth` counted in software.
  SwPortCounts total(uint32_t veth, const ReadPort& read) const;

 private:
  struct Binding {
    int vf = -1;
    SwPortCounts base;
  };
  std::map<uint32_t, Binding> bound_;
  std::map<uint32_t, SwPortCounts> retired_;
};

// The contract's per-vEthernet object: rx/tx totals, drops by every reason, police by
// direction (those with a policer configured or counted), merged hardware + software.
nlohmann::json veth_counters_json(const vsm::ResolvedVeth& v, const offload::VethHwCounters& hw,
                                  const SwPortCounts& sw);

// The contract's "acl_entries": every ACE of every ACL the vEthernets use ("0" = the
// implicit deny), plus any entry that counted before, with its packets.
nlohmann::json acl_entries_json(const std::vector<vsm::ResolvedVeth>& veths,
                                const std::map<std::string, std::map<uint32_t, uint64_t>>& counted);

}  // namespace vfs::daemon
