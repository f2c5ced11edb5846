// tools/common/packet_text: the PACKET grammar of vfsw-dump --explain.
#include <doctest/doctest.h>

#include "tools/common/packet_text.h"

using namespace vfs::tools;
using vfs::offload::PacketFields;
using vfs::offload::VlanTag;

namespace {

PacketFields parsed(const std::string& text) {
  auto r = parse_packet(text);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  return r->fields;
}

// The parse fails and the message quotes `word` (or says the text ended).
void check_error(const std::string& text, const std::string& word) {
  CAPTURE(text);
  auto r = parse_packet(text);
  REQUIRE_FALSE(r.ok());
  CAPTURE(r.error().message);
  CHECK(r.error().code == EINVAL);
  CHECK(r.error().message.find(word) != std::string::npos);
}

}  // namespace

TEST_CASE("packets in every form") {
  PacketFields p = parsed("tcp 10.0.0.5:1234 > 10.0.0.9:80");
  CHECK(p.ether_type == 0x0800);
  CHECK(p.ip_proto == 6);
  CHECK(p.ip_src == std::array<uint8_t, 16>{10, 0, 0, 5});
  CHECK(p.ip_dst == std::array<uint8_t, 16>{10, 0, 0, 9});
  CHECK(p.l4_src == 1234);
  CHECK(p.l4_dst == 80);
  CHECK(p.tcp_flags == 0x02);  // SYN unless told
  CHECK(p.tags.empty());
  CHECK(packet_summary(p) == "tcp 10.0.0.5:1234 > 10.0.0.9:80 flags S");

  auto full = parse_packet(
      "tcp 10.0.0.5:1234 > 10.0.0.9:80 flags A|psh vlan 10 from 52:54:00:00:00:05 to "
      "52:54:00:00:00:09");
  REQUIRE(full.ok());
  CHECK(full->has_from);
  CHECK(full->has_to);
  CHECK(full->fields.tcp_flags == 0x18);
  CHECK(full->fields.tags == std::vector<VlanTag>{{0x8100, 10}});
  CHECK(full->fields.eth_src == vfs::offload::Mac{0x52, 0x54, 0, 0, 0, 5});
  CHECK(full->fields.eth_dst == vfs::offload::Mac{0x52, 0x54, 0, 0, 0, 9});
  CHECK_FALSE(parse_packet("udp 1.2.3.4:1 > 5.6.7.8:2")->has_from);

  p = parsed("udp 10.0.0.5:5353 > 10.0.0.9:53");
  CHECK(p.ip_proto == 17);
  CHECK(packet_summary(p) == "udp 10.0.0.5:5353 > 10.0.0.9:53");
  p = parsed("icmp 10.0.0.5 > 10.0.0.9");
  CHECK(p.ip_proto == 1);
  CHECK(p.icmp_type == 8);
  p = parsed("icmp 10.0.0.5 > 10.0.0.9 type 0 code 1");
  CHECK(packet_summary(p) == "icmp 10.0.0.5 > 10.0.0.9 type 0 code 1");
  p = parsed("ip 10.0.0.5 > 10.0.0.9 proto 47 fragment");
  CHECK(p.ip_proto == 47);
  CHECK(p.later_fragment);
  CHECK(packet_summary(p) == "ip 10.0.0.5 > 10.0.0.9 proto 47 fragment");

  p = parsed("tcp6 [2001:db8::1]:80 > [2001:db8::2]:443");
  CHECK(p.ether_type == 0x86dd);
  CHECK(p.ip_src[0] == 0x20);
  CHECK(p.ip_src[15] == 1);
  CHECK(p.l4_dst == 443);
  CHECK(packet_summary(p) == "tcp6 [2001:db8::1]:80 > [2001:db8::2]:443 flags S");
  CHECK(parsed("tcp [2001:db8::1]:80 > [2001:db8::2]:443") == p);
  p = parsed("udp6 [::1]:1 > [::2]:2");
  CHECK(p.ip_proto == 17);
  p = parsed("icmp6 2001:db8::1 > [2001:db8::2]");
  CHECK(p.ip_proto == 58);
  CHECK(p.icmp_type == 128);
  p = parsed("ipv6 fe80::1 > ff02::1 proto 0");
  CHECK(p.ether_type == 0x86dd);
  CHECK(parsed("  tcp\t10.0.0.5:1 >  10.0.0.9:2  ").l4_dst == 2);
}

TEST_CASE("bad packets are errors naming the bad word") {
  check_error("", "empty");
  check_error("sctp 10.0.0.5:1 > 10.0.0.9:2", "'sctp'");
  check_error("tcp 10.0.0.5 > 10.0.0.9:80", "'10.0.0.5'");
  check_error("tcp 10.0.0.500:1 > 10.0.0.9:80", "'10.0.0.500:1'");
  check_error("tcp 10.0.0.5:70000 > 10.0.0.9:80", "'10.0.0.5:70000'");
  check_error("tcp 10.0.0.5:1 10.0.0.9:80", "'10.0.0.9:80'");
  check_error("tcp 10.0.0.5:1 >", "end of the text");
  check_error("tcp 10.0.0.5:1 > [2001:db8::2]:80", "'[2001:db8::2]:80'");
  check_error("tcp 2001:db8::1:80 > [2001:db8::2]:80", "'2001:db8::1:80'");
  check_error("tcp6 10.0.0.5:1 > 10.0.0.9:2", "'10.0.0.5:1'");
  check_error("icmp 10.0.0.5 > nowhere", "'nowhere'");
  check_error("tcp 10.0.0.5:1 > 10.0.0.9:2 flags S|X", "'S|X'");
  check_error("tcp 10.0.0.5:1 > 10.0.0.9:2 flags S|", "'S|'");
  check_error("udp 10.0.0.5:1 > 10.0.0.9:2 flags S", "'flags'");
  check_error("tcp 10.0.0.5:1 > 10.0.0.9:2 vlan 4096", "'4096'");
  check_error("tcp 10.0.0.5:1 > 10.0.0.9:2 vlan", "end of the text");
  check_error("tcp 10.0.0.5:1 > 10.0.0.9:2 from 52:54:00:00:00", "'52:54:00:00:00'");
  check_error("tcp 10.0.0.5:1 > 10.0.0.9:2 to 52:54:00:00:00:0g", "'52:54:00:00:00:0g'");
  check_error("tcp 10.0.0.5:1 > 10.0.0.9:2 vlan 1 vlan 2", "'vlan'");
  check_error("tcp 10.0.0.5:1 > 10.0.0.9:2 ttl 3", "'ttl'");
  check_error("tcp 10.0.0.5:1 > 10.0.0.9:2 type 3", "'type'");
  check_error("icmp 10.0.0.5 > 10.0.0.9 type 256", "'256'");
  check_error("ip 10.0.0.5 > 10.0.0.9 proto x", "'x'");
  check_error("tcp6 [::1]:1 > [::2]:2 fragment", "'fragment'");
  check_error("tcp 10.0.0.5:1 > 10.0.0.9:2 from \x01", "'?'");
}
