#include "offload/frame_layout.h"

namespace vfs::offload {
namespace {
constexpr uint32_t kEthLen = 14;

uint32_t l4_header_len(uint8_t proto) {
  switch (proto) {
    case 6:
      return 20;  // TCP
    case 17:
      return 8;  // UDP
    case 1:
      return 8;  // ICMP
    case 58:
      return 4;  // ICMPv6
    default:
      return 0;  // not an L4 the policy matches on
  }
}
}  // namespace

FrameLayout frame_layout(const uint8_t* p, uint32_t len) {
  FrameLayout l;
  if (len < kEthLen) return l;
  l.eth = true;
  uint32_t type_off = 12;
  uint16_t type = be16(p + type_off);
  while (is_tpid(type) && l.n_tags < kMaxLayoutTags && len >= type_off + 6) {
    if (l.n_tags == 0) {
      l.tpid0 = type;
      l.vid0 = be16(p + type_off + 2) & 0x0fff;
    }
    ++l.n_tags;
    type_off += 4;
    type = be16(p + type_off);
  }
  l.ether_type = type;
  l.l3_off = static_cast<uint16_t>(type_off + 2);
  const uint8_t* ip = p + l.l3_off;
  if (type == kEtherIpv4 && len >= l.l3_off + 20u && (ip[0] >> 4) == 4 && (ip[0] & 0xf) >= 5) {
    l.ip = true;
    l.ip_proto = ip[9];
    l.l4_off = static_cast<uint16_t>(l.l3_off + (ip[0] & 0xf) * 4);
    const bool first_fragment = (be16(ip + 6) & 0x1fff) == 0;
    const uint32_t need = l4_header_len(l.ip_proto);
    l.l4 = first_fragment && need > 0 && len >= l.l4_off + need;
  } else if (type == kEtherIpv6 && len >= l.l3_off + 40u && (ip[0] >> 4) == 6) {
    l.ip = true;
    l.v6 = true;
    l.ip_proto = ip[6];
    l.l4_off = static_cast<uint16_t>(l.l3_off + 40);
    const uint32_t need = l4_header_len(l.ip_proto);
    l.l4 = need > 0 && len >= l.l4_off + need;
  }
  return l;
}

}  // namespace vfs::offload
