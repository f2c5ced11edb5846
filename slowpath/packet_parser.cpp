#include "slowpath/packet_parser.h"

#include <cstring>

namespace vfs::slowpath {
namespace {

constexpr uint32_t kEthHeaderLen = 14;
constexpr uint32_t kVlanTagLen = 4;
constexpr uint32_t kArpFixedLen = 8;  // htype, ptype, hlen, plen, op
constexpr uint32_t kArpEthIpv4Len = 28;
constexpr uint32_t kIpv4MinHeaderLen = 20;
constexpr uint32_t kIpv6HeaderLen = 40;
constexpr uint32_t kTcpMinHeaderLen = 20;
constexpr uint32_t kUdpHeaderLen = 8;
constexpr uint32_t kIcmpMinLen = 4;  // type, code, checksum
constexpr uint32_t kIpv6ExtMinLen = 8;
constexpr uint32_t kMaxIpDatagram = 65535;

constexpr uint8_t kIpv6HopByHop = 0;
constexpr uint8_t kIpv6Routing = 43;
constexpr uint8_t kIpv6Fragment = 44;
constexpr uint8_t kIpv6DestOptions = 60;
// A real chain has at most hop-by-hop, two destination options, routing and fragment;
// a longer one is an attempt to push the L4 header out of reach of hardware parsers.
constexpr int kMaxIpv6ExtHeaders = 8;

uint16_t read16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

uint32_t read32_net(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// L4 header at [off, end); end is the IP packet's end, never beyond the frame.
ParseStatus parse_l4(const uint8_t* d, uint32_t off, uint32_t end, bool ipv6, ParsedPacket* out) {
  const uint32_t avail = end - off;
  out->l4_offset = off;
  switch (out->ip_proto) {
    case kIpProtoTcp: {
      out->l4 = L4Kind::tcp;
      if (avail < kTcpMinHeaderLen) return ParseStatus::truncated_l4;
      const uint32_t data_offset = d[off + 12] >> 4;
      if (data_offset < 5) return ParseStatus::bad_tcp_header;
      if (data_offset * 4 > avail) return ParseStatus::truncated_l4;
      out->src_port = read16(d + off);
      out->dst_port = read16(d + off + 2);
      out->tcp_flags = d[off + 13];
      return ParseStatus::ok;
    }
    case kIpProtoUdp:
      // The UDP length field is not checked against the IP length: a first fragment
      // legitimately carries only part of the datagram it announces.
      out->l4 = L4Kind::udp;
      if (avail < kUdpHeaderLen) return ParseStatus::truncated_l4;
      out->src_port = read16(d + off);
      out->dst_port = read16(d + off + 2);
      return ParseStatus::ok;
    case kIpProtoIcmp:
    case kIpProtoIcmpv6:
      // ICMP inside IPv6 (and ICMPv6 inside IPv4) is not a protocol anyone speaks.
      if (ipv6 != (out->ip_proto == kIpProtoIcmpv6)) break;
      out->l4 = ipv6 ? L4Kind::icmpv6 : L4Kind::icmp;
      if (avail < kIcmpMinLen) return ParseStatus::truncated_l4;
      out->icmp_type = d[off];
      out->icmp_code = d[off + 1];
      return ParseStatus::ok;
    default:
      break;
  }
  out->l4 = L4Kind::other;
  return ParseStatus::ok;
}

ParseStatus parse_arp(const uint8_t* d, uint32_t len, uint32_t off, ParsedPacket* out) {
  out->l3 = L3Kind::arp;
  if (len - off < kArpFixedLen) return ParseStatus::truncated_arp;
  const uint16_t htype = read16(d + off), ptype = read16(d + off + 2);
  const uint8_t hlen = d[off + 4], plen = d[off + 5];
  if (htype != 1 || ptype != kEtherTypeIpv4 || hlen != 6 || plen != 4) return ParseStatus::bad_arp;
  if (len - off < kArpEthIpv4Len) return ParseStatus::truncated_arp;
  const uint16_t op = read16(d + off + 6);
  if (op != 1 && op != 2) return ParseStatus::bad_arp;
  out->arp_op = op;
  std::memcpy(out->arp_sender_mac, d + off + 8, kMacLen);
  out->arp_sender_ip = read32_net(d + off + 14);
  std::memcpy(out->arp_target_mac, d + off + 18, kMacLen);
  out->arp_target_ip = read32_net(d + off + 24);
  out->l3_end = off + kArpEthIpv4Len;
  return ParseStatus::ok;
}

ParseStatus parse_ipv4(const uint8_t* d, uint32_t len, uint32_t off, ParsedPacket* out) {
  out->l3 = L3Kind::ipv4;
  if (len - off < kIpv4MinHeaderLen) return ParseStatus::truncated_ipv4;
  const uint8_t* h = d + off;
  if ((h[0] >> 4) != 4) return ParseStatus::bad_ipv4_header;
  const uint32_t ihl = (h[0] & 0x0fu) * 4;
  const uint32_t total = read16(h + 2);
  if (ihl < kIpv4MinHeaderLen || total < ihl) return ParseStatus::bad_ipv4_header;
  if (len - off < total) return ParseStatus::truncated_ipv4;

  const uint16_t frag = read16(h + 6);
  const uint32_t frag_offset = (frag & 0x1fffu) * 8;
  // A fragment reaching past 64 KiB cannot be reassembled ("ping of death").
  if (frag_offset + (total - ihl) > kMaxIpDatagram) return ParseStatus::bad_ipv4_header;

  out->l3_end = off + total;
  out->ip_tos = h[1];
  out->ip_ttl = h[8];
  out->ip_proto = h[9];
  out->ipv4_src = read32_net(h + 12);
  out->ipv4_dst = read32_net(h + 16);
  out->ip_more_fragments = (frag & 0x2000) != 0;
  out->ip_fragment_offset_bytes = static_cast<uint16_t>(frag_offset);
  out->ip_fragment = out->ip_more_fragments || frag_offset != 0;
  if (frag_offset != 0) return ParseStatus::ok;  // the L4 header is in the first fragment
  return parse_l4(d, off + ihl, out->l3_end, false, out);
}

ParseStatus parse_ipv6(const uint8_t* d, uint32_t len, uint32_t off, ParsedPacket* out) {
  out->l3 = L3Kind::ipv6;
  if (len - off < kIpv6HeaderLen) return ParseStatus::truncated_ipv6;
  const uint8_t* h = d + off;
  if ((h[0] >> 4) != 6) return ParseStatus::bad_ipv6_header;
  const uint32_t payload = read16(h + 4);
  if (len - off - kIpv6HeaderLen < payload) return ParseStatus::truncated_ipv6;

  const uint32_t end = off + kIpv6HeaderLen + payload;
  out->l3_end = end;
  out->ip_tos = static_cast<uint8_t>((h[0] & 0x0f) << 4 | h[1] >> 4);
  out->ip_ttl = h[7];
  std::memcpy(out->ipv6_src, h + 8, 16);
  std::memcpy(out->ipv6_dst, h + 24, 16);

  uint8_t next = h[6];
  uint32_t cur = off + kIpv6HeaderLen;
  bool seen_fragment = false;
  for (int n = 0;; ++n) {
    switch (next) {
      case kIpv6HopByHop:
      case kIpv6Routing:
      case kIpv6DestOptions: {
        // Hop-by-hop options may only come first (RFC 8200 section 4.1).
        if (next == kIpv6HopByHop && n != 0) return ParseStatus::bad_ipv6_ext;
        if (n >= kMaxIpv6ExtHeaders || end - cur < kIpv6ExtMinLen) return ParseStatus::bad_ipv6_ext;
        const uint32_t ext_len = (d[cur + 1] + 1u) * 8;
        if (end - cur < ext_len) return ParseStatus::bad_ipv6_ext;
        next = d[cur];
        cur += ext_len;
        continue;
      }
      case kIpv6Fragment: {
        if (n >= kMaxIpv6ExtHeaders || seen_fragment || end - cur < kIpv6ExtMinLen)
          return ParseStatus::bad_ipv6_ext;
        seen_fragment = true;
        const uint16_t fo = read16(d + cur + 2);
        const uint16_t frag_offset = fo & 0xfff8;  // 13-bit offset in 8-byte units, pre-shifted
        const bool more = (fo & 0x0001) != 0;
        if (frag_offset + (end - cur - kIpv6ExtMinLen) > kMaxIpDatagram)
          return ParseStatus::bad_ipv6_ext;
        // An atomic fragment (offset 0, no more) is a whole datagram (RFC 6946).
        out->ip_fragment = more || frag_offset != 0;
        out->ip_more_fragments = more;
        out->ip_fragment_offset_bytes = frag_offset;
        next = d[cur];
        cur += kIpv6ExtMinLen;
        if (frag_offset != 0) {
          out->ip_proto = next;
          return ParseStatus::ok;
        }
        continue;
      }
      case kIpProtoNoNext:
        out->ip_proto = next;
        return ParseStatus::ok;
      default:
        out->ip_proto = next;
        return parse_l4(d, cur, end, true, out);
    }
  }
}

}  // namespace

const char* parse_status_name(ParseStatus s) {
  const auto i = static_cast<size_t>(s);
  return i < kParseStatusCount ? kParseStatuses[i].name : "invalid";
}

const char* parse_status_description(ParseStatus s) {
  const auto i = static_cast<size_t>(s);
  return i < kParseStatusCount ? kParseStatuses[i].description : "not a parse status";
}

ParseStatus parse_packet(const uint8_t* data, uint32_t len, ParsedPacket* out) noexcept {
  *out = ParsedPacket{};
  if (data == nullptr || len < kEthHeaderLen) return ParseStatus::truncated_ethernet;
  std::memcpy(out->dst, data, kMacLen);
  std::memcpy(out->src, data + kMacLen, kMacLen);

  uint16_t type = read16(data + 12);
  uint32_t off = kEthHeaderLen;
  while (type == kTpidCvlan || type == kTpidSvlan) {
    if (out->vlan_count == 2) return ParseStatus::too_many_tags;
    if (len - off < kVlanTagLen) return ParseStatus::truncated_vlan;
    const uint16_t tci = read16(data + off);
    out->vlans[out->vlan_count++] = VlanTag{type, static_cast<uint16_t>(tci & 0x0fff),
                                            static_cast<uint8_t>(tci >> 13), (tci & 0x1000) != 0};
    type = read16(data + off + 2);
    off += kVlanTagLen;
  }
  out->ethertype = type;
  out->l3_offset = off;
  out->l3_end = len;

  switch (type) {
    case kEtherTypeArp:
      return parse_arp(data, len, off, out);
    case kEtherTypeIpv4:
      return parse_ipv4(data, len, off, out);
    case kEtherTypeIpv6:
      return parse_ipv6(data, len, off, out);
    default:
      out->l3 = L3Kind::other;
      return ParseStatus::ok;
  }
}

}  // namespace vfs::slowpath
