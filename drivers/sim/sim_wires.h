// drivers/sim/sim_wires.h owns the sim's wires: one veth pair per port (uplink, VF i).
// The VM end ("<name>up", "<name>vf<i>") goes to a VM or a network namespace; the switch
// end (the same name + "s") is read by the sim. Switch ends carry the ifalias
// "vfswitch-sim:<name>", so a restarted daemon adopts its wires, like VFs outliving the
// daemon on a real NIC, and never takes over an interface that is not its own.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace vfs::drivers::sim {

struct Wire {
  std::string vm_end;
  std::string switch_end;
  bool created = false;  // made by this open_wires() (false: adopted)
};

std::string wire_alias(const std::string& sim_name);
// Uplink first, then VF 0..vfs-1.
std::vector<Wire> wire_names(const std::string& sim_name, int vfs);

// Adopts the wires that carry our alias and creates the missing ones (switch end up with
// IPv6 off, both ends without checksum/segmentation offloads, VM end up). If any name is
// taken by an interface that is not ours, fails naming it and creates nothing.
Result<std::vector<Wire>> open_wires(const std::string& sim_name, int vfs);

// Deletes the wires that open_wires() created (rollback of a failed start-up).
void delete_created_wires(const std::vector<Wire>& wires);

}  // namespace vfs::drivers::sim
