// slowpath/daemon/dhcp_leases.h owns the control plane's copy of DHCP snooping's leases
// (NX-OS's snooping binding database): it folds the slow path's binding events
// (slowpath/dhcp_snooping.h), expires leases on wall-clock time, forgets the leases of
// vEthernets that detach or stop snooping, adds the leases to the vEthernets' source
// bindings (marked dhcp_snooped) before the policy is published, and reads and writes
// the form that survives a restart. Not thread-safe: its owner serialises calls.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "slowpath/dhcp_snooping.h"
#include "vsm/dataplane.h"

namespace vfs::daemon {

struct DhcpLease {
  uint32_t veth = 0;
  uint16_t vlan = 0;
  slowpath::MacBytes mac{};
  slowpath::Ip4 ip{};
  uint32_t lease_s = 0;      // as granted; slowpath::kDhcpInfiniteLease = infinite
  int64_t expires_unix = 0;  // wall clock, seconds; 0 = never
  bool infinite() const { return lease_s == slowpath::kDhcpInfiniteLease; }
  auto operator<=>(const DhcpLease&) const = default;
};

std::string ip4_str(const slowpath::Ip4& ip);

class DhcpLeases {
 public:
  enum class Change : uint8_t { none, renewed, bindings };
  // Applies one event from the slow path; `gone` receives the leases it ended.
  Change fold(const slowpath::DhcpBindingEvent& ev, int64_t now_unix,
              std::vector<DhcpLease>* gone = nullptr);
  // Removes and returns the leases ended by now_unix.
  std::vector<DhcpLease> expire(int64_t now_unix);
  // Removes and returns the leases of vEthernets that cfg binds without snooping, and of
  // those in `before` (the vEthernets bound until now) that cfg no longer binds. A lease of
  // a vEthernet never seen bound (read back at start-up) waits for it, or for its end.
  std::vector<DhcpLease> prune(const vsm::DataplaneConfig& cfg, const std::set<uint32_t>& before);
  // cfg's vEthernets with their leases added to their source bindings.
  void merge_into(vsm::DataplaneConfig& cfg) const;

  const std::vector<DhcpLease>& all() const { return leases_; }
  // {"bindings": [{"veth","vlan","mac","ip","lease_s","expires_unix"}]}
  nlohmann::json to_json() const;
  // Reads to_json()'s form, dropping leases ended by now_unix; an error names what is wrong.
  static Result<DhcpLeases> from_json(const nlohmann::json& j, int64_t now_unix);

 private:
  std::vector<DhcpLease> leases_;  // one per (veth, vlan, mac)
};

}  // namespace vfs::daemon
