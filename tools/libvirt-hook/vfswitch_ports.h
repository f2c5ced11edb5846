// tools/libvirt-hook/vfswitch_ports.h owns deciding which of a domain's interfaces are
// vfswitch's, on which VF, with which port-profile. Pure: the facts (the PF's VFs from
// sysfs, the sim's wire names) come in a VfDirectory.
//
// An interface is vfswitch's when its device is a VF of this host's eSwitch:
//   - type 'hostdev' (or any type) with <source><address type='pci'> = a VF of the
//     configured PF (its /sys/class/net/<pf>/device/virtfn<N> links; N is the VF index);
//   - type 'ethernet' (or any type) with <target dev='<sim-name>vf<N>'> (a sim VF wire,
//     or the tap device of that name a QEMU guest uses on the sim).
// Its profile comes from:
//   - <virtualport type='802.1Qbh'><parameters profileid='P'/> (also what libvirt merges
//     in from a network portgroup that carries such a virtualport), and/or
//   - vfswitch metadata for its MAC (domain_xml.h) — the two must agree;
//   - failing both, <source network='N' portgroup='P'/> with N a vfswitch network (config
//     `network`): the portgroup's name is the profile's name. The hook cannot ask libvirt
//     for the network's XML (that deadlocks libvirtd), so a portgroup without its own
//     virtualport is named after the profile it stands for.
// Fail closed: an interface whose device is ours but names no profile, or that claims
// vfswitch (metadata for its MAC, a vfswitch network) on a device that is not ours, is an
// error; so are two interfaces on one VF.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "tools/libvirt-hook/domain_xml.h"
#include "tools/libvirt-hook/hook_config.h"

namespace vfs::tools::libvirt {

struct VfDirectory {
  std::string pf;                      // "" = no PF configured
  std::map<std::string, int> pci_vfs;  // "0000:03:10.1" -> VF index
  std::string pf_unavailable;          // why pci_vfs could not be read, "" if it was
  std::string sim_name;                // "" = no sim wires
};

// The PF's VFs from <sysfs_root>/class/net/<pf>/device/virtfn*; a missing PF or one
// without SR-IOV gives an empty map and the reason in pf_unavailable.
VfDirectory read_vf_directory(const HookConfig& config);

// The VF index of wire `dev` ("<sim_name>vf<N>"), or nullopt.
std::optional<int> sim_wire_vf(const std::string& sim_name, const std::string& dev);

struct VfswitchPort {
  int position = 0;  // of the <interface>
  std::string mac;   // "" if the XML gave none
  int vf = -1;
  std::string device;  // "VF 0000:03:10.1" or "wire vfsvf2", for messages
  std::string profile;
  std::string
      profile_source;  // "802.1Qbh profileid", "vfswitch metadata", "portgroup of network N"
};

enum class PortCheck {
  strict,        // to attach: every rule above, the first violation refuses them all
  devices_only,  // to detach: the interfaces on our VFs, profiles and claims not checked
};

// The domain's vfswitch interfaces in XML order, or the first reason to refuse them all.
Result<std::vector<VfswitchPort>> vfswitch_ports(const DomainXml& domain, const HookConfig& config,
                                                 const VfDirectory& vfs,
                                                 PortCheck check = PortCheck::strict);

}  // namespace vfs::tools::libvirt
