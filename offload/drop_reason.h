// offload/drop_reason.h declares every reason vfswitch drops a frame, once: the name the
// counters' JSON uses, and a description. The slow path counts its drops by reason, the
// rule compiler tags each dropping rule with one (so hardware and software counts merge
// per reason), and `show interface vethernet N counters detail` reads this table.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vfs::offload {

#define VFS_FOREACH_DROP_REASON(X)                                                        \
  X(malformed, "malformed", "frame too short or with a broken header")                    \
  X(no_policy, "no-policy", "arrived on a port with no vEthernet bound")                  \
  X(port_disabled, "port-disabled",                                                       \
    "the vEthernet fails closed (profile disabled, VLAN missing...)")                     \
  X(vlan, "vlan", "VLAN not admitted on this port (tag on an access port, unknown VLAN)") \
  X(acl, "acl", "denied by an access list (an entry or the implicit deny)")               \
  X(port_security, "port-security", "source MAC not allowed on this vEthernet")           \
  X(ip_source_guard, "ip-source-guard", "source IP not bound to this vEthernet")          \
  X(arp_nd_inspection, "arp-nd-inspection", "ARP or ND claims an address not bound here") \
  X(dhcp_snooping, "dhcp-snooping", "DHCP server message from a VM")                      \
  X(storm, "storm", "over the storm-control level")                                       \
  X(police, "police", "over the policer's rate")                                          \
  X(same_port, "same-port", "destination MAC lives on the port the frame came from")      \
  X(no_buffer, "no-buffer", "no mbuf left to copy a flooded frame")                       \
  X(tx_full, "tx-full", "the representor's transmit queue was full")

enum class DropReason : uint8_t {
#define VFS_DROP_ENUM(id, name, desc) id,
  VFS_FOREACH_DROP_REASON(VFS_DROP_ENUM)
#undef VFS_DROP_ENUM
      count_
};

constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::count_);

struct DropReasonInfo {
  const char* name;  // the counters' JSON key
  const char* description;
};

inline constexpr DropReasonInfo kDropReasons[] = {
#define VFS_DROP_INFO(id, name, desc) {name, desc},
    VFS_FOREACH_DROP_REASON(VFS_DROP_INFO)
#undef VFS_DROP_INFO
};

inline const char* drop_reason_name(DropReason r) {
  return r < DropReason::count_ ? kDropReasons[static_cast<size_t>(r)].name : "none";
}

}  // namespace vfs::offload
