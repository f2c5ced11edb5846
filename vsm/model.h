// vsm/model.h owns the supervisor's configuration model: VLANs, port-profiles and the
// configuration of vEthernet interfaces — what running-config renders and the CLI edits.
// Plain values with value semantics: a command edits a copy that replaces the original
// only when the whole change succeeded, so a failing command changes nothing.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

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
  bool operator==(const PortProfile&) const = default;
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
// that exists. A profile may name an access VLAN that is not defined (its ports then fail
// closed), as NX-OS allows.
struct SwitchModel {
  std::map<uint16_t, Vlan> vlans;
  std::map<std::string, PortProfile> profiles;
  std::map<uint32_t, VethInterface> interfaces;

  SwitchModel();
  bool operator==(const SwitchModel&) const = default;

  std::vector<std::string> profiles_using_vlan(uint16_t vlan) const;
  std::vector<uint32_t> interfaces_inheriting(const std::string& profile) const;
};

}  // namespace vfs::vsm
