// Packet parser: every kind of frame the slow path sees, hand-built; every truncation of
// each; refusals per reason; random and mutated bytes. Buffers are allocated to the exact
// length so that ASan (-DVFS_SANITIZE=ON) catches any read past the end.
#include <arpa/inet.h>

#include <cstring>
#include <functional>
#include <iterator>
#include <memory>
#include <random>
#include <set>
#include <string>

#include <doctest/doctest.h>

#include "slowpath/frame_builder.h"
#include "slowpath/packet_parser.h"

using namespace vfs::slowpath;
using vfs::test::FrameBuilder;
using vfs::test::ip6;
using vfs::test::kBroadcast;
using vfs::test::kMacA;
using vfs::test::kMacB;

namespace {

constexpr uint32_t kIpA = 0x0a000001;  // 10.0.0.1
constexpr uint32_t kIpB = 0x0a000002;

// Parses a copy of the first len bytes held in a buffer of exactly len bytes.
ParseStatus parse_exact(const std::vector<uint8_t>& frame, size_t len, ParsedPacket* out) {
  std::unique_ptr<uint8_t[]> buf(new uint8_t[len]);
  if (len) std::memcpy(buf.get(), frame.data(), len);
  return parse_packet(buf.get(), static_cast<uint32_t>(len), out);
}

ParsedPacket parse_ok(const std::vector<uint8_t>& frame) {
  ParsedPacket p;
  ParseStatus s = parse_exact(frame, frame.size(), &p);
  REQUIRE_MESSAGE(s == ParseStatus::ok, parse_status_name(s));
  return p;
}

ParseStatus status_of(const std::vector<uint8_t>& frame) {
  ParsedPacket p;
  return parse_exact(frame, frame.size(), &p);
}

bool same_bytes(const void* a, const void* b, size_t n) { return std::memcmp(a, b, n) == 0; }

// What a parse of a prefix must agree on with the parse of the whole frame.
std::string differences(const ParsedPacket& a, const ParsedPacket& b) {
  std::string d;
  auto diff = [&](bool same, const char* what) {
    if (!same) d += std::string(what) + " ";
  };
  diff(same_bytes(a.dst, b.dst, 6) && same_bytes(a.src, b.src, 6), "macs");
  diff(a.vlan_count == b.vlan_count, "vlan_count");
  for (int i = 0; i < a.vlan_count && i < 2; ++i)
    diff(a.vlans[i].tpid == b.vlans[i].tpid && a.vlans[i].vid == b.vlans[i].vid &&
             a.vlans[i].pcp == b.vlans[i].pcp && a.vlans[i].dei == b.vlans[i].dei,
         "vlans");
  diff(a.ethertype == b.ethertype, "ethertype");
  diff(a.l3 == b.l3 && a.l3_offset == b.l3_offset, "l3");
  if (a.l3 != L3Kind::other) diff(a.l3_end == b.l3_end, "l3_end");
  diff(a.ipv4_src == b.ipv4_src && a.ipv4_dst == b.ipv4_dst, "ipv4");
  diff(same_bytes(a.ipv6_src, b.ipv6_src, 16) && same_bytes(a.ipv6_dst, b.ipv6_dst, 16), "ipv6");
  diff(a.ip_proto == b.ip_proto && a.ip_ttl == b.ip_ttl && a.ip_tos == b.ip_tos, "ip");
  diff(a.ip_fragment == b.ip_fragment && a.ip_more_fragments == b.ip_more_fragments &&
           a.ip_fragment_offset_bytes == b.ip_fragment_offset_bytes,
       "fragment");
  diff(a.l4 == b.l4 && a.l4_offset == b.l4_offset, "l4");
  diff(a.src_port == b.src_port && a.dst_port == b.dst_port && a.tcp_flags == b.tcp_flags, "ports");
  diff(a.icmp_type == b.icmp_type && a.icmp_code == b.icmp_code, "icmp");
  diff(a.arp_op == b.arp_op && same_bytes(a.arp_sender_mac, b.arp_sender_mac, 6) &&
           same_bytes(a.arp_target_mac, b.arp_target_mac, 6) &&
           a.arp_sender_ip == b.arp_sender_ip && a.arp_target_ip == b.arp_target_ip,
       "arp");
  return d;
}

// Invariants of any successful parse of len bytes; "" when they hold.
std::string broken_invariant(const ParsedPacket& p, uint32_t len) {
  if (len < 14) return "ok below 14 bytes";
  if (p.vlan_count > 2) return "vlan_count";
  if (p.l3_offset != 14u + 4u * p.vlan_count) return "l3_offset";
  if (p.l3_end > len || p.l3_end < p.l3_offset) return "l3_end";
  if (p.l4 != L4Kind::none) {
    if (p.l4_offset < p.l3_offset || p.l4_offset > p.l3_end) return "l4_offset";
    const uint32_t need = p.l4 == L4Kind::tcp     ? 20
                          : p.l4 == L4Kind::udp   ? 8
                          : p.l4 == L4Kind::other ? 0
                                                  : 4;
    if (p.l3_end - p.l4_offset < need) return "l4 header past l3_end";
  }
  if (p.l4 != L4Kind::none && p.ip_fragment_offset_bytes != 0) return "L4 in a non-first fragment";
  if ((p.l4 == L4Kind::tcp || p.l4 == L4Kind::udp || p.l4 == L4Kind::icmp ||
       p.l4 == L4Kind::icmpv6) &&
      p.l3 != L3Kind::ipv4 && p.l3 != L3Kind::ipv6)
    return "L4 without IP";
  return "";
}

struct Fixture {
  const char* what;
  std::vector<uint8_t> frame;
  std::function<void(const ParsedPacket&)> expect;
};

std::vector<Fixture> fixtures() {
  std::vector<Fixture> f;

  f.push_back({"untagged IPv4 TCP SYN, padded to 60",
               FrameBuilder()
                   .eth(kMacB, kMacA)
                   .type(0x0800)
                   .ipv4(6, kIpA, kIpB)
                   .tcp(40000, 80, kTcpSyn)
                   .close_ipv4()
                   .done(),
               [](const ParsedPacket& p) {
                 CHECK(same_bytes(p.dst, kMacB.data(), 6));
                 CHECK(same_bytes(p.src, kMacA.data(), 6));
                 CHECK(p.vlan_count == 0);
                 CHECK(p.ethertype == 0x0800);
                 CHECK(p.l3 == L3Kind::ipv4);
                 CHECK(p.l3_offset == 14);
                 CHECK(p.l3_end == 54);  // 6 bytes of padding follow
                 CHECK(p.ipv4_src == htonl(kIpA));
                 CHECK(p.ipv4_dst == htonl(kIpB));
                 CHECK(p.ip_proto == 6);
                 CHECK(p.ip_ttl == 64);
                 CHECK(p.ip_tos == 0x10);
                 CHECK_FALSE(p.ip_fragment);
                 CHECK(p.l4 == L4Kind::tcp);
                 CHECK(p.l4_offset == 34);
                 CHECK(p.src_port == 40000);
                 CHECK(p.dst_port == 80);
                 CHECK(p.tcp_flags == kTcpSyn);
               }});

  f.push_back({"802.1Q vid 100 pcp 5 IPv4 UDP",
               FrameBuilder()
                   .eth(kMacB, kMacA)
                   .tag(kTpidCvlan, 100, 5, true)
                   .type(0x0800)
                   .ipv4(17, kIpA, kIpB)
                   .udp(5353, 53, 30)
                   .close_ipv4()
                   .done(),
               [](const ParsedPacket& p) {
                 REQUIRE(p.vlan_count == 1);
                 CHECK(p.vlans[0].tpid == kTpidCvlan);
                 CHECK(p.vlans[0].vid == 100);
                 CHECK(p.vlans[0].pcp == 5);
                 CHECK(p.vlans[0].dei);
                 CHECK(p.ethertype == 0x0800);
                 CHECK(p.l3_offset == 18);
                 CHECK(p.l4 == L4Kind::udp);
                 CHECK(p.l4_offset == 38);
                 CHECK(p.src_port == 5353);
                 CHECK(p.dst_port == 53);
                 CHECK(p.l3_end == 18 + 20 + 8 + 30);
               }});

  f.push_back({"QinQ 0x88a8 vid 200 + 0x8100 vid 10, IPv4 ICMP echo",
               FrameBuilder()
                   .eth(kMacB, kMacA)
                   .tag(kTpidSvlan, 200, 3)
                   .tag(kTpidCvlan, 10)
                   .type(0x0800)
                   .ipv4(1, kIpA, kIpB)
                   .icmp(8, 0)
                   .close_ipv4()
                   .done(),
               [](const ParsedPacket& p) {
                 REQUIRE(p.vlan_count == 2);
                 CHECK(p.vlans[0].tpid == kTpidSvlan);
                 CHECK(p.vlans[0].vid == 200);
                 CHECK(p.vlans[0].pcp == 3);
                 CHECK_FALSE(p.vlans[0].dei);
                 CHECK(p.vlans[1].tpid == kTpidCvlan);
                 CHECK(p.vlans[1].vid == 10);
                 CHECK(p.l3_offset == 22);
                 CHECK(p.l4 == L4Kind::icmp);
                 CHECK(p.icmp_type == 8);
                 CHECK(p.icmp_code == 0);
               }});

  f.push_back(
      {"ARP request, broadcast, padded",
       FrameBuilder().eth(kBroadcast, kMacA).type(0x0806).arp(1, kMacA, kIpA, {}, kIpB).done(),
       [](const ParsedPacket& p) {
         CHECK(is_broadcast(p.dst));
         CHECK(p.l3 == L3Kind::arp);
         CHECK(p.l3_end == 14 + 28);
         CHECK(p.arp_op == 1);
         CHECK(same_bytes(p.arp_sender_mac, kMacA.data(), 6));
         CHECK(p.arp_sender_ip == htonl(kIpA));
         CHECK(is_zero_mac(p.arp_target_mac));
         CHECK(p.arp_target_ip == htonl(kIpB));
         CHECK(p.l4 == L4Kind::none);
       }});

  f.push_back({"ARP reply in VLAN 7",
               FrameBuilder()
                   .eth(kMacA, kMacB)
                   .tag(kTpidCvlan, 7)
                   .type(0x0806)
                   .arp(2, kMacB, kIpB, kMacA, kIpA)
                   .done(),
               [](const ParsedPacket& p) {
                 CHECK(p.vlan_count == 1);
                 CHECK(p.arp_op == 2);
                 CHECK(same_bytes(p.arp_target_mac, kMacA.data(), 6));
                 CHECK(p.arp_sender_ip == htonl(kIpB));
               }});

  f.push_back({"IPv4 first fragment (MF, offset 0) carries the UDP header",
               FrameBuilder()
                   .eth(kMacB, kMacA)
                   .type(0x0800)
                   .ipv4(17, kIpA, kIpB, 0x2000)
                   .udp(1000, 2000, 1472)
                   .close_ipv4()
                   .done(),
               [](const ParsedPacket& p) {
                 CHECK(p.ip_fragment);
                 CHECK(p.ip_more_fragments);
                 CHECK(p.ip_fragment_offset_bytes == 0);
                 CHECK(p.l4 == L4Kind::udp);
                 CHECK(p.dst_port == 2000);
               }});

  f.push_back({"IPv4 non-first fragment has no L4",
               FrameBuilder()
                   .eth(kMacB, kMacA)
                   .type(0x0800)
                   .ipv4(17, kIpA, kIpB, 185)  // offset 1480, last
                   .zeros(100)
                   .close_ipv4()
                   .done(),
               [](const ParsedPacket& p) {
                 CHECK(p.ip_fragment);
                 CHECK_FALSE(p.ip_more_fragments);
                 CHECK(p.ip_fragment_offset_bytes == 1480);
                 CHECK(p.ip_proto == 17);
                 CHECK(p.l4 == L4Kind::none);
               }});

  f.push_back({"IPv4 with options (IHL 7), TCP ACK with options",
               FrameBuilder()
                   .eth(kMacB, kMacA)
                   .type(0x0800)
                   .ipv4(6, kIpA, kIpB, 0x4000, 2)
                   .tcp(22, 50000, kTcpAck | kTcpPsh, 8)
                   .zeros(10)
                   .close_ipv4()
                   .done(),
               [](const ParsedPacket& p) {
                 CHECK(p.l4_offset == 14 + 28);
                 CHECK(p.l4 == L4Kind::tcp);
                 CHECK(p.tcp_flags == (kTcpAck | kTcpPsh));
                 CHECK_FALSE(p.ip_fragment);  // DF only
               }});

  f.push_back({"IPv4 unknown protocol (GRE) is L4 other",
               FrameBuilder()
                   .eth(kMacB, kMacA)
                   .type(0x0800)
                   .ipv4(47, kIpA, kIpB)
                   .zeros(4)
                   .close_ipv4()
                   .done(),
               [](const ParsedPacket& p) {
                 CHECK(p.l4 == L4Kind::other);
                 CHECK(p.ip_proto == 47);
                 CHECK(p.l4_offset == 34);
               }});

  f.push_back({"IPv6 TCP",
               FrameBuilder()
                   .eth(kMacB, kMacA)
                   .type(0x86dd)
                   .ipv6(6, ip6(1), ip6(2), 255)
                   .tcp(443, 50001, kTcpSyn | kTcpAck)
                   .close_ipv6()
                   .done(),
               [](const ParsedPacket& p) {
                 CHECK(p.l3 == L3Kind::ipv6);
                 CHECK(p.ethertype == 0x86dd);
                 CHECK(same_bytes(p.ipv6_src, ip6(1).data(), 16));
                 CHECK(same_bytes(p.ipv6_dst, ip6(2).data(), 16));
                 CHECK(p.ip_ttl == 255);
                 CHECK(p.ip_tos == 0xa0);
                 CHECK(p.ip_proto == 6);
                 CHECK(p.l4 == L4Kind::tcp);
                 CHECK(p.l4_offset == 54);
                 CHECK(p.src_port == 443);
                 CHECK(p.l3_end == 54 + 20);
               }});

  f.push_back({"IPv6 hop-by-hop, dest options, routing, first fragment, UDP",
               FrameBuilder()
                   .eth(kMacB, kMacA)
                   .tag(kTpidCvlan, 42)
                   .type(0x86dd)
                   .ipv6(0, ip6(1), ip6(2))
                   .ext(60)     // hop-by-hop -> dest options
                   .ext(43, 1)  // dest options (16 bytes) -> routing
                   .ext(44, 2)  // routing (24 bytes) -> fragment
                   .frag6(17, 0, true)
                   .udp(68, 67, 16)
                   .close_ipv6()
                   .done(),
               [](const ParsedPacket& p) {
                 CHECK(p.vlan_count == 1);
                 CHECK(p.ip_proto == 17);
                 CHECK(p.ip_fragment);
                 CHECK(p.ip_more_fragments);
                 CHECK(p.l4 == L4Kind::udp);
                 CHECK(p.l4_offset == 18 + 40 + 8 + 16 + 24 + 8);
                 CHECK(p.src_port == 68);
                 CHECK(p.dst_port == 67);
               }});

  f.push_back({"IPv6 non-first fragment",
               FrameBuilder()
                   .eth(kMacB, kMacA)
                   .type(0x86dd)
                   .ipv6(44, ip6(1), ip6(2))
                   .frag6(6, 1232, false)
                   .zeros(64)
                   .close_ipv6()
                   .done(),
               [](const ParsedPacket& p) {
                 CHECK(p.ip_fragment);
                 CHECK_FALSE(p.ip_more_fragments);
                 CHECK(p.ip_fragment_offset_bytes == 1232);
                 CHECK(p.ip_proto == 6);
                 CHECK(p.l4 == L4Kind::none);
               }});

  f.push_back({"IPv6 atomic fragment is a whole datagram",
               FrameBuilder()
                   .eth(kMacB, kMacA)
                   .type(0x86dd)
                   .ipv6(44, ip6(1), ip6(2))
                   .frag6(17, 0, false)
                   .udp(1, 2)
                   .close_ipv6()
                   .done(),
               [](const ParsedPacket& p) {
                 CHECK_FALSE(p.ip_fragment);
                 CHECK(p.l4 == L4Kind::udp);
               }});

  f.push_back({"ICMPv6 neighbor solicitation",
               FrameBuilder()
                   .eth({0x33, 0x33, 0xff, 0x00, 0x00, 0x02}, kMacA)
                   .type(0x86dd)
                   .ipv6(58, ip6(1), ip6(2), 255)
                   .icmp(135, 0)
                   .bytes(ip6(2))
                   .close_ipv6()
                   .done(),
               [](const ParsedPacket& p) {
                 CHECK(is_multicast(p.dst));
                 CHECK_FALSE(is_broadcast(p.dst));
                 CHECK(p.l4 == L4Kind::icmpv6);
                 CHECK(p.icmp_type == 135);
                 CHECK(p.icmp_code == 0);
               }});

  f.push_back({"IPv6 no next header",
               FrameBuilder()
                   .eth(kMacB, kMacA)
                   .type(0x86dd)
                   .ipv6(60, ip6(1), ip6(2))
                   .ext(59)
                   .close_ipv6()
                   .done(),
               [](const ParsedPacket& p) {
                 CHECK(p.ip_proto == 59);
                 CHECK(p.l4 == L4Kind::none);
               }});

  f.push_back({"LLDP (ethertype not decoded) is L3 other",
               FrameBuilder()
                   .eth({0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}, kMacA)
                   .type(0x88cc)
                   .zeros(20)
                   .done(),
               [](const ParsedPacket& p) {
                 CHECK(p.l3 == L3Kind::other);
                 CHECK(p.ethertype == 0x88cc);
                 CHECK(p.l3_offset == 14);
                 CHECK(p.l4 == L4Kind::none);
               }});
  return f;
}

}  // namespace

