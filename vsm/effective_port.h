// vsm/effective_port.h owns port-profile inheritance: the chain of profiles a profile
// inherits (`inherit port-profile NAME`, multi-level), loop detection, and the settings
// in force for a profile or an interface — each setting from the nearest place that sets
// it (interface, its profile, that profile's parent, ...), else the default.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "vsm/model.h"

namespace vfs::vsm {

struct EffectivePort {
  std::vector<std::string> chain;  // the profile, then the ones it inherits, nearest first
  SwitchportMode mode = SwitchportMode::access;
  uint16_t access_vlan = kDefaultVlan;
  bool shutdown = false;
  std::vector<uint16_t> trunk_allowed;  // sorted; default 1-4094
  uint16_t native_vlan = kDefaultVlan;
  bool native_vlan_set = false;  // some profile of the chain sets it
  // Merged: a field still unset here takes its default (port-security off, maximum 1,
  // violation shutdown, ip verify source off, storm-control off, no filter or policy).
  PortPolicy policy;
};

// [name, parent, grandparent, ...]; an error naming the profile that is missing, or the
// loop ("a -> b -> a").
Result<std::vector<std::string>> inheritance_chain(const SwitchModel& model,
                                                   const std::string& name);

Result<EffectivePort> effective_profile(const SwitchModel& model, const std::string& name);

// The interface's profile (if any) with the interface's overrides on top.
Result<EffectivePort> effective_interface(const SwitchModel& model, const VethInterface& itf);

// Sets in merged every field that local sets.
void overlay_policy(const PortPolicy& local, PortPolicy& merged);

// 1..4094.
std::vector<uint16_t> all_vlans();

}  // namespace vfs::vsm
