// vsm/model.h owns the supervisor's configuration model: VLANs, access lists, QoS
// policy-maps, port-profiles (with their inheritance), the configuration of vEthernet
// interfaces, IP source bindings and SPAN sessions — what running-config renders and the
// CLI edits.
// Plain values with value semantics: a command edits a copy that replaces the original
// only when the whole change succeeded, so a failing command changes nothing.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vsm/acl.h"
#include "vsm/dataplane.h"
#include "vsm/mac_address.h"
#include "vsm/qos.h"

namespace vfs::vsm {

inline constexpr uint16_t kDefaultVlan = 1;
inline constexpr uint16_t kMaxVlan = 4094;
inline constexpr uint32_t kMaxVeth = 1048575;  // NX-OS Vethernet range

struct Vlan {
  uint16_t id = kDefaultVlan;
  std::string name;
  bool operator==(const Vlan&) const = default;
};

// "default" for VLAN 1, "VLAN0010" for VLAN 10 (NX-OS).
std::string default_vlan_name(uint16_t id);

inline constexpr uint32_t kMaxPortSecurityMacs = 1025;  // NX-OS port-security maximum
inline constexpr uint16_t kMaxStormLevel = 10000;       // hundredths of a percent

// The policy settings both a port-profile and an `interface vethernet N` may carry. Each
// is unset by default ("" / nullopt / empty), and an unset setting is inherited: an
// interface's from its profile, a profile's from the profile it inherits, and so on up
// to the defaults (see vsm/effective_port.h). So local settings override inherited ones.
struct PortPolicy {
  // Filters by name: ip port access-group / ipv6 port traffic-filter / mac port access-group.
  std::string ip_acl_in, ip_acl_out, ipv6_acl_in, ipv6_acl_out, mac_acl_in, mac_acl_out;
  std::string policy_in, policy_out;  // service-policy input|output NAME
  std::optional<bool> port_security;  // switchport port-security / no ...
  std::optional<uint32_t> port_security_maximum;
  std::vector<MacBytes> port_security_macs;  // sorted; non-empty replaces inherited ones
  std::optional<ViolationMode> port_security_violation;
  std::optional<bool> ip_verify_source;  // ip verify source / no ip verify source
  // storm-control broadcast|multicast|unicast level, in hundredths of a percent (0-10000).
  std::optional<uint16_t> storm_broadcast, storm_multicast, storm_unicast;
  bool operator==(const PortPolicy&) const = default;
};

struct PortProfile : PortPolicy {
  std::string name;
  std::string description;
  // The three settings below are plain values (older readers use them directly); the
  // *_set flags say whether this profile sets them (else they are inherited).
  SwitchportMode mode = SwitchportMode::access;
  uint16_t access_vlan = kDefaultVlan;
  bool shutdown = false;
  bool mode_set = false, access_vlan_set = false, shutdown_set = false;
  bool state_enabled = false;  // only enabled profiles accept new vNICs (not inherited)
  // switchport trunk allowed vlan: sorted, nullopt = inherited (default: 1-4094).
  std::optional<std::vector<uint16_t>> trunk_allowed;
  std::optional<uint16_t> native_vlan;  // switchport trunk native vlan (default 1)
  std::string inherit;                  // inherit port-profile NAME, "" = none
  uint32_t max_ports = 0;               // bound vEthernets allowed; 0 = no limit (not inherited)
  bool operator==(const PortProfile&) const = default;
};

// What a user may do (NX-OS roles): network-admin everything; network-operator show
// commands only; server-admin attach/detach and show commands.
enum class Role : uint8_t { network_admin, network_operator, server_admin };

// "network-admin", "network-operator", "server-admin".
std::string_view role_name(Role r);

// `username NAME role ROLE`: NAME is the Unix login the API maps a peer's uid to.
struct UserAccount {
  std::string name;
  Role role = Role::network_operator;
  bool operator==(const UserAccount&) const = default;
};

// The configuration of `interface vethernet N`. Whether a VM vNIC is bound to it lives in
// the VethRegistry, not here.
struct VethInterface : PortPolicy {
  uint32_t number = 0;
  std::string profile;  // inherited port-profile, "" = none
  std::string description;
  bool shutdown = false;
  std::optional<uint16_t> access_vlan;  // overrides the profile's
  bool operator==(const VethInterface&) const = default;
};

enum class SpanDirection : uint8_t { rx, tx, both };

// monitor session N: local SPAN between vEthernets.
struct MonitorSession {
  uint32_t id = 0;
  std::map<uint32_t, SpanDirection> sources;  // vEthernet number -> direction
  std::optional<uint32_t> destination;
  bool shut = true;  // NX-OS: a new session is shut until `no shut`
  bool operator==(const MonitorSession&) const = default;
};
inline constexpr uint32_t kMaxMonitorSession = 64;

// ip source binding A MAC vlan V interface vethernet N
struct IpSourceBinding {
  std::array<uint8_t, 16> ip{};
  bool v6 = false;
  MacBytes mac{};
  uint16_t vlan = kDefaultVlan;
  uint32_t veth = 0;
  auto operator<=>(const IpSourceBinding&) const = default;
};

// Invariants kept by every command: VLAN 1 exists; an interface or a profile inherits only
// a profile that exists, and profile inheritance has no loop; filters and service-policies
// name access lists and policy-maps that exist; SPAN sessions and source bindings name
// interfaces that exist. A profile may name a VLAN that is not defined (its ports then
// fail closed), as NX-OS allows.
struct SwitchModel {
  std::map<uint16_t, Vlan> vlans;
  std::map<std::string, PortProfile> profiles;
  std::map<uint32_t, VethInterface> interfaces;
  std::map<std::string, UserAccount> users;
  std::map<std::string, AccessList> ip_acls;     // ip access-list
  std::map<std::string, AccessList> ipv6_acls;   // ipv6 access-list
  std::map<std::string, AccessList> mac_acls;    // mac access-list
  std::map<std::string, PolicyMap> policy_maps;  // policy-map type qos
  std::map<uint32_t, MonitorSession> monitor_sessions;
  std::vector<IpSourceBinding> source_bindings;  // sorted, no duplicates

  SwitchModel();
  bool operator==(const SwitchModel&) const = default;

  // Profiles that set vlan as their access or native VLAN.
  std::vector<std::string> profiles_using_vlan(uint16_t vlan) const;
  // Interfaces that override their access VLAN with vlan.
  std::vector<uint32_t> interfaces_using_vlan(uint16_t vlan) const;
  std::vector<uint32_t> interfaces_inheriting(const std::string& profile) const;
  std::vector<std::string> profiles_inheriting(const std::string& profile) const;
  // "port-profile web (in)", "Vethernet3 (out)": what filters with an access list of family.
  std::vector<std::string> users_of_acl(AclFamily family, const std::string& name) const;
  // "port-profile web (input)", "Vethernet3 (output)".
  std::vector<std::string> users_of_policy_map(const std::string& name) const;
  // "monitor session 2 (source)", "ip source binding 10.0.0.1 ...": what names interface n.
  std::vector<std::string> users_of_interface(uint32_t n) const;
  std::map<std::string, AccessList>& acls(AclFamily family) {
    return family == AclFamily::ipv6 ? ipv6_acls : family == AclFamily::mac ? mac_acls : ip_acls;
  }
  const std::map<std::string, AccessList>& acls(AclFamily family) const {
    return family == AclFamily::ipv6 ? ipv6_acls : family == AclFamily::mac ? mac_acls : ip_acls;
  }
};

}  // namespace vfs::vsm