TEST_CASE("parser decodes each kind of frame") {
  for (const auto& fx : fixtures()) {
    CAPTURE(fx.what);
    const ParsedPacket p = parse_ok(fx.frame);
    CHECK(broken_invariant(p, static_cast<uint32_t>(fx.frame.size())) == "");
    fx.expect(p);
  }
}

TEST_CASE("every truncation of every frame is refused or parses the same") {
  for (const auto& fx : fixtures()) {
    CAPTURE(fx.what);
    const ParsedPacket full = parse_ok(fx.frame);
    size_t accepted = 0;
    for (size_t len = 0; len <= fx.frame.size(); ++len) {
      CAPTURE(len);
      ParsedPacket p;
      const ParseStatus s = parse_exact(fx.frame, len, &p);
      if (len < 14) CHECK(s == ParseStatus::truncated_ethernet);
      if (s != ParseStatus::ok) continue;
      ++accepted;
      CHECK(broken_invariant(p, static_cast<uint32_t>(len)) == "");
      CHECK(differences(p, full) == "");
    }
    // A frame is accepted from the end of its last decoded header on; padding is optional.
    CHECK(accepted >= 1);
  }
}

TEST_CASE("truncation points give the reason of the layer they cut") {
  auto tcp = FrameBuilder().eth(kMacB, kMacA).type(0x0800).ipv4(6, kIpA, kIpB).tcp(1, 2, 0);
  auto frame = tcp.close_ipv4().done(0);
  ParsedPacket p;
  CHECK(parse_exact(frame, 13, &p) == ParseStatus::truncated_ethernet);
  CHECK(parse_exact(frame, 14, &p) == ParseStatus::truncated_ipv4);
  CHECK(parse_exact(frame, 33, &p) == ParseStatus::truncated_ipv4);
  CHECK(parse_exact(frame, 53, &p) == ParseStatus::truncated_ipv4);  // total length says 40
  CHECK(parse_exact(frame, 54, &p) == ParseStatus::ok);

  auto qinq = FrameBuilder().eth(kMacB, kMacA).tag(kTpidSvlan, 1).tag(kTpidCvlan, 2).type(0x0806);
  auto q = qinq.done(0);
  CHECK(parse_exact(q, 15, &p) == ParseStatus::truncated_vlan);
  CHECK(parse_exact(q, 17, &p) == ParseStatus::truncated_vlan);
  CHECK(parse_exact(q, 21, &p) == ParseStatus::truncated_vlan);
  CHECK(parse_exact(q, 22, &p) == ParseStatus::truncated_arp);

  auto v6 = FrameBuilder().eth(kMacB, kMacA).type(0x86dd).ipv6(17, ip6(1), ip6(2)).udp(1, 2);
  auto v6f = v6.close_ipv6().done(0);
  CHECK(parse_exact(v6f, 53, &p) == ParseStatus::truncated_ipv6);
  CHECK(parse_exact(v6f, 61, &p) == ParseStatus::truncated_ipv6);
  CHECK(parse_exact(v6f, 62, &p) == ParseStatus::ok);
}

