// tools/common/packet_text.h owns the PACKET grammar of `vfsw-dump --explain N 'PACKET'`:
// a one-line, tcpdump-like description of a frame, read into offload::PacketFields.
//
//   PACKET  := KIND ENDPOINTS OPTION*
//   KIND    := tcp | udp | icmp | ip          (IPv4 or IPv6, by the addresses)
//            | tcp6 | udp6 | icmp6 | ipv6     (IPv6 only; ip6 = ipv6)
//   ENDPOINTS (tcp, udp): ADDR:PORT > ADDR:PORT, an IPv6 ADDR in brackets: [2001:db8::1]:80
//   ENDPOINTS (icmp, ip): ADDR > ADDR         (brackets optional)
//   OPTION  := vlan VID                       the frame arrives tagged (TPID 0x8100)
//            | from MAC | to MAC              source / destination MAC
//            | flags F|F...                   tcp: S A R F P U E C (or syn, ack, ...)
//            | type N | code N                icmp: default echo request (8 or 128), code 0
//            | proto N                        ip: the IP protocol (default 0)
//            | fragment                       a later IPv4 fragment (no L4 header)
// Defaults: tcp flags S (a connection's first packet); no vlan; from/to unset (the caller
// picks them). Every option at most once. Errors name the word that is wrong.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "offload/rule_match.h"

namespace vfs::tools {

struct PacketText {
  offload::PacketFields fields;  // in_port 0: the caller sets it
  bool has_from = false;         // `from MAC` given (else eth_src is 0)
  bool has_to = false;           // `to MAC` given (else eth_dst is 0)
};

Result<PacketText> parse_packet(std::string_view text);

// One line describing the packet's L3/L4 part, as parse_packet reads it back:
// "tcp 10.0.0.5:1234 > 10.0.0.9:80 flags S".
std::string packet_summary(const offload::PacketFields& p);

}  // namespace vfs::tools
