// drivers/sim/sim_wires.h owns the sim's wires: one per port (uplink, VF i). A veth wire
// is a pair: the VM end ("<name>up", "<name>vf<i>") goes to a VM or a network namespace;
// the switch end (the same name + "s") is read by the sim. A tap wire (VFs only, for QEMU
// guests: <interface type='ethernet'><target dev='<name>vf<i>' managed='no'/>) is one
// persistent tap device: QEMU (through libvirtd, which opens it as root) holds its file
// side, the sim reads its host side. The interface the sim reads carries the ifalias
// "vfswitch-sim:<name>", so a restarted daemon adopts its wires, like VFs outliving the
// daemon on a real NIC, and never takes over an interface that is not its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace vfs::drivers::sim {

enum class WireKind : uint8_t { veth, tap };

struct Wire {
  std::string vm_end;
  std::string switch_end;  // a tap's is its own name: the sim reads its host side
  WireKind kind = WireKind::veth;
  bool created = false;  // made by this open_wires() (false: adopted)
};

std::string wire_alias(const std::string& sim_name);
// Uplink first, then VF 0..vfs-1; the VFs listed in tap_vfs (kSimAllVfs = all) are taps.
std::vector<Wire> wire_names(const std::string& sim_name, int vfs,
                             const std::vector<int>& tap_vfs = {});

// Checks a tap VF list against the VF count (EINVAL naming the bad entry).
Result<void> check_tap_vfs(const std::string& sim_name, int vfs, const std::vector<int>& tap_vfs);

// Adopts the wires that carry our alias and creates the missing ones (the interface the
// sim reads up with IPv6 off, every end without checksum/segmentation offloads, a veth's
// VM end up). If a name is taken by an interface that is not ours, or by a wire of ours
// of the other kind, fails naming it and creates nothing.
Result<std::vector<Wire>> open_wires(const std::string& sim_name, int vfs,
                                     const std::vector<int>& tap_vfs = {});

// Deletes the wires that open_wires() created (rollback of a failed start-up).
void delete_created_wires(const std::vector<Wire>& wires);

}  // namespace vfs::drivers::sim