TEST_CASE("Ethernet and VLAN refusals") {
  ParsedPacket p;
  CHECK(parse_packet(nullptr, 0, &p) == ParseStatus::truncated_ethernet);
  CHECK(parse_packet(nullptr, 100, &p) == ParseStatus::truncated_ethernet);

  auto three = FrameBuilder()
                   .eth(kMacB, kMacA)
                   .tag(kTpidSvlan, 1)
                   .tag(kTpidCvlan, 2)
                   .tag(kTpidCvlan, 3)
                   .type(0x0800)
                   .done();
  CHECK(status_of(three) == ParseStatus::too_many_tags);

  // Double 802.1Q (0x8100 + 0x8100) is still two tags.
  auto dbl = FrameBuilder().eth(kMacB, kMacA).tag(kTpidCvlan, 5).tag(kTpidCvlan, 6).type(0x88cc);
  const ParsedPacket d = parse_ok(dbl.done());
  CHECK(d.vlan_count == 2);
  CHECK(d.vlans[1].vid == 6);
  // A priority tag (vid 0) is a tag.
  auto prio = FrameBuilder().eth(kMacB, kMacA).tag(kTpidCvlan, 0, 6).type(0x88cc).done();
  CHECK(parse_ok(prio).vlans[0].pcp == 6);
}

