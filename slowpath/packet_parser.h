// slowpath/packet_parser.h owns decoding the headers of one frame for the slow path:
// Ethernet, up to two VLAN tags, ARP (Ethernet/IPv4), IPv4, IPv6 with its common extension
// headers, and the start of TCP / UDP / ICMP / ICMPv6. parse_packet reads only inside
// [data, data + len), allocates nothing, throws nothing, and names every refusal with a
// ParseStatus, declared once in kParseStatuses, that the slow path counts per reason.
//
// What it checks is what the slow path and the rule compiler rely on (lengths, versions,
// header chains); it does not verify checksums, and it leaves policy (which VLANs, which
// ARP senders) to its callers. Bytes after the IP packet's own length (Ethernet padding)
// are ignored.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "slowpath/mac_address.h"

namespace vfs::slowpath {

enum class ParseStatus : uint8_t {
  ok,
  truncated_ethernet,
  truncated_vlan,
  too_many_tags,
  truncated_arp,
  bad_arp,
  truncated_ipv4,
  bad_ipv4_header,
  truncated_ipv6,
  bad_ipv6_header,
  bad_ipv6_ext,
  truncated_l4,
  bad_tcp_header,
  count_
};

inline constexpr size_t kParseStatusCount = static_cast<size_t>(ParseStatus::count_);

struct ParseStatusInfo {
  ParseStatus status;
  const char* name;
  const char* description;
};

inline constexpr std::array<ParseStatusInfo, kParseStatusCount> kParseStatuses = {{
    {ParseStatus::ok, "ok", "frame parsed"},
    {ParseStatus::truncated_ethernet, "truncated_ethernet",
     "frame shorter than the 14-byte Ethernet header"},
    {ParseStatus::truncated_vlan, "truncated_vlan", "frame ends inside a VLAN tag"},
    {ParseStatus::too_many_tags, "too_many_tags", "more than two VLAN tags (0x8100 / 0x88a8)"},
    {ParseStatus::truncated_arp, "truncated_arp", "frame ends inside the ARP message"},
    {ParseStatus::bad_arp, "bad_arp", "ARP that is not an Ethernet/IPv4 request or reply"},
    {ParseStatus::truncated_ipv4, "truncated_ipv4",
     "frame ends before the IPv4 header or its total length"},
    {ParseStatus::bad_ipv4_header, "bad_ipv4_header",
     "IPv4 version, header length, total length or fragment offset is inconsistent"},
    {ParseStatus::truncated_ipv6, "truncated_ipv6",
     "frame ends before the IPv6 header or its payload length"},
    {ParseStatus::bad_ipv6_header, "bad_ipv6_header", "IPv6 version field is not 6"},
    {ParseStatus::bad_ipv6_ext, "bad_ipv6_ext",
     "IPv6 extension headers run past the payload, repeat, are misplaced or too many"},
    {ParseStatus::truncated_l4, "truncated_l4",
     "IP payload ends inside the TCP, UDP, ICMP or ICMPv6 header"},
    {ParseStatus::bad_tcp_header, "bad_tcp_header", "TCP data offset below 5 words"},
}};

constexpr bool parse_statuses_in_enum_order() {
  for (size_t i = 0; i < kParseStatusCount; ++i)
    if (static_cast<size_t>(kParseStatuses[i].status) != i) return false;
  return true;
}
static_assert(parse_statuses_in_enum_order(), "kParseStatuses must list ParseStatus in order");

// "ok", "truncated_vlan", ...; "invalid" for a value outside the enum.
const char* parse_status_name(ParseStatus s);
const char* parse_status_description(ParseStatus s);

inline constexpr uint16_t kTpidCvlan = 0x8100;  // 802.1Q
inline constexpr uint16_t kTpidSvlan = 0x88a8;  // 802.1ad outer tag
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86dd;

inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;
inline constexpr uint8_t kIpProtoNoNext = 59;  // IPv6 "no next header"
// The TCP flags ACL `established` reads (ACK, RST): the only ones a verdict depends on.
inline constexpr uint8_t kTcpFlagsEstablished = 0x10 | 0x04;

enum class L3Kind : uint8_t { none, arp, ipv4, ipv6, other };
enum class L4Kind : uint8_t { none, tcp, udp, icmp, icmpv6, other };

struct VlanTag {
  uint16_t tpid;  // kTpidCvlan or kTpidSvlan
  uint16_t vid;   // 0..4095; 0 = priority tag
  uint8_t pcp;
  bool dei;
};

// Every multi-byte number is in host order except IP addresses, which stay in network
// order as on the wire (and in rte_flow items). Offsets count from the frame's first byte.
// After a failed parse, only the fields of the layers before the failing one are set.
struct ParsedPacket {
  // Ethernet
  uint8_t dst[kMacLen];
  uint8_t src[kMacLen];
  uint8_t vlan_count;  // 0..2
  VlanTag vlans[2];    // vlans[0] is the outermost
  uint16_t ethertype;  // after the tags

  // L3
  L3Kind l3;           // other: an ethertype this parser does not decode (l3 not checked)
  uint32_t l3_offset;  // first byte after the Ethernet header and tags
  uint32_t l3_end;     // one past the IP packet or ARP message (padding starts there);
                       // the frame's length for l3 other

  // IPv4 / IPv6
  uint32_t ipv4_src;  // network order
  uint32_t ipv4_dst;
  uint8_t ipv6_src[16];
  uint8_t ipv6_dst[16];
  uint8_t ip_proto;  // IPv4 protocol, or IPv6 next header after the extension headers
  uint8_t ip_ttl;    // IPv6 hop limit
  uint8_t ip_tos;    // IPv6 traffic class
  bool ip_fragment;  // part of a fragmented datagram (an IPv6 atomic fragment is not)
  bool ip_more_fragments;
  uint16_t ip_fragment_offset_bytes;  // nonzero: not the first fragment, so no L4 header

  // L4 (l4 == none for non-first fragments, IPv6 "no next header", ARP and non-IP)
  L4Kind l4;
  uint32_t l4_offset;
  uint16_t src_port;  // TCP / UDP
  uint16_t dst_port;
  uint8_t tcp_flags;  // CWR ECE URG ACK PSH RST SYN FIN, bit 0 = FIN
  uint8_t icmp_type;  // ICMP / ICMPv6
  uint8_t icmp_code;

  // ARP (Ethernet/IPv4, request or reply)
  uint16_t arp_op;  // 1 request, 2 reply
  uint8_t arp_sender_mac[kMacLen];
  uint32_t arp_sender_ip;  // network order
  uint8_t arp_target_mac[kMacLen];
  uint32_t arp_target_ip;
};

inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;

// Decodes the frame in [data, data + len) into *out (always fully overwritten).
ParseStatus parse_packet(const uint8_t* data, uint32_t len, ParsedPacket* out) noexcept;

}  // namespace vfs::slowpath
