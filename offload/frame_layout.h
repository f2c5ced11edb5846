// offload/frame_layout.h owns how vfswitch's policy sees a frame: where its VLAN tags, L3
// and L4 headers are, by the rules a switchdev NIC's parser follows for rte_flow items
// (drivers/sim/sim_flow_table.h "Matching semantics"). The slow path decides with this
// view and the rule compiler writes rules that match by it, so a frame gets the same
// verdict whichever of the two handles it — oddities included: a truncated IP header is
// not IP, a non-first fragment has no L4 header, IPv6 extension headers are not walked.
// Pure, allocation-free, reads only inside [p, p + len).
#pragma once

#include <array>
#include <cstdint>

namespace vfs::offload {

inline constexpr uint16_t kEtherIpv4 = 0x0800;
inline constexpr uint16_t kEtherArp = 0x0806;
inline constexpr uint16_t kEtherIpv6 = 0x86dd;
inline constexpr uint16_t kTpidC = 0x8100;
inline constexpr uint16_t kTpidS = 0x88a8;
inline constexpr uint16_t kTpidQinQ = 0x9100;
inline constexpr unsigned kMaxLayoutTags = 4;

inline bool is_tpid(uint16_t t) { return t == kTpidC || t == kTpidS || t == kTpidQinQ; }

struct FrameLayout {
  bool eth = false;         // a whole Ethernet header (14 bytes)
  uint8_t n_tags = 0;       // VLAN tags after the MAC addresses (0-4)
  uint16_t tpid0 = 0;       // the first tag's TPID
  uint16_t vid0 = 0;        // the first tag's VID
  uint16_t ether_type = 0;  // the EtherType after the tags
  uint16_t l3_off = 0;
  bool ip = false;  // whole IPv4 (version 4, IHL >= 5) or IPv6 fixed header
  bool v6 = false;
  uint8_t ip_proto = 0;  // IPv4 protocol / IPv6 next header (not past extensions)
  bool l4 = false;       // whole fixed TCP/UDP/ICMP/ICMPv6 header of the first fragment
  uint16_t l4_off = 0;
};

FrameLayout frame_layout(const uint8_t* p, uint32_t len);

inline uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

}  // namespace vfs::offload
