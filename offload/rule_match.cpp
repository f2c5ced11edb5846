#include "offload/rule_match.h"

#include <algorithm>

namespace vfs::offload {
namespace {

constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17, kProtoIcmp6 = 58;

bool masked_equal(const uint8_t* a, const uint8_t* b, const uint8_t* mask, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if ((a[i] & mask[i]) != (b[i] & mask[i])) return false;
  return true;
}

bool mac_matches(const Mac& want, const std::optional<Mac>& mask, const Mac& have) {
  const Mac full{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  return masked_equal(want.data(), have.data(), mask ? mask->data() : full.data(), 6);
}

bool u16_matches(const U16Match& m, uint16_t v) { return (v & m.mask) == (m.value & m.mask); }

// The type field after `skip` tags: a TPID while tags remain, then the EtherType.
uint16_t type_after(const PacketFields& p, size_t skip) {
  return skip < p.tags.size() ? p.tags[skip].tpid : p.ether_type;
}

}  // namespace

bool rule_matches(const RuleMatch& m, const PacketFields& p) {
  if (m.in_port && *m.in_port != p.in_port) return false;
  if (m.eth_src && !mac_matches(*m.eth_src, m.eth_src_mask, p.eth_src)) return false;
  if (m.eth_dst && !mac_matches(*m.eth_dst, m.eth_dst_mask, p.eth_dst)) return false;
  if (m.has_vlan && *m.has_vlan != !p.tags.empty()) return false;
  const bool vlan_item = m.tagged || m.tpid || m.vlan_vid || m.more_vlan;
  // The NIC walks at most kMaxParsedTags tags; past them the "EtherType" is the next TPID.
  const size_t walked = std::min(p.tags.size(), kMaxParsedTags);
  if (m.ether_type && !vlan_item && type_after(p, 0) != *m.ether_type) return false;
  if (vlan_item) {
    if (p.tags.empty()) return false;
    if (m.tpid && p.tags[0].tpid != *m.tpid) return false;
    if (m.vlan_vid && (p.tags[0].tci & 0x0fff) != (*m.vlan_vid & 0x0fff)) return false;
    if (m.more_vlan && *m.more_vlan != (walked > 1)) return false;
    if (m.ether_type && type_after(p, 1) != *m.ether_type) return false;
  }

  const uint16_t l3_type = type_after(p, walked);
  const bool ipv4 = l3_type == kEtherTypeIpv4, ipv6 = l3_type == kEtherTypeIpv6;
  if (m.l3) {
    if (m.l3 == 4 ? !ipv4 : !ipv6) return false;
    if (vlan_item && walked != 1) return false;
    const size_t n = m.l3 == 6 ? 16 : 4;
    if (m.ip_src && !masked_equal(m.ip_src->addr.data(), p.ip_src.data(), m.ip_src->mask.data(), n))
      return false;
    if (m.ip_dst && !masked_equal(m.ip_dst->addr.data(), p.ip_dst.data(), m.ip_dst->mask.data(), n))
      return false;
    if (m.ip_proto && *m.ip_proto != p.ip_proto) return false;
  }

  if (!m.has_l4()) return true;
  const bool l4_there = ipv6 || (ipv4 && !p.later_fragment);
  if (!l4_there) return false;
  if (m.icmp_type || m.icmp_code) {
    const bool v6 = m.l3 == 6;
    if (v6 ? !ipv6 : !ipv4) return false;
    if (p.ip_proto != (v6 ? kProtoIcmp6 : kProtoIcmp)) return false;
    if (m.icmp_type && *m.icmp_type != p.icmp_type) return false;
    if (m.icmp_code && *m.icmp_code != p.icmp_code) return false;
    return true;
  }
  if (p.ip_proto != (m.ip_proto == kProtoUdp ? kProtoUdp : kProtoTcp)) return false;
  if (m.l4_src && !u16_matches(*m.l4_src, p.l4_src)) return false;
  if (m.l4_dst && !u16_matches(*m.l4_dst, p.l4_dst)) return false;
  if (m.tcp_flags && (p.tcp_flags & m.tcp_flags->mask) != (m.tcp_flags->value & m.tcp_flags->mask))
    return false;
  return true;
}

void apply_vlan_edit(const RuleAction& a, PacketFields& p) {
  switch (a.kind) {
    case ActionKind::push_vlan:
      p.tags.insert(p.tags.begin(), VlanTag{static_cast<uint16_t>(a.arg), 0});
      break;
    case ActionKind::set_vlan_vid:
      if (!p.tags.empty())
        p.tags[0].tci = static_cast<uint16_t>((p.tags[0].tci & 0xf000) | (a.arg & 0x0fff));
      break;
    case ActionKind::pop_vlan:
      if (!p.tags.empty()) p.tags.erase(p.tags.begin());
      break;
    default:
      break;
  }
}

void apply_vlan_edits(const ActionList& actions, PacketFields& p) {
  for (const auto& a : actions) apply_vlan_edit(a, p);
}

}  // namespace vfs::offload
