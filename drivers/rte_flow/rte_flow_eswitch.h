// drivers/rte_flow/rte_flow_eswitch.h owns the real-NIC driver's factory (`vfswitchd
// --driver rte_flow`): an eSwitch in switchdev mode whose PF and VF representors EAL has
// already probed (-a <PF>,representor=vf[0-N], without --no-pci), with transfer rules
// installed by rte_flow on the transfer proxy port.
//
// Ports are configured with one Rx and one Tx queue on opt.pool by the factory and
// started by start(). stop() removes every rule (fail closed: with the slow path gone,
// nothing may keep forwarding) and stops the ports; they stay configured, not closed.
#pragma once

#include <memory>

#include "base/result.h"
#include "drivers/eswitch.h"

namespace vfs::drivers {

// Errors (ENODEV when the NIC or its setup is missing) say what is missing and how to
// fix it; nothing is configured in that case.
Result<std::unique_ptr<ESwitch>> make_rte_flow_eswitch(const ESwitchOptions& opt);

}  // namespace vfs::drivers
