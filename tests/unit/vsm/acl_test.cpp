// ip / ipv6 access-lists: entry grammar, canonical rendering, sequence numbers,
// referential integrity with port-profiles, and resolution into the datapath's ResolvedAcl.
#include <doctest/doctest.h>

#include "vsm/acl.h"
#include "vsm/running_config.h"
#include "vsm/vsm_test_support.h"

using namespace vfs::vsm;
using vfs::vsm::testing::TestSwitch;

namespace {

std::string canon(const char* verb, const char* text, AclFamily f = AclFamily::ipv4) {
  bool permit = std::string(verb) == "permit";
  auto e = parse_acl_entry(permit, text, f);
  REQUIRE_MESSAGE(e.ok(), e.error().message);
  std::string r = render_acl_entry(*e, f);
  auto again = parse_acl_entry(permit, r.substr(r.find(' ') + 1), f);
  REQUIRE(again.ok());
  CHECK(*again == *e);
  return r;
}

std::string refusal(const char* text, AclFamily f = AclFamily::ipv4) {
  auto e = parse_acl_entry(true, text, f);
  REQUIRE_FALSE(e.ok());
  return e.error().message;
}

}  // namespace

TEST_CASE("access-list entries parse and render canonically") {
  CHECK(canon("permit", "tcp any 10.0.10.0/24 eq 80") == "permit tcp any 10.0.10.0/24 eq 80");
  CHECK(canon("deny", "ip 10.1.2.3/8 host 192.168.1.1") == "deny ip 10.0.0.0/8 host 192.168.1.1");
  CHECK(canon("permit", "UDP 10.0.0.7 0.0.0.255 range 1000 2000 any neq 53") ==
        "permit udp 10.0.0.0 0.0.0.255 range 1000 2000 any neq 53");
  CHECK(canon("permit", "icmp any any 8 0") == "permit icmp any any 8 0");
  CHECK(canon("permit", "tcp any gt 1023 any lt 1024 established") ==
        "permit tcp any gt 1023 any lt 1024 established");
  CHECK(canon("deny", "47 any any") == "deny 47 any any");
  CHECK(canon("permit", "ipv6 2001:db8::1/32 any", AclFamily::ipv6) ==
        "permit ipv6 2001:db8::/32 any");
  CHECK(canon("permit", "icmp any host fe80::1 135", AclFamily::ipv6) ==
        "permit icmp any host fe80::1 135");

  CHECK(refusal("tcp any any eqq 80") ==
        "Invalid access-list entry at 'eqq': expected the end of the entry");
  CHECK(refusal("tcp any") ==
        "Incomplete access-list entry: expected any, host ADDRESS, "
        "ADDRESS/LEN or ADDRESS WILDCARD");
  CHECK(refusal("bogus any any").find("'bogus'") != std::string::npos);
  CHECK(refusal("256 any any").find("'256'") != std::string::npos);
  CHECK(refusal("ip 10.0.0.0/33 any").find("'10.0.0.0/33'") != std::string::npos);
  CHECK(refusal("tcp any any range 20 10").find("'10'") != std::string::npos);
  CHECK(refusal("tcp any any eq 65536").find("'65536'") != std::string::npos);
  CHECK(refusal("udp any any established").find("'established'") != std::string::npos);
  CHECK(refusal("ip any any 8").find("'8'") != std::string::npos);
  CHECK(refusal("ipv6 10.0.0.1 any", AclFamily::ipv6).find("'10.0.0.1'") != std::string::npos);
  CHECK(refusal("ipv6 2001:db8:: ffff:: any", AclFamily::ipv6).find("'2001:db8::'") !=
        std::string::npos);
}

TEST_CASE("sequence numbers, no SEQ, resequence, statistics") {
  TestSwitch s;
  s.must({"configure terminal", "ip access-list a", "permit tcp any any eq 22", "5 deny ip any any",
          "permit udp any any", "statistics per-entry"});
  CHECK(s.session.mode == Mode::config_acl);
  CHECK(s.session.prompt() == "vfsw(config-acl)# ");
  auto acl = s.supervisor->model().ip_acls.at("a");
  CHECK(acl.statistics_per_entry);
  REQUIRE(acl.entries.size() == 3);
  CHECK(acl.entries.begin()->first == 5);
  CHECK(acl.entries.rbegin()->first == 20);
  CHECK(s.refused("10 permit ip any any").message ==
        "entry 10 of ip access-list a already exists (remove it with 'no 10')");
  CHECK(s.refused("no 11").message == "ip access-list a has no entry 11");
  CHECK(s.refused("permit tcp any any eq http").message ==
        "Invalid access-list entry at 'http': expected a port number 0-65535");
  s.must({"no 10", "exit", "resequence ip access-list a 100 5"});
  acl = s.supervisor->model().ip_acls.at("a");
  CHECK(acl.entries.begin()->first == 100);
  CHECK(acl.entries.rbegin()->first == 105);
  CHECK(s.refused("resequence ip access-list a 4294967295 1").message.find("exceeds") !=
        std::string::npos);
  CHECK(s.refused("resequence ip access-list zz 1 1").message ==
        "ip access-list zz does not exist");
  s.must({"ipv6 access-list b", "permit icmp any any 128"});
  CHECK(s.session.prompt() == "vfsw(config-ipv6-acl)# ");
  s.must({"end"});
  CHECK(s.must({"show ip access-lists a"}) ==
        "IP access list a\n        statistics per-entry\n        100 deny ip any any [match=0]\n"
        "        105 permit udp any any [match=0]\n        implicit deny [match=0]\n\n");
  CHECK(s.must({"show ipv6 access-lists"}) ==
        "IPv6 access list b\n        10 permit icmp any any 128\n\n");
}

