#include "slowpath/flow_template.h"

#include <algorithm>
#include <cstring>

#include "slowpath/packet_parser.h"

namespace vfs::slowpath {
bool FlowTemplate::build(const offload::FrameLayout& l, const uint8_t* p, uint32_t len) {
  words_ = 0;
  if (!l.eth) return false;
  // Where what the policy reads ends: frame_layout reads the tags and the fixed IP header,
  // the ACLs the L4 ports (and TCP flags) or the ICMP type and code.
  uint32_t end = l.l3_off;
  if (l.ip) end = l.l3_off + (l.v6 ? 40u : 20u);
  if (l.l4) {
    const uint32_t reads = l.ip_proto == kIpProtoTcp ? 14 : l.ip_proto == kIpProtoUdp ? 4 : 2;
    end = std::max<uint32_t>(end, l.l4_off + reads);
  }
  const unsigned words = (end + 7) / 8;
  if (words > kMaxWords || words * 8 > len) return false;
  // Word by word (a byte array filled and copied cost more than the rest of the leader's
  // decision): every byte up to end, then the bytes the policy never reads cleared.
  for (unsigned i = 0; i < words; ++i) mask_[i] = ~uint64_t{0};
  auto* m = reinterpret_cast<uint8_t*>(mask_.data());
  std::memset(m + end, 0, words * 8 - end);
  if (l.ip && !l.v6) {
    const uint32_t ip = l.l3_off;
    m[ip + 4] = m[ip + 5] = 0;    // identification
    m[ip + 8] = 0;                // TTL
    m[ip + 10] = m[ip + 11] = 0;  // header checksum
  } else if (l.ip) {
    m[l.l3_off + 7] = 0;  // hop limit
  }
  if (l.l4 && l.ip_proto == kIpProtoTcp) {
    std::memset(m + l.l4_off + 4, 0, 8);      // seq, ack
    m[l.l4_off + 13] = kTcpFlagsEstablished;  // what `established` reads of the flags
  }
  for (unsigned i = 0; i < words; ++i) {
    uint64_t w;
    std::memcpy(&w, p + 8 * i, sizeof w);
    bytes_[i] = w & mask_[i];
  }
  len_ = len;
  words_ = words;
  return true;
}

}  // namespace vfs::slowpath
