// slowpath/daemon/policy_snapshot_builder.h owns the translation from the supervisor's
// terms (vEthernets by VF index) to the datapath's (ports by representor ethdev id). A VF
// with no vEthernet stays unbound: the slow path drops its frames (fail closed).
#pragma once

#include <vector>

#include "base/result.h"
#include "drivers/eswitch.h"
#include "offload/policy.h"
#include "vsm/dataplane.h"

namespace vfs::daemon {

Result<offload::PolicySnapshot> build_policy_snapshot(const std::vector<drivers::PortInfo>& ports,
                                                      const vsm::DataplaneConfig& cfg,
                                                      uint64_t generation);

}  // namespace vfs::daemon
