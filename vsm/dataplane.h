// vsm/dataplane.h owns the seam between the supervisor (configuration, vEthernet
// registry, API) and the host's datapath. The supervisor resolves its model into a
// DataplaneConfig — plain values, one entry per bound vEthernet, already checked — and
// hands it down; counters and rule listings come back up as JSON for the API.
// The supervisor never sees ports, rules or DPDK.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace vfs::vsm {

enum class SwitchportMode { access, trunk };

// One vEthernet as the datapath must enforce it.
struct ResolvedVeth {
  uint32_t number = 0;     // vEthernet N
  int vf = -1;             // VF index on this host
  std::string vm;          // VM name, for logs
  std::string vm_uuid;
  std::string mac;         // the vNIC's MAC as given at attach, "" if unknown
  std::string profile;     // port-profile name
  SwitchportMode mode = SwitchportMode::access;
  uint16_t access_vlan = 1;
  // false = fail closed: the port forwards nothing; reason says why (profile disabled,
  // VLAN not defined, shutdown...).
  bool forwarding = false;
  std::string reason;
};

struct DataplaneConfig {
  std::vector<uint16_t> vlans;        // VLANs defined on the switch, sorted
  std::vector<ResolvedVeth> veths;    // bound vEthernets, by number
};

class Dataplane {
 public:
  virtual ~Dataplane() = default;
  // Makes the datapath enforce cfg. Returns once the slow path uses it and the rules of
  // anything it removes are gone from the eSwitch (so a detached VF forwards nothing).
  virtual Result<void> apply(const DataplaneConfig& cfg) = 0;
  // Number of VFs on this host; attach checks --vf against it.
  virtual int vf_count() const = 0;
  // The rule table (vfsw-dump): a list of rules, each with at least veth, group,
  // priority, match, actions, state, reason, packets, bytes.
  virtual nlohmann::json rules_json() const = 0;
  // Slow-path and per-vEthernet counters: {"slowpath": {...}, "veths": {"N": {...}}}.
  virtual nlohmann::json counters_json() const = 0;
};

}  // namespace vfs::vsm