TEST_CASE("ARP refusals") {
  auto arp = [](uint16_t htype, uint16_t ptype, uint8_t hlen, uint8_t plen, uint16_t op) {
    return FrameBuilder()
        .eth(kBroadcast, kMacA)
        .type(0x0806)
        .u16(htype)
        .u16(ptype)
        .u8(hlen)
        .u8(plen)
        .u16(op)
        .zeros(20)
        .done();
  };
  CHECK(status_of(arp(1, 0x0800, 6, 4, 1)) == ParseStatus::ok);
  CHECK(status_of(arp(6, 0x0800, 6, 4, 1)) == ParseStatus::bad_arp);   // IEEE 802 hardware
  CHECK(status_of(arp(1, 0x86dd, 6, 16, 1)) == ParseStatus::bad_arp);  // not IPv4
  CHECK(status_of(arp(1, 0x0800, 8, 4, 1)) == ParseStatus::bad_arp);
  CHECK(status_of(arp(1, 0x0800, 6, 4, 3)) == ParseStatus::bad_arp);  // RARP op on 0x0806
  CHECK(status_of(arp(1, 0x0800, 6, 4, 0)) == ParseStatus::bad_arp);
}

TEST_CASE("IPv4 refusals") {
  auto base = [] { return FrameBuilder().eth(kMacB, kMacA).type(0x0800); };
  {
    auto f = base().ipv4(6, kIpA, kIpB).tcp(1, 2, 0).close_ipv4().done();
    f[14] = 0x55;  // version 5
    CHECK(status_of(f) == ParseStatus::bad_ipv4_header);
    f[14] = 0x44;  // IHL 4 words
    CHECK(status_of(f) == ParseStatus::bad_ipv4_header);
  }
  {
    auto b = base().ipv4(6, kIpA, kIpB).tcp(1, 2, 0);
    b.put16(16, 19);  // total length below the header
    CHECK(status_of(b.done()) == ParseStatus::bad_ipv4_header);
    b.put16(16, 200);  // beyond the frame
    CHECK(status_of(b.done()) == ParseStatus::truncated_ipv4);
  }
  {
    // IHL says 60 bytes of header, total length only 40.
    auto f = base().ipv4(6, kIpA, kIpB).tcp(1, 2, 0).close_ipv4().done();
    f[14] = 0x4f;
    CHECK(status_of(f) == ParseStatus::bad_ipv4_header);
  }
  {
    // A fragment ending past 64 KiB.
    auto f = base().ipv4(17, kIpA, kIpB, 0x1fff).zeros(16).close_ipv4().done();
    CHECK(status_of(f) == ParseStatus::bad_ipv4_header);
    auto ok = base().ipv4(17, kIpA, kIpB, 8000).zeros(16).close_ipv4().done();
    CHECK(status_of(ok) == ParseStatus::ok);
  }
  {
    // The UDP header is cut by the IP total length, although the frame's padding goes on.
    auto f = base().ipv4(17, kIpA, kIpB).zeros(7).close_ipv4().done(100);
    CHECK(status_of(f) == ParseStatus::truncated_l4);
    // Same for TCP, ICMP.
    auto t = base().ipv4(6, kIpA, kIpB).zeros(19).close_ipv4().done(100);
    CHECK(status_of(t) == ParseStatus::truncated_l4);
    auto i = base().ipv4(1, kIpA, kIpB).zeros(3).close_ipv4().done(100);
    CHECK(status_of(i) == ParseStatus::truncated_l4);
    // A first fragment too small for the TCP header (RFC 1858's tiny fragment).
    auto tiny = base().ipv4(6, kIpA, kIpB, 0x2000).zeros(8).close_ipv4().done();
    CHECK(status_of(tiny) == ParseStatus::truncated_l4);
  }
  {
    auto bad_doff = base().ipv4(6, kIpA, kIpB).tcp(1, 2, 0, 4).close_ipv4().done();
    CHECK(status_of(bad_doff) == ParseStatus::bad_tcp_header);
    auto long_doff = base().ipv4(6, kIpA, kIpB).tcp(1, 2, 0, 5).close_ipv4().done();
    long_doff[14 + 20 + 12] = 0xf0;  // 60-byte header in a 20-byte segment
    CHECK(status_of(long_doff) == ParseStatus::truncated_l4);
  }
  {
    // ICMPv6's protocol number inside IPv4 is not ICMP.
    auto f = base().ipv4(58, kIpA, kIpB).icmp(128, 0).close_ipv4().done();
    CHECK(parse_ok(f).l4 == L4Kind::other);
  }
}

