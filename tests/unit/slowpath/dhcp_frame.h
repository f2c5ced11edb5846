// tests/unit/slowpath/dhcp_frame.h owns building DHCPv4 messages and the frames that carry
// them for the DHCP snooping tests: a BOOTP header, the magic cookie, the options
// snooping reads (53 message type, 51 lease, 50 requested address) and END.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "frame_builder.h"

namespace vfs::test {

using Ip4 = std::array<uint8_t, 4>;

struct DhcpSpec {
  uint8_t type = 5;  // DHCPACK
  Ip4 ciaddr{}, yiaddr{};
  Mac chaddr{};
  std::optional<uint32_t> lease;
  std::optional<Ip4> requested;
  bool end = true;
};

inline std::vector<uint8_t> dhcp_message(const DhcpSpec& s) {
  const bool reply = s.type == 2 || s.type == 5 || s.type == 6;
  FrameBuilder b;
  b.u8(reply ? 2 : 1).u8(1).u8(6).u8(0).u32(0x12345678).u16(0).u16(0);
  b.bytes(s.ciaddr).bytes(s.yiaddr).u32(0).u32(0);   // ciaddr yiaddr siaddr giaddr
  b.bytes(s.chaddr).zeros(10).zeros(64).zeros(128);  // chaddr (16) sname file
  b.u8(0x63).u8(0x82).u8(0x53).u8(0x63);
  b.u8(53).u8(1).u8(s.type);
  if (s.lease) b.u8(51).u8(4).u32(*s.lease);
  if (s.requested) b.u8(50).u8(4).bytes(*s.requested);
  b.u8(54).u8(4).u32(0x0a0000fe);  // server identifier: read past, not used
  if (s.end) b.u8(255);
  return b.done(0);
}

inline uint32_t ip_u32(const Ip4& a) {
  return uint32_t{a[0]} << 24 | uint32_t{a[1]} << 16 | uint32_t{a[2]} << 8 | a[3];
}

// Ethernet (tagged with vid when given) / IPv4 / UDP sport -> dport / payload.
inline std::vector<uint8_t> udp_payload_frame(const Mac& dst, const Mac& src,
                                              std::optional<uint16_t> vid, uint32_t ip_src,
                                              uint32_t ip_dst, uint16_t sport, uint16_t dport,
                                              const std::vector<uint8_t>& payload) {
  FrameBuilder b;
  b.eth(dst, src);
  if (vid) b.tag(0x8100, *vid);
  b.type(0x0800).ipv4(17, ip_src, ip_dst);
  b.u16(sport).u16(dport).u16(uint16_t(8 + payload.size())).u16(0).bytes(payload);
  return b.close_ipv4().done();
}

// A server's reply from the uplink (tagged vid), to the client's MAC.
inline std::vector<uint8_t> server_reply(const Mac& server, uint16_t vid, const DhcpSpec& s) {
  return udp_payload_frame(s.chaddr, server, vid, 0x0a0000fe, ip_u32(s.yiaddr), 67, 68,
                           dhcp_message(s));
}

// A client's message from its vEthernet (untagged), from ip_src.
inline std::vector<uint8_t> client_message(uint32_t ip_src, const DhcpSpec& s) {
  return udp_payload_frame(kBroadcast, s.chaddr, std::nullopt, ip_src, 0xffffffff, 68, 67,
                           dhcp_message(s));
}

}  // namespace vfs::test
