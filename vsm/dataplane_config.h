// vsm/dataplane_config.h owns the resolution of the supervisor's state (model + vEthernet
// registry) into the DataplaneConfig handed to the datapath: one entry per bound vEthernet
// with every setting in force (interface overrides, its profile, the profiles that one
// inherits, defaults) and the SPAN sessions. A port fails closed with a reason when its
// profile is disabled or shut, the interface is shut, a VLAN it needs is not defined or
// not allowed, or a filter or policy-map it names cannot be resolved.
#pragma once

#include "vsm/dataplane.h"
#include "vsm/model.h"
#include "vsm/veth_registry.h"

namespace vfs::vsm {

ResolvedVeth resolve_veth(const SwitchModel& model, const VethRecord& record);
DataplaneConfig resolve_dataplane_config(const SwitchModel& model, const VethRegistry& registry);
// Field by field, every field: false means the datapath must be given the new one.
bool same_dataplane_config(const DataplaneConfig& a, const DataplaneConfig& b);

}  // namespace vfs::vsm