TEST_CASE("IPv6 refusals") {
  auto base = [] { return FrameBuilder().eth(kMacB, kMacA).type(0x86dd); };
  {
    auto f = base().ipv6(17, ip6(1), ip6(2)).udp(1, 2).close_ipv6().done();
    f[14] = 0x4a;
    CHECK(status_of(f) == ParseStatus::bad_ipv6_header);
  }
  {
    auto b = base().ipv6(17, ip6(1), ip6(2)).udp(1, 2);
    b.put16(18, 100);  // payload length beyond the frame
    CHECK(status_of(b.done()) == ParseStatus::truncated_ipv6);
  }
  {
    // Hop-by-hop anywhere but first.
    auto f = base().ipv6(60, ip6(1), ip6(2)).ext(0).ext(17).udp(1, 2).close_ipv6().done();
    CHECK(status_of(f) == ParseStatus::bad_ipv6_ext);
  }
  {
    // Extension header longer than the payload (the frame's padding does not count).
    auto b = base().ipv6(60, ip6(1), ip6(2)).ext(17, 3).udp(1, 2);
    b.close_ipv6();
    b.put16(18, 16);
    CHECK(status_of(b.done(200)) == ParseStatus::bad_ipv6_ext);
  }
  {
    auto f = base().ipv6(44, ip6(1), ip6(2)).frag6(44, 0, true).frag6(17, 0, true).udp(1, 2);
    CHECK(status_of(f.close_ipv6().done()) == ParseStatus::bad_ipv6_ext);
  }
  {
    auto chain = [&](int n) {
      auto b = base().ipv6(60, ip6(1), ip6(2));
      for (int i = 0; i < n; ++i) b.ext(i == n - 1 ? 17 : 60);
      return b.udp(1, 2).close_ipv6().done();
    };
    CHECK(status_of(chain(8)) == ParseStatus::ok);
    CHECK(status_of(chain(9)) == ParseStatus::bad_ipv6_ext);
  }
  {
    // ICMP (IPv4's) inside IPv6 is not ICMPv6.
    auto f = base().ipv6(1, ip6(1), ip6(2)).icmp(8, 0).close_ipv6().done();
    CHECK(parse_ok(f).l4 == L4Kind::other);
    auto cut = base().ipv6(58, ip6(1), ip6(2)).zeros(3).close_ipv6().done();
    CHECK(status_of(cut) == ParseStatus::truncated_l4);
  }
}

