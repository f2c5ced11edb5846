// vsm/model.h owns the supervisor's configuration model: VLANs, port-profiles and the
// configuration of vEthernet interfaces — what running-config renders and the CLI edits.
// Plain values with value semantics: a command edits a copy that replaces the original
// only when the whole change succeeded, so a failing command changes nothing.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "vsm/acl.h"
#include "vsm/dataplane.h"

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

struct PortProfile {
  std::string name;
  std::string description;
  SwitchportMode mode = SwitchportMode::access;
  uint16_t access_vlan = kDefaultVlan;
  bool state_enabled = false;  // only enabled profiles accept new vNICs
  bool shutdown = false;
  // Access lists by name ("" = none): ip port access-group / ipv6 port traffic-filter.
  std::string ip_acl_in, ip_acl_out, ipv6_acl_in, ipv6_acl_out;
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
struct VethInterface {
  uint32_t number = 0;
  std::string profile;  // inherited port-profile, "" = none
  std::string description;
  bool shutdown = false;
  bool operator==(const VethInterface&) const = default;
};

// Invariants kept by every command: VLAN 1 exists; an interface inherits only a profile
// that exists; a profile filters only with access lists that exist. A profile may name an access
// VLAN that is not defined (its ports then fail closed), as NX-OS allows.
struct SwitchModel {
  std::map<uint16_t, Vlan> vlans;
  std::map<std::string, PortProfile> profiles;
  std::map<uint32_t, VethInterface> interfaces;
  std::map<std::string, UserAccount> users;
  std::map<std::string, AccessList> ip_acls;    // ip access-list
  std::map<std::string, AccessList> ipv6_acls;  // ipv6 access-list

  SwitchModel();
  bool operator==(const SwitchModel&) const = default;

  std::vector<std::string> profiles_using_vlan(uint16_t vlan) const;
  std::vector<uint32_t> interfaces_inheriting(const std::string& profile) const;
  // "web (in)", "db (out)": the profiles filtering with an access list of family.
  std::vector<std::string> profiles_using_acl(AclFamily family, const std::string& name) const;
  std::map<std::string, AccessList>& acls(AclFamily family) {
    return family == AclFamily::ipv6 ? ipv6_acls : ip_acls;
  }
  const std::map<std::string, AccessList>& acls(AclFamily family) const {
    return family == AclFamily::ipv6 ? ipv6_acls : ip_acls;
  }
};

}  // namespace vfs::vsm
