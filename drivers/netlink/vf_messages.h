// drivers/netlink/vf_messages.h owns the rtnetlink messages of VF administration, built
// and parsed apart from any socket so that tests compare them byte for byte with what
// iproute2 sends (tests/data/netlink/). Each setter is what `ip link set DEV vf N ...`
// sends for one knob: RTM_NEWLINK, NLM_F_REQUEST|NLM_F_ACK, the PF's ifindex in the
// ifinfomsg, and IFLA_VFINFO_LIST > IFLA_VF_INFO > one IFLA_VF_* attribute. Seq and port
// are left 0; the socket fills them when sending.
//
// Builders take values already checked (drivers/vf_admin.h check_vf_*); parsers take
// untrusted bytes and never read outside them.
#pragma once

#include <string_view>
#include <vector>

#include "base/result.h"
#include "drivers/netlink/nl_message.h"
#include "drivers/vf_admin.h"

namespace vfs::drivers::netlink {

// ip link set DEV vf N mac XX:XX:XX:XX:XX:XX
NlMsg build_set_vf_mac(int ifindex, int vf, const VfMac& mac);
// ip link set DEV vf N vlan V qos Q [proto 802.1ad]. 802.1Q goes as IFLA_VF_VLAN (what
// every PF driver understands), 802.1ad as IFLA_VF_VLAN_LIST > IFLA_VF_VLAN_INFO.
NlMsg build_set_vf_vlan(int ifindex, int vf, const VfVlan& vlan);
// ip link set DEV vf N min_tx_rate MIN max_tx_rate MAX
NlMsg build_set_vf_rate(int ifindex, int vf, const VfRate& rate);
// ip link set DEV vf N spoofchk on|off
NlMsg build_set_vf_spoofchk(int ifindex, int vf, bool on);
// ip link set DEV vf N trust on|off
NlMsg build_set_vf_trust(int ifindex, int vf, bool on);
// ip link set DEV vf N state auto|enable|disable
NlMsg build_set_vf_link_state(int ifindex, int vf, VfLinkState state);

// ip -s link show dev DEV: RTM_GETLINK by name asking for VF info and statistics
// (IFLA_EXT_MASK = RTEXT_FILTER_VF). The answer is one RTM_NEWLINK.
NlMsg build_get_link(std::string_view ifname);

struct LinkVfs {
  int ifindex = 0;
  int num_vf = 0;  // IFLA_NUM_VF; absent (a device without SR-IOV) = 0
  std::vector<VfInfo> vfs;
};

// Parses the RTM_NEWLINK answering build_get_link. `who` names the PF in errors (EPROTO
// for anything malformed).
Result<LinkVfs> parse_link_vfs(const std::vector<uint8_t>& message, std::string_view who);

}  // namespace vfs::drivers::netlink
