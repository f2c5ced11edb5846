// offload/rule_match.h owns the answer to "does this rule match this packet?" for a packet
// described by its fields rather than its bytes, and the VLAN edits a rule's actions make,
// so that a tool (vfsw-dump --explain) can follow a packet from table to table without a
// NIC. The semantics are those of drivers/sim/sim_flow_table.h ("Matching semantics"), for
// the patterns RteFlowRule (offload/rte_flow_rule.h) builds from a RuleMatch:
// - ETH src/dst compare under their masks; ETH type (no VLAN item) is the EtherType or
//   TPID right after the MAC addresses; has_vlan says whether any tag is there.
// - A VLAN item is the outermost tag: ETH type before it (tpid) its TPID, vid its VID,
//   has_more_vlan whether another tag follows, inner_type the EtherType (or TPID) after
//   it; an L3 item after a VLAN item needs exactly one tag.
// - Without a VLAN item (and without has_vlan 0) an L3 item matches after 0-4 tags.
// - L4 items (TCP, UDP by ip_proto; ICMP, ICMP6 by l3) need the L4 header: not in a later
//   IPv4 fragment; TCP/UDP without an L3 item match over IPv4 or IPv6.
// Pure and allocation-free when matching.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "offload/rule_spec.h"

namespace vfs::offload {

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
inline constexpr size_t kMaxParsedTags = 4;  // VLAN tags the NIC walks (sim: kMaxTags)

struct VlanTag {
  uint16_t tpid = 0x8100;
  uint16_t tci = 0;  // PCP, DEI, VID
  auto operator<=>(const VlanTag&) const = default;
};

// A packet as the eSwitch sees it when it enters a table.
struct PacketFields {
  uint16_t in_port = 0;  // the ethdev id of the port it entered the eSwitch on
  Mac eth_src{}, eth_dst{};
  std::vector<VlanTag> tags;  // outermost first
  uint16_t ether_type = 0;    // after the tags; IPv4 / IPv6 make the L3 fields valid
  std::array<uint8_t, 16> ip_src{}, ip_dst{};  // IPv4 in bytes 0-3
  uint8_t ip_proto = 0;
  bool later_fragment = false;      // an IPv4 fragment past the first: no L4 header
  uint16_t l4_src = 0, l4_dst = 0;  // TCP / UDP ports
  uint8_t tcp_flags = 0;            // CWR ECE URG ACK PSH RST SYN FIN (bit 0 = FIN)
  uint8_t icmp_type = 0, icmp_code = 0;

  auto operator<=>(const PacketFields&) const = default;
};

bool rule_matches(const RuleMatch& m, const PacketFields& p);

// The VLAN edits of one action (push_vlan: a tag with the TPID and TCI 0 in front;
// set_vlan_vid: the outermost tag's VID; pop_vlan: the outermost tag goes), as the sim
// applies them; other actions change nothing. Edits on an untagged packet that need a tag
// do nothing.
void apply_vlan_edit(const RuleAction& a, PacketFields& p);
void apply_vlan_edits(const ActionList& actions, PacketFields& p);

}  // namespace vfs::offload
