// vsm/dataplane.h owns the seam between the supervisor (configuration, vEthernet
// registry, API) and the host's datapath. The supervisor resolves its model into a
// DataplaneConfig — plain values, one entry per bound vEthernet, already checked — and
// hands it down; counters and rule listings come back up as JSON for the API.
// The supervisor never sees ports, rules or DPDK.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace vfs::vsm {

enum class SwitchportMode { access, trunk };

// --- Resolved policy objects (issue 5 enforces them; the CLI issue fills them) ---

// An address with a bit mask (NX-OS wildcards may be non-contiguous; rte_flow masks can
// say the same). IPv4 uses bytes 0-3. mask all-zero = any.
struct AddressMatch {
  std::array<uint8_t, 16> addr{};
  std::array<uint8_t, 16> mask{};
  // Four word compares: std::array's == is a memcmp call per array, and the rule
  // compiler compares whole ACLs entry by entry for every port that uses one.
  bool operator==(const AddressMatch& o) const {
    uint64_t a[4], b[4];
    std::memcpy(a, addr.data(), 16);
    std::memcpy(a + 2, mask.data(), 16);
    std::memcpy(b, o.addr.data(), 16);
    std::memcpy(b + 2, o.mask.data(), 16);
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0;
  }
};

struct PortMatch {
  enum class Op : uint8_t { any, eq, neq, lt, gt, range } op = Op::any;
  uint16_t lo = 0;  // eq/neq/lt/gt use lo; range is [lo, hi]
  uint16_t hi = 0;
  bool operator==(const PortMatch&) const = default;
};

enum class AclFamily : uint8_t { ipv4, ipv6, mac };

// One access-control entry, as the datapath evaluates it.
struct ResolvedAce {
  uint32_t seq = 0;
  bool permit = false;
  // IP ACLs
  int protocol = -1;  // -1: any (the `ip` / `ipv6` keyword); else the IP protocol number
  AddressMatch src, dst;
  PortMatch src_port, dst_port;  // TCP/UDP only
  int icmp_type = -1;            // ICMP / ICMPv6; -1 = any
  int icmp_code = -1;
  bool established = false;  // TCP with ACK or RST
  // MAC ACLs
  std::array<uint8_t, 6> src_mac{}, src_mac_mask{};
  std::array<uint8_t, 6> dst_mac{}, dst_mac_mask{};
  int ethertype = -1;  // -1 = any
  bool operator==(const ResolvedAce&) const = default;
};

struct ResolvedAcl {
  std::string name;
  AclFamily family = AclFamily::ipv4;
  bool statistics_per_entry = false;
  std::vector<ResolvedAce> entries;  // by sequence number; an implicit deny follows
  bool operator==(const ResolvedAcl&) const = default;
};

// `police cir N bc N conform transmit violate drop` (srTCM, colour-blind).
struct ResolvedPolicer {
  std::string policy_map;
  uint64_t cir_bytes_per_s = 0;
  uint64_t cbs_bytes = 0;
  bool operator==(const ResolvedPolicer&) const = default;
};

enum class ViolationMode : uint8_t { shutdown, restrict, protect };

struct ResolvedPortSecurity {
  bool enabled = false;
  uint32_t maximum = 1;
  std::vector<std::array<uint8_t, 6>> static_macs;
  ViolationMode violation = ViolationMode::shutdown;
  bool operator==(const ResolvedPortSecurity&) const = default;
};

// An address bound to a vEthernet by DHCP snooping or `ip source binding`.
struct SourceBinding {
  std::array<uint8_t, 16> ip{};
  bool v6 = false;
  std::array<uint8_t, 6> mac{};
  uint16_t vlan = 0;
  // Learned by DHCP snooping (the datapath adds these to the configured, static ones).
  bool dhcp_snooped = false;
  bool operator==(const SourceBinding&) const = default;
};

struct StormControl {  // percent of the port's bandwidth; <0 = off
  double broadcast = -1, multicast = -1, unicast = -1;
  bool operator==(const StormControl&) const = default;
};

// One vEthernet as the datapath must enforce it.
struct ResolvedVeth {
  uint32_t number = 0;  // vEthernet N
  int vf = -1;          // VF index on this host
  std::string vm;       // VM name, for logs
  std::string vm_uuid;
  std::string mac;      // the vNIC's MAC as given at attach, "" if unknown
  std::string profile;  // port-profile name
  SwitchportMode mode = SwitchportMode::access;
  uint16_t access_vlan = 1;
  // false = fail closed: the port forwards nothing; reason says why (profile disabled,
  // VLAN not defined, shutdown...).
  bool forwarding = false;
  std::string reason;

  // Trunk ports
  std::vector<uint16_t> trunk_allowed;  // sorted
  std::optional<uint16_t> native_vlan;

  // Filters by direction ("in" = from the VM, "out" = to the VM); absent = none.
  std::optional<ResolvedAcl> ip_acl_in, ip_acl_out, ipv6_acl_in, ipv6_acl_out, mac_acl_in,
      mac_acl_out;
  std::optional<ResolvedPolicer> police_in, police_out;
  ResolvedPortSecurity port_security;
  bool ip_verify_source = false;
  std::vector<SourceBinding> source_bindings;
  StormControl storm;
  bool operator==(const ResolvedVeth&) const = default;
};

// `monitor session N`: local SPAN between vEthernets.
struct ResolvedMonitorSession {
  uint32_t id = 0;
  std::vector<uint32_t> rx_sources, tx_sources;  // vEthernet numbers
  std::optional<uint32_t> destination;           // vEthernet number
  bool shut = false;
};

struct DataplaneConfig {
  std::vector<uint16_t> vlans;      // VLANs defined on the switch, sorted
  std::vector<ResolvedVeth> veths;  // bound vEthernets, by number
  std::vector<ResolvedMonitorSession> monitor_sessions;
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
