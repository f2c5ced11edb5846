// vsm/dataplane_config.h owns the resolution of the supervisor's state (model + vEthernet
// registry) into the DataplaneConfig handed to the datapath: one entry per bound vEthernet
// with its effective mode and VLAN, failing closed with a reason when its profile is
// disabled or shut, the interface is shut, or the access VLAN is not defined.
#pragma once

#include "vsm/dataplane.h"
#include "vsm/model.h"
#include "vsm/veth_registry.h"

namespace vfs::vsm {

ResolvedVeth resolve_veth(const SwitchModel& model, const VethRecord& record);
DataplaneConfig resolve_dataplane_config(const SwitchModel& model, const VethRegistry& registry);
bool same_dataplane_config(const DataplaneConfig& a, const DataplaneConfig& b);

}  // namespace vfs::vsm