TEST_CASE("port-profiles filter with access lists; lists in use cannot be deleted") {
  TestSwitch s;
  s.basic_config();
  REQUIRE(s.supervisor->attach({1, "web", "vm1", "", ""}).ok());
  s.must({"configure terminal", "ip access-list web-in", "permit tcp any any eq 80"});
  s.must({"port-profile web", "ip port access-group web-in in"});
  CHECK(s.refused("ip port access-group nope out").message == "ip access-list nope does not exist");
  CHECK(s.refused("ipv6 port traffic-filter web-in in").message ==
        "ipv6 access-list web-in does not exist");

  // The datapath got the resolved list.
  const DataplaneConfig cfg = s.dataplane.last();
  const auto& v = cfg.veths.at(0);
  REQUIRE(v.ip_acl_in.has_value());
  CHECK_FALSE(v.ip_acl_out.has_value());
  CHECK(v.forwarding);
  REQUIRE(v.ip_acl_in->entries.size() == 1);
  const ResolvedAce& ace = v.ip_acl_in->entries[0];
  CHECK(ace.seq == 10);
  CHECK(ace.permit);
  CHECK(ace.protocol == 6);
  CHECK(ace.dst_port.op == PortMatch::Op::eq);
  CHECK(ace.dst_port.lo == 80);
  CHECK(ace.src.mask == std::array<uint8_t, 16>{});

  // An edit of the list reaches the datapath.
  s.must({"ip access-list web-in", "deny ip 10.0.0.0 0.255.0.255 any"});
  const DataplaneConfig cfg2 = s.dataplane.last();
  const auto& v2 = cfg2.veths.at(0);
  REQUIRE(v2.ip_acl_in->entries.size() == 2);
  const ResolvedAce& d = v2.ip_acl_in->entries[1];
  CHECK_FALSE(d.permit);
  CHECK(d.protocol == -1);
  CHECK(d.src.addr[0] == 10);
  CHECK(d.src.mask[0] == 0xff);
  CHECK(d.src.mask[1] == 0x00);
  CHECK(d.src.mask[2] == 0xff);
  CHECK(d.src.mask[3] == 0x00);
  CHECK(d.src.mask[4] == 0x00);

  s.must({"exit"});
  const SwitchModel before = s.supervisor->model();
  CHECK(s.refused("no ip access-list web-in").message ==
        "ip access-list web-in is in use by port-profile web (in)");
  CHECK(s.supervisor->model() == before);
  s.must({"port-profile web"});
  CHECK(s.refused("no ip port access-group other in").message ==
        "port-profile web does not filter in with other");
  s.must({"no ip port access-group web-in in", "exit", "no ip access-list web-in"});
  CHECK_FALSE(s.dataplane.last().veths.at(0).ip_acl_in.has_value());
}

TEST_CASE("access lists in running-config") {
  TestSwitch s;
  s.must({"configure terminal", "ipv6 access-list v6", "permit tcp 2001:db8::/32 any eq 443",
          "ip access-list v4", "statistics per-entry", "deny udp any host 10.0.0.1 eq 53",
          "port-profile type vethernet p", "ip port access-group v4 out",
          "ipv6 port traffic-filter v6 in"});
  const std::string run = s.supervisor->running_config();
  CHECK(run.find("\nip access-list v4\n  statistics per-entry\n  10 deny udp any host 10.0.0.1 "
                 "eq 53\n\nipv6 access-list v6\n  10 permit tcp 2001:db8::/32 any eq 443\n") !=
        std::string::npos);
  CHECK(run.find("  ip port access-group v4 out\n  ipv6 port traffic-filter v6 in\n") !=
        std::string::npos);
}