TEST_CASE("parse status names are declared once and complete") {
  std::set<std::string> names;
  for (size_t i = 0; i < kParseStatusCount; ++i) {
    const auto s = static_cast<ParseStatus>(i);
    const std::string n = parse_status_name(s);
    CHECK(n != "invalid");
    CHECK(std::string(parse_status_description(s)).size() > 5);
    CHECK(names.insert(n).second);
  }
  CHECK(std::string(parse_status_name(ParseStatus::ok)) == "ok");
  CHECK(std::string(parse_status_name(ParseStatus::bad_ipv6_ext)) == "bad_ipv6_ext");
  CHECK(std::string(parse_status_name(static_cast<ParseStatus>(200))) == "invalid");
}

TEST_CASE("random bytes never break the parser") {
  std::mt19937_64 rng(0x5eed);
  static constexpr uint16_t kTypes[] = {0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x88cc, 0x0000};
  size_t broken = 0, ok = 0;
  std::string first_broken;
  for (int iter = 0; iter < 300000; ++iter) {
    const size_t len = rng() % 160;
    std::vector<uint8_t> f(len);
    for (auto& b : f) b = static_cast<uint8_t>(rng());
    // Steer most frames past the Ethernet header so the deeper parsers get exercised.
    if (len >= 14 && (iter & 3) != 0) {
      const uint16_t t = kTypes[rng() % std::size(kTypes)];
      f[12] = uint8_t(t >> 8);
      f[13] = uint8_t(t);
      if (len >= 15 && t == 0x0800) f[14] = 0x45;
      if (len >= 15 && t == 0x86dd) f[14] = 0x60;
    }
    ParsedPacket p;
    if (parse_exact(f, len, &p) != ParseStatus::ok) continue;
    ++ok;
    const std::string why = broken_invariant(p, static_cast<uint32_t>(len));
    if (!why.empty() && broken++ == 0) first_broken = why;
  }
  CHECK(first_broken == "");
  CHECK(broken == 0);
  CHECK(ok > 1000);  // the steering worked
}

TEST_CASE("mutated valid frames never break the parser") {
  std::mt19937_64 rng(42);
  const auto fx = fixtures();
  size_t broken = 0;
  std::string first_broken;
  for (int iter = 0; iter < 200000; ++iter) {
    std::vector<uint8_t> f = fx[rng() % fx.size()].frame;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) f[rng() % f.size()] = static_cast<uint8_t>(rng());
    const size_t len = (rng() % 4 == 0) ? rng() % (f.size() + 1) : f.size();
    ParsedPacket p;
    if (parse_exact(f, len, &p) != ParseStatus::ok) continue;
    const std::string why = broken_invariant(p, static_cast<uint32_t>(len));
    if (!why.empty() && broken++ == 0) first_broken = why;
  }
  CHECK(first_broken == "");
  CHECK(broken == 0);
}
