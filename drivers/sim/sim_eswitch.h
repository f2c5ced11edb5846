// drivers/sim/sim_eswitch.h owns the entry points of the simulated eSwitch
// (`vfswitchd --driver sim`): a software switchdev NIC whose VFs and uplink are veth
// wires (or, for VFs that QEMU guests use, tap devices), whose representors are DPDK ring
// ethdevs, whose rule table interprets the rte_flow transfer rules it is given
// (drivers/sim/sim_flow_table.h), and whose VF ports enforce the VfAdmin knobs
// (drivers/sim/sim_vf_admin.h). docs/sim.md describes what it models.
//
// Semantics, as on hardware: a frame from wire i that matches no rule arrives on
// representor i; a frame sent on representor i leaves on wire i. Wires outlive the
// daemon; remove_sim_wires() deletes them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "drivers/eswitch.h"
#include "drivers/sim/sim_stats.h"

namespace vfs::drivers {

// Opens the sim named opt.sim_name with opt.sim_vfs VFs: adopts or creates its wires
// (taps for opt.sim_tap_vfs) and creates the representor ethdevs (ports() is valid on
// return; start() starts traffic). Uses opt.sim_capacity, opt.sim_unsupported,
// opt.sim_insert_latency_us, opt.sim_fail_rate / sim_fail_errno and opt.pool (required).
// EAL must be initialised. On failure nothing is left behind except adopted wires.
Result<std::unique_ptr<ESwitch>> make_sim_eswitch(const ESwitchOptions& opt);

// Deletes the wires of sim `sim_name` (VFs 0..vfs-1 and the uplink, plus any other
// switch end or tap carrying its alias), veth or tap. Absent wires are fine; an interface with one
// of the names that is not ours is left alone and reported.
Result<void> remove_sim_wires(const std::string& sim_name, int vfs);

// A sim name is 1..8 characters of [a-z0-9], so that "<name>vf<i>s" fits IFNAMSIZ.
Result<void> validate_sim_name(const std::string& sim_name);

// ESwitchOptions::sim_tap_vfs from its text form: "" (none), "all", or VF indexes
// separated by commas ("0,2,5"). Ranges are checked when the sim opens.
Result<std::vector<int>> parse_sim_tap_vfs(std::string_view text);

// The sim's datapath counters (drivers/sim/sim_stats.h), for an ESwitch made by
// make_sim_eswitch; an empty snapshot for any other ESwitch.
sim::SimStats sim_stats(const ESwitch& eswitch);

}  // namespace vfs::drivers
