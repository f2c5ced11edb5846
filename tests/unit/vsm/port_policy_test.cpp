// The policy grammar beyond VLANs and IP ACLs: MAC access-lists, QoS policy-maps,
// trunking, port-security, IP source guard, storm-control, profile inheritance, interface
// overrides, SPAN sessions and source bindings — each from the CLI to the ResolvedVeth /
// DataplaneConfig the datapath receives, with the referential integrity around them.
#include <doctest/doctest.h>

#include "vsm/acl.h"
#include "vsm/dataplane_config.h"
#include "vsm/effective_port.h"
#include "vsm/qos.h"
#include "vsm/running_config.h"
#include "vsm/vsm_test_support.h"

using namespace vfs::vsm;
using vfs::vsm::testing::TestSwitch;

namespace {

MacBytes mac(const char* text) {
  auto m = parse_mac(text);
  REQUIRE(m.has_value());
  return *m;
}

// Attaches VF 0 (Vethernet1) to profile web and returns what the datapath got for it.
ResolvedVeth veth1(TestSwitch& sw) {
  auto cfg = sw.dataplane.last();
  REQUIRE(!cfg.veths.empty());
  return cfg.veths.at(0);
}

}  // namespace

TEST_CASE("MAC addresses: dotted and colon forms in, dotted out") {
  CHECK(format_mac(mac("0000.1111.2222")) == "0000.1111.2222");
  CHECK(format_mac(mac("52:54:00:AB:cd:01")) == "5254.00ab.cd01");
  for (const char* bad : {"", "0000.1111.222", "0000.1111.22223", "0000-1111-2222",
                          "g000.1111.2222", "52:54:00:ab:cd", "52:54:00:ab:cd:0x"})
    CHECK_FALSE(parse_mac(bad).has_value());
}

TEST_CASE("mac access-list entries parse, render and resolve") {
  auto e = parse_acl_entry(true, "host 0000.1111.2222 0060.3e12.3456 0000.00ff.ffff 0x0806",
                           AclFamily::mac);
  REQUIRE_MESSAGE(e.ok(), e.error().message);
  CHECK(render_acl_entry(*e, AclFamily::mac) ==
        "permit host 0000.1111.2222 0060.3e00.0000 0000.00ff.ffff 0x0806");
  auto named = parse_acl_entry(false, "any any arp", AclFamily::mac);
  REQUIRE(named.ok());
  CHECK(render_acl_entry(*named, AclFamily::mac) == "deny any any 0x0806");
  auto bare = parse_acl_entry(false, "any any", AclFamily::mac);
  REQUIRE(bare.ok());
  CHECK(render_acl_entry(*bare, AclFamily::mac) == "deny any any");

  for (const char* bad : {"any", "host 0000.1111 any", "any any 0x05ff", "any any 0x10000",
                          "any any ip extra", "0000.1111.2222 any"}) {
    auto r = parse_acl_entry(true, bad, AclFamily::mac);
    CHECK_MESSAGE(!r.ok(), bad);
  }
  CHECK(parse_acl_entry(true, "any any 0x05ff", AclFamily::mac).error().message ==
        "Invalid access-list entry at '0x05ff': expected an EtherType (0x0600-0xffff, ip, arp, "
        "ipv6, rarp) or the end");

  AccessList acl{"m", AclFamily::mac, true, {{10, *e}}};
  ResolvedAcl r = resolve_acl(acl);
  REQUIRE(r.entries.size() == 1);
  const ResolvedAce& a = r.entries[0];
  CHECK(r.family == AclFamily::mac);
  CHECK(a.src_mac == mac("0000.1111.2222"));
  CHECK(a.src_mac_mask == mac("ffff.ffff.ffff"));
  CHECK(a.dst_mac == mac("0060.3e00.0000"));
  CHECK(a.dst_mac_mask == mac("ffff.ff00.0000"));  // NX-OS masks ignore their 1 bits
  CHECK(a.ethertype == 0x0806);
  CHECK(a.protocol == -1);
}

TEST_CASE("mac access-lists: config mode, profiles, interfaces, integrity") {
  TestSwitch sw;
  sw.basic_config();
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", ""}).ok());
  sw.must({"configure terminal", "mac access-list macs", "statistics per-entry",
           "permit host 0000.1111.2222 any", "5 deny any any 0x86dd"});
  CHECK(sw.session.mode == Mode::config_mac_acl);
  CHECK(sw.refused("permit tcp any any").message.find("'tcp'") != std::string::npos);
  sw.must({"resequence mac access-list macs 100 5"});
  const SwitchModel model = sw.supervisor->model();  // a copy: keep it alive
  const AccessList& a = model.mac_acls.at("macs");
  CHECK(a.entries.size() == 2);
  CHECK(a.entries.contains(100));
  CHECK(a.entries.contains(105));

  sw.must({"port-profile web", "mac port access-group macs"});
  CHECK(veth1(sw).mac_acl_in.has_value());
  CHECK_FALSE(veth1(sw).mac_acl_out.has_value());
  sw.must({"mac port access-group macs out"});
  REQUIRE(veth1(sw).mac_acl_out.has_value());
  CHECK(veth1(sw).mac_acl_out->entries.at(0).seq == 100);
  CHECK(veth1(sw).mac_acl_out->statistics_per_entry);
  CHECK(sw.refused("mac port access-group nope").message == "mac access-list nope does not exist");

  sw.must({"interface vethernet 1", "mac port access-group macs in"});
  CHECK(sw.refused("no mac access-list macs").message ==
        "mac access-list macs is in use by port-profile web (in), port-profile web (out), "
        "Vethernet1 (in)");
  const std::string text = sw.supervisor->running_config();
  CHECK(text.find("\nmac access-list macs\n  statistics per-entry\n  100 deny any any 0x86dd\n"
                  "  105 permit host 0000.1111.2222 any\n") != std::string::npos);
  CHECK(text.find("  mac port access-group macs\n  mac port access-group macs out\n") !=
        std::string::npos);
  sw.must({"no mac port access-group macs in", "port-profile web", "no mac port access-group macs",
           "no mac port access-group macs out", "exit", "no mac access-list macs"});
  CHECK_FALSE(veth1(sw).mac_acl_in.has_value());
}

TEST_CASE("police: units, the default burst, and resolution into bytes") {
  auto r = resolve_policer("p", PoliceAction{10, RateUnit::mbps, 200, BurstUnit::ms});
  REQUIRE(r.ok());
  CHECK(r->cir_bytes_per_s == 1'250'000);
  CHECK(r->cbs_bytes == 250'000);
  r = resolve_policer("p", PoliceAction{1, RateUnit::gbps, 64, BurstUnit::kbytes});
  REQUIRE(r.ok());
  CHECK(r->cir_bytes_per_s == 125'000'000);
  CHECK(r->cbs_bytes == 65'536);
  r = resolve_policer("p", PoliceAction{8000, RateUnit::bps, std::nullopt, BurstUnit::bytes});
  REQUIRE(r.ok());
  CHECK(r->cir_bytes_per_s == 1000);
  CHECK(r->cbs_bytes == kMinDefaultBurstBytes);  // 200 ms of 1000 B/s is less than a frame
  r = resolve_policer("p", PoliceAction{100, RateUnit::mbps, std::nullopt, BurstUnit::bytes});
  REQUIRE(r.ok());
  CHECK(r->cbs_bytes == 12'500'000 / 5);  // 200 ms
  CHECK_FALSE(resolve_policer("p", PoliceAction{7, RateUnit::bps, {}, BurstUnit::bytes}).ok());
  CHECK_FALSE(resolve_policer("p", PoliceAction{9000, RateUnit::gbps, {}, BurstUnit::bytes}).ok());
  CHECK(resolve_policer("p", PoliceAction{8, RateUnit::bps, 1, BurstUnit::ms})
            .error()
            .message.find("policy-map p") != std::string::npos);
}

TEST_CASE("policy-map type qos: grammar, service-policy, integrity, datapath") {
  TestSwitch sw;
  sw.basic_config();
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", ""}).ok());
  sw.must({"configure terminal", "policy-map type qos slow", "class class-default"});
  CHECK(sw.session.mode == Mode::config_pmap_class);
  CHECK(sw.session.prompt() == "vfsw(config-pmap-c-qos)# ");
  CHECK(sw.refused("police cir 10 mbps").message == "Incomplete command at '^' marker.");
  CHECK(sw.refused("police cir 10 furlongs conform transmit violate drop").column == 14);
  sw.must({"police cir 10 mbps bc 200 ms conform transmit violate drop", "exit"});
  CHECK(sw.session.mode == Mode::config_pmap);
  CHECK(sw.session.policy_map == "slow");
  sw.must({"class class-default", "exit", "exit"});
  CHECK(sw.session.mode == Mode::config);

  sw.must({"port-profile web", "service-policy input slow"});
  auto v = veth1(sw);
  REQUIRE(v.police_in.has_value());
  CHECK(v.police_in->policy_map == "slow");
  CHECK(v.police_in->cir_bytes_per_s == 1'250'000);
  CHECK(v.police_in->cbs_bytes == 250'000);
  CHECK_FALSE(v.police_out.has_value());
  CHECK(sw.refused("service-policy output nope").message == "policy-map nope does not exist");

  // An edit of the policy-map reaches the port.
  sw.must({"policy-map type qos slow", "class class-default",
           "police cir 1 gbps conform transmit violate drop"});
  CHECK(veth1(sw).police_in->cir_bytes_per_s == 125'000'000);
  CHECK(veth1(sw).police_in->cbs_bytes == 25'000'000);

  CHECK(sw.refused("no policy-map type qos slow").message ==
        "policy-map slow is in use by port-profile web (input)");
  const std::string text = sw.supervisor->running_config();
  CHECK(text.find("\npolicy-map type qos slow\n  class class-default\n    police cir 1 gbps "
                  "conform transmit violate drop\n") != std::string::npos);
  CHECK(text.find("  service-policy input slow\n") != std::string::npos);

  sw.must({"port-profile web", "no service-policy input slow", "no policy-map type qos slow"});
  CHECK_FALSE(veth1(sw).police_in.has_value());
}

TEST_CASE("trunks: allowed list edits, native VLAN, fail closed when the native is not allowed") {
  TestSwitch sw;
  sw.basic_config();
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", ""}).ok());
  sw.must({"configure terminal", "vlan 30", "exit", "port-profile web", "switchport mode trunk",
           "switchport trunk allowed vlan 10,20"});
  auto v = veth1(sw);
  CHECK(v.mode == SwitchportMode::trunk);
  CHECK(v.trunk_allowed == std::vector<uint16_t>{10, 20});
  CHECK_FALSE(v.native_vlan.has_value());  // default native 1 is not carried
  CHECK(v.forwarding);

  sw.must({"switchport trunk allowed vlan add 30-40"});
  CHECK(veth1(sw).trunk_allowed == std::vector<uint16_t>{10, 20, 30});  // 31-40 undefined
  sw.must({"switchport trunk allowed vlan remove 20"});
  CHECK(veth1(sw).trunk_allowed == std::vector<uint16_t>{10, 30});
  sw.must({"switchport trunk allowed vlan except 10"});
  CHECK(veth1(sw).trunk_allowed == std::vector<uint16_t>{1, 20, 30});
  CHECK(veth1(sw).native_vlan == uint16_t{1});
  sw.must({"switchport trunk allowed vlan none"});
  CHECK(veth1(sw).trunk_allowed.empty());
  sw.must({"switchport trunk allowed vlan all"});
  CHECK(veth1(sw).trunk_allowed == std::vector<uint16_t>{1, 10, 20, 30});

  sw.must({"switchport trunk allowed vlan 10,20", "switchport trunk native vlan 30"});
  v = veth1(sw);
  CHECK_FALSE(v.forwarding);
  CHECK(v.reason == "native VLAN 30 of port-profile web is not in its allowed VLANs");
  sw.must({"switchport trunk allowed vlan add 30"});
  CHECK(veth1(sw).forwarding);
  CHECK(veth1(sw).native_vlan == uint16_t{30});
  const std::string text = sw.supervisor->running_config();
  CHECK(text.find("  switchport mode trunk\n  switchport access vlan 10\n  switchport trunk "
                  "allowed vlan 10,20,30\n  switchport trunk native vlan 30\n") !=
        std::string::npos);
  CHECK(sw.refused("no vlan 30").message == "VLAN 30 is in use by port-profile web");
  sw.must({"no switchport trunk native vlan", "no switchport trunk allowed vlan"});
  CHECK(veth1(sw).trunk_allowed == std::vector<uint16_t>{1, 10, 20, 30});
}

TEST_CASE("port-security, ip verify source and storm-control reach the datapath") {
  TestSwitch sw;
  sw.basic_config();
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", ""}).ok());
  sw.must({"configure terminal", "port-profile web", "switchport port-security"});
  auto v = veth1(sw);
  CHECK(v.port_security.enabled);
  CHECK(v.port_security.maximum == 1);
  CHECK(v.port_security.violation == ViolationMode::shutdown);
  sw.must({"switchport port-security mac-address 0000.1111.2222"});
  CHECK(sw.refused("switchport port-security mac-address 00:00:11:11:22:23").message ==
        "port-profile web would have 2 static port-security MACs, more than its maximum 1 (raise "
        "'switchport port-security maximum' first)");
  sw.must({"switchport port-security maximum 3",
           "switchport port-security mac-address 00:00:11:11:22:21",
           "switchport port-security violation restrict"});
  CHECK(sw.refused("switchport port-security maximum 1").message ==
        "port-profile web has 2 static port-security MACs, more than 1");
  CHECK(sw.refused("switchport port-security mac-address 0000.1111").message ==
        "'0000.1111' is not a MAC address (EEEE.EEEE.EEEE)");
  v = veth1(sw);
  CHECK(v.port_security.maximum == 3);
  CHECK(v.port_security.static_macs ==
        std::vector<MacBytes>{mac("0000.1111.2221"), mac("0000.1111.2222")});
  CHECK(v.port_security.violation == ViolationMode::restrict);

  sw.must({"ip verify source", "storm-control broadcast level 10.5",
           "storm-control multicast level 0", "storm-control unicast level 100.00"});
  for (const char* bad : {"101", "10.555", "-1", "1e2", "10.", ".5", "abc"})
    CHECK(sw.refused(std::string("storm-control broadcast level ") + bad).message ==
          "'" + std::string(bad) + "' is not a level 0-100 with at most two decimals");
  v = veth1(sw);
  CHECK(v.ip_verify_source);
  CHECK(v.storm.broadcast == doctest::Approx(10.5));
  CHECK(v.storm.multicast == 0.0);
  CHECK(v.storm.unicast == doctest::Approx(100.0));

  const std::string text = sw.supervisor->running_config();
  CHECK(text.find("  switchport port-security\n  switchport port-security maximum 3\n"
                  "  switchport port-security mac-address 0000.1111.2221\n"
                  "  switchport port-security mac-address 0000.1111.2222\n"
                  "  switchport port-security violation restrict\n  ip verify source\n"
                  "  storm-control broadcast level 10.50\n  storm-control multicast level 0.00\n"
                  "  storm-control unicast level 100.00\n") != std::string::npos);

  sw.must({"no storm-control broadcast level", "no ip verify source",
           "no switchport port-security mac-address 0000.1111.2221",
           "no switchport port-security violation", "no switchport port-security"});
  v = veth1(sw);
  CHECK(v.storm.broadcast == -1);
  CHECK_FALSE(v.ip_verify_source);
  CHECK_FALSE(v.port_security.enabled);
  CHECK(v.port_security.violation == ViolationMode::shutdown);
  CHECK(v.port_security.static_macs.size() == 1);
}

TEST_CASE("inherit port-profile: multi-level, local settings win, loops refused") {
  TestSwitch sw;
  sw.basic_config();
  sw.must({"configure terminal",
           "ip access-list base-in",
           "permit ip any any",
           "exit",
           "port-profile type vethernet base",
           "switchport access vlan 20",
           "ip port access-group base-in in",
           "switchport port-security",
           "storm-control broadcast level 5",
           "exit",
           "port-profile type vethernet mid",
           "inherit port-profile base",
           "storm-control broadcast level 7",
           "exit",
           "port-profile type vethernet leaf",
           "inherit port-profile mid",
           "switchport access vlan 10",
           "no switchport port-security",
           "state enabled",
           "exit"});
  REQUIRE(sw.supervisor->attach({0, "leaf", "vm1", "", ""}).ok());
  auto v = veth1(sw);
  CHECK(v.forwarding);
  CHECK(v.profile == "leaf");
  CHECK(v.access_vlan == 10);        // leaf's own
  REQUIRE(v.ip_acl_in.has_value());  // from base, two levels up
  CHECK(v.ip_acl_in->name == "base-in");
  CHECK_FALSE(v.port_security.enabled);              // leaf turns base's off
  CHECK(v.storm.broadcast == doctest::Approx(7.0));  // mid's over base's

  auto e = effective_profile(sw.supervisor->model(), "leaf");
  REQUIRE(e.ok());
  CHECK(e->chain == std::vector<std::string>{"leaf", "mid", "base"});

  // An edit of the grandparent reaches the port.
  sw.must({"port-profile base", "storm-control unicast level 3"});
  CHECK(veth1(sw).storm.unicast == doctest::Approx(3.0));

  CHECK(sw.refused("inherit port-profile leaf").message ==
        "inherit port-profile leaf would make a loop: base -> leaf -> mid -> base");
  CHECK(sw.refused("inherit port-profile base").message ==
        "inherit port-profile base would make a loop: base -> base");
  CHECK(sw.refused("inherit port-profile nope").message == "port-profile nope does not exist");
  sw.must({"exit"});
  CHECK(sw.refused("no port-profile mid").message ==
        "port-profile mid is inherited by port-profile leaf");
  CHECK(sw.refused("no port-profile leaf").message ==
        "port-profile leaf is inherited by Vethernet1");

  // Parents render before their children, whatever the names, so that the text replays.
  const std::string text = sw.supervisor->running_config();
  CHECK(text.find("port-profile type vethernet base") <
        text.find("port-profile type vethernet mid"));
  CHECK(text.find("port-profile type vethernet mid") <
        text.find("port-profile type vethernet leaf"));
  CHECK(text.find("port-profile type vethernet leaf\n  inherit port-profile mid\n") !=
        std::string::npos);

  sw.must({"port-profile leaf", "no inherit port-profile"});
  CHECK_FALSE(veth1(sw).ip_acl_in.has_value());
  CHECK(veth1(sw).storm.broadcast == -1);
}

TEST_CASE("interface vethernet overrides its profile") {
  TestSwitch sw;
  sw.basic_config();
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", ""}).ok());
  sw.must({"configure terminal", "ip access-list a", "permit ip any any", "exit",
           "policy-map type qos q", "class class-default",
           "police cir 100 kbps bc 10 kbytes conform transmit violate drop", "exit", "exit",
           "interface vethernet 1", "switchport access vlan 20", "ip port access-group a out",
           "service-policy output q", "switchport port-security", "ip verify source",
           "storm-control multicast level 1.25", "description uplink of vm1"});
  auto v = veth1(sw);
  CHECK(v.forwarding);
  CHECK(v.access_vlan == 20);
  CHECK(v.ip_acl_out.has_value());
  REQUIRE(v.police_out.has_value());
  CHECK(v.police_out->cir_bytes_per_s == 12'500);
  CHECK(v.police_out->cbs_bytes == 10'240);
  CHECK(v.port_security.enabled);
  CHECK(v.ip_verify_source);
  CHECK(v.storm.multicast == doctest::Approx(1.25));

  sw.must({"switchport access vlan 99"});
  CHECK_FALSE(veth1(sw).forwarding);
  CHECK(veth1(sw).reason == "access VLAN 99 of port-profile web is not defined");
  sw.must({"no switchport access vlan"});
  CHECK(veth1(sw).access_vlan == 10);
  CHECK(sw.refused("switchport mode trunk").message == "Invalid command at '^' marker.");
  sw.must({"exit"});
  CHECK(sw.refused("no ip access-list a").message ==
        "ip access-list a is in use by Vethernet1 (out)");
  CHECK(sw.refused("no policy-map type qos q").message ==
        "policy-map q is in use by Vethernet1 (output)");
  const std::string text = sw.supervisor->running_config();
  CHECK(text.find("\ninterface vethernet 1\n  inherit port-profile web\n  description uplink of "
                  "vm1\n  ip port access-group a out\n  service-policy output q\n  switchport "
                  "port-security\n  ip verify source\n  storm-control multicast level 1.25\n") !=
        std::string::npos);
}

TEST_CASE("a filter or policy-map that cannot be resolved closes the port, naming it") {
  SwitchModel m;
  m.vlans[10] = Vlan{10, "v"};
  PortProfile p;
  p.name = "web";
  p.state_enabled = true;
  p.access_vlan = 10;
  p.access_vlan_set = true;
  p.mac_acl_in = "gone";
  m.profiles["web"] = p;
  VethInterface itf;
  itf.number = 4;
  itf.profile = "web";
  m.interfaces[4] = itf;
  VethRecord rec{4, "k", "vm", "", "", 0};
  auto v = resolve_veth(m, rec);
  CHECK_FALSE(v.forwarding);
  CHECK(v.reason == "mac access-list gone (in) of port-profile web does not exist");
  m.profiles["web"].mac_acl_in.clear();
  m.interfaces[4].policy_in = "missing";
  v = resolve_veth(m, rec);
  CHECK_FALSE(v.forwarding);
  CHECK(v.reason == "policy-map missing (service-policy input) of port-profile web does not exist");
  m.interfaces[4].policy_in.clear();
  m.profiles["web"].inherit = "ghost";
  v = resolve_veth(m, rec);
  CHECK_FALSE(v.forwarding);
  CHECK(v.reason == "port-profile web inherits port-profile ghost, which does not exist");
  m.profiles["web"].inherit.clear();
  CHECK(resolve_veth(m, rec).forwarding);
}

TEST_CASE("monitor sessions and ip source bindings") {
  TestSwitch sw;
  sw.basic_config();
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", ""}).ok());
  REQUIRE(sw.supervisor->attach({1, "web", "vm2", "", ""}).ok());
  sw.must({"configure terminal", "monitor session 2"});
  CHECK(sw.session.mode == Mode::config_monitor);
  CHECK(sw.refused("source interface vethernet 9").message ==
        "Vethernet9 does not exist (configure 'interface vethernet 9' first)");
  sw.must({"source interface vethernet 1 rx", "source interface vethernet 2 tx"});
  CHECK(sw.refused("destination interface vethernet 2").message ==
        "Vethernet2 is a source of monitor session 2");
  sw.must({"no source interface vethernet 2", "destination interface vethernet 2"});
  CHECK(sw.refused("source interface vethernet 2").message ==
        "Vethernet2 is the destination of monitor session 2");
  auto cfg = sw.dataplane.last();
  REQUIRE(cfg.monitor_sessions.size() == 1);
  CHECK(cfg.monitor_sessions[0].id == 2);
  CHECK(cfg.monitor_sessions[0].rx_sources == std::vector<uint32_t>{1});
  CHECK(cfg.monitor_sessions[0].tx_sources.empty());
  CHECK(cfg.monitor_sessions[0].destination == uint32_t{2});
  CHECK(cfg.monitor_sessions[0].shut);
  sw.must({"source interface vethernet 1", "no shut"});
  cfg = sw.dataplane.last();
  CHECK(cfg.monitor_sessions[0].tx_sources == std::vector<uint32_t>{1});
  CHECK_FALSE(cfg.monitor_sessions[0].shut);

  sw.must({"exit", "ip source binding 10.0.0.5 0000.1111.2222 vlan 10 interface vethernet 1",
           "ip source binding 2001:db8::5 52:54:00:00:00:01 vlan 10 interface vethernet 1"});
  CHECK(sw.refused("ip source binding 10.0.0.5 0000.1111.3333 vlan 10 interface vethernet 2")
            .message ==
        "ip source binding 10.0.0.5 vlan 10 already exists (Vethernet1, 0000.1111.2222)");
  CHECK(sw.refused("ip source binding 10.0.0.300 0000.1111.3333 vlan 10 interface vethernet 2")
            .message == "'10.0.0.300' is not an IPv4 or IPv6 address");
  auto v = sw.dataplane.last().veths.at(0);
  REQUIRE(v.source_bindings.size() == 2);
  CHECK(v.source_bindings[0].ip[0] == 10);
  CHECK_FALSE(v.source_bindings[0].v6);
  CHECK(v.source_bindings[0].mac == mac("0000.1111.2222"));
  CHECK(v.source_bindings[0].vlan == 10);
  CHECK(v.source_bindings[1].v6);
  CHECK(sw.dataplane.last().veths.at(1).source_bindings.empty());

  REQUIRE(sw.supervisor->detach(0).ok());
  CHECK(sw.refused("no interface vethernet 1").message ==
        "Vethernet1 is in use by monitor session 2 (source), 2 ip source bindings");
  const std::string text = sw.supervisor->running_config();
  CHECK(text.find("\nip source binding 10.0.0.5 0000.1111.2222 vlan 10 interface vethernet 1\n"
                  "ip source binding 2001:db8::5 5254.0000.0001 vlan 10 interface vethernet 1\n"
                  "\nmonitor session 2\n  source interface vethernet 1 both\n"
                  "  destination interface vethernet 2\n  no shut\n") != std::string::npos);
  sw.must({"no ip source binding 10.0.0.5 0000.1111.2222 vlan 10 interface vethernet 1",
           "no monitor session 2"});
  CHECK(sw.dataplane.last().monitor_sessions.empty());
}

TEST_CASE("attach honours max-ports") {
  TestSwitch sw;
  sw.basic_config();
  sw.must({"configure terminal", "port-profile web", "max-ports 2"});
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", ""}).ok());
  REQUIRE(sw.supervisor->attach({1, "web", "vm2", "", ""}).ok());
  // The same vNIC again is not one more port.
  REQUIRE(sw.supervisor->attach({1, "web", "vm2", "", ""}).ok());
  auto r = sw.supervisor->attach({2, "web", "vm3", "", ""});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "attach of VF 2 refused: port-profile web has reached its max-ports 2 (bound: Vethernet1, "
        "Vethernet2)");
  CHECK(sw.refused("max-ports 1").message ==
        "port-profile web has 2 bound vEthernets, more than max-ports 1");
  // Interfaces that are not bound do not count.
  sw.must({"interface vethernet 9", "inherit port-profile web"});
  REQUIRE(sw.supervisor->detach(0).ok());
  REQUIRE(sw.supervisor->attach({2, "web", "vm3", "", ""}).ok());
  CHECK(sw.supervisor->running_config().find("  max-ports 2\n") != std::string::npos);
  // A bound interface moved onto a full profile is refused the same way.
  REQUIRE(sw.supervisor->attach({4, "db", "vm5", "", ""}).ok());
  const uint32_t db_port = sw.supervisor->registry().find_by_vf(4)->number;
  sw.must({"interface vethernet " + std::to_string(db_port)});
  CHECK(sw.refused("inherit port-profile web").message.find("has reached its max-ports 2") !=
        std::string::npos);
  sw.must({"port-profile web", "no max-ports"});
  REQUIRE(sw.supervisor->attach({3, "web", "vm4", "", ""}).ok());
}

TEST_CASE("policy settings as typed by a network engineer: abbreviations and modes") {
  TestSwitch sw;
  sw.basic_config();
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", ""}).ok());
  sw.must({"conf t", "policy-map ty q p1", "cl class-default", "pol cir 5 m bc 10 kb c t v d",
           "int veth 1", "service-policy in p1", "sw port-security max 2", "sto b l 1.5"});
  CHECK(sw.session.mode == Mode::config_if);
  auto v = veth1(sw);
  REQUIRE(v.police_in.has_value());
  CHECK(v.police_in->cir_bytes_per_s == 625'000);
  CHECK(v.police_in->cbs_bytes == 10'240);
  CHECK(v.port_security.maximum == 2);
  CHECK(v.storm.broadcast == doctest::Approx(1.5));
  // A configuration command of another mode leaves the sub-mode; exit climbs one level.
  sw.must({"policy-map type qos p1", "class class-default"});
  sw.must({"exit"});
  CHECK(sw.session.mode == Mode::config_pmap);
  sw.must({"monitor session 1"});
  CHECK(sw.session.mode == Mode::config_monitor);
  CHECK(sw.session.policy_map.empty());
  sw.must({"end"});
  CHECK(sw.session.mode == Mode::exec);
}

TEST_CASE("same_dataplane_config compares every field") {
  DataplaneConfig base;
  base.vlans = {1, 10};
  ResolvedVeth v;
  v.number = 1;
  v.ip_acl_in = ResolvedAcl{"a", AclFamily::ipv4, false, {ResolvedAce{}}};
  v.mac_acl_out = ResolvedAcl{"m", AclFamily::mac, false, {ResolvedAce{}}};
  v.police_in = ResolvedPolicer{"p", 1000, 2000};
  v.police_out = ResolvedPolicer{"p", 1000, 2000};
  v.source_bindings.push_back(SourceBinding{});
  base.veths.push_back(v);
  base.monitor_sessions.push_back(ResolvedMonitorSession{1, {1}, {1}, 2, false});
  CHECK(same_dataplane_config(base, base));

  using Edit = std::function<void(DataplaneConfig&)>;
  auto ace = [](DataplaneConfig& c) -> ResolvedAce& { return c.veths[0].ip_acl_in->entries[0]; };
  auto mace = [](DataplaneConfig& c) -> ResolvedAce& { return c.veths[0].mac_acl_out->entries[0]; };
  const std::vector<std::pair<const char*, Edit>> edits = {
      {"vlans", [](auto& c) { c.vlans.push_back(20); }},
      {"number", [](auto& c) { c.veths[0].number = 2; }},
      {"vf", [](auto& c) { c.veths[0].vf = 3; }},
      {"vm", [](auto& c) { c.veths[0].vm = "x"; }},
      {"vm_uuid", [](auto& c) { c.veths[0].vm_uuid = "x"; }},
      {"mac", [](auto& c) { c.veths[0].mac = "x"; }},
      {"profile", [](auto& c) { c.veths[0].profile = "x"; }},
      {"mode", [](auto& c) { c.veths[0].mode = SwitchportMode::trunk; }},
      {"access_vlan", [](auto& c) { c.veths[0].access_vlan = 7; }},
      {"forwarding", [](auto& c) { c.veths[0].forwarding = true; }},
      {"reason", [](auto& c) { c.veths[0].reason = "x"; }},
      {"trunk_allowed", [](auto& c) { c.veths[0].trunk_allowed = {5}; }},
      {"native_vlan", [](auto& c) { c.veths[0].native_vlan = 5; }},
      {"ip_acl_out", [](auto& c) { c.veths[0].ip_acl_out = ResolvedAcl{}; }},
      {"ipv6_acl_in", [](auto& c) { c.veths[0].ipv6_acl_in = ResolvedAcl{}; }},
      {"ipv6_acl_out", [](auto& c) { c.veths[0].ipv6_acl_out = ResolvedAcl{}; }},
      {"mac_acl_in", [](auto& c) { c.veths[0].mac_acl_in = ResolvedAcl{}; }},
      {"acl name", [](auto& c) { c.veths[0].ip_acl_in->name = "b"; }},
      {"acl family", [](auto& c) { c.veths[0].ip_acl_in->family = AclFamily::ipv6; }},
      {"acl statistics", [](auto& c) { c.veths[0].ip_acl_in->statistics_per_entry = true; }},
      {"acl entries", [](auto& c) { c.veths[0].ip_acl_in->entries.push_back({}); }},
      {"ace seq", [&](auto& c) { ace(c).seq = 5; }},
      {"ace permit", [&](auto& c) { ace(c).permit = true; }},
      {"ace protocol", [&](auto& c) { ace(c).protocol = 6; }},
      {"ace src", [&](auto& c) { ace(c).src.addr[3] = 1; }},
      {"ace src mask", [&](auto& c) { ace(c).src.mask[3] = 1; }},
      {"ace dst", [&](auto& c) { ace(c).dst.addr[3] = 1; }},
      {"ace dst mask", [&](auto& c) { ace(c).dst.mask[15] = 1; }},
      {"ace src_port", [&](auto& c) { ace(c).src_port.op = PortMatch::Op::eq; }},
      {"ace dst_port", [&](auto& c) { ace(c).dst_port.hi = 9; }},
      {"ace dst_port lo", [&](auto& c) { ace(c).dst_port.lo = 9; }},
      {"ace icmp_type", [&](auto& c) { ace(c).icmp_type = 8; }},
      {"ace icmp_code", [&](auto& c) { ace(c).icmp_code = 0; }},
      {"ace established", [&](auto& c) { ace(c).established = true; }},
      {"ace src_mac", [&](auto& c) { mace(c).src_mac[0] = 1; }},
      {"ace src_mac_mask", [&](auto& c) { mace(c).src_mac_mask[0] = 1; }},
      {"ace dst_mac", [&](auto& c) { mace(c).dst_mac[5] = 1; }},
      {"ace dst_mac_mask", [&](auto& c) { mace(c).dst_mac_mask[5] = 1; }},
      {"ace ethertype", [&](auto& c) { mace(c).ethertype = 0x0806; }},
      {"police_in", [](auto& c) { c.veths[0].police_in.reset(); }},
      {"police name", [](auto& c) { c.veths[0].police_out->policy_map = "q"; }},
      {"police cir", [](auto& c) { c.veths[0].police_out->cir_bytes_per_s = 1; }},
      {"police cbs", [](auto& c) { c.veths[0].police_out->cbs_bytes = 1; }},
      {"port_security enabled", [](auto& c) { c.veths[0].port_security.enabled = true; }},
      {"port_security maximum", [](auto& c) { c.veths[0].port_security.maximum = 4; }},
      {"port_security macs", [](auto& c) { c.veths[0].port_security.static_macs.push_back({}); }},
      {"port_security violation",
       [](auto& c) { c.veths[0].port_security.violation = ViolationMode::protect; }},
      {"ip_verify_source", [](auto& c) { c.veths[0].ip_verify_source = true; }},
      {"source_bindings", [](auto& c) { c.veths[0].source_bindings.push_back({}); }},
      {"binding ip", [](auto& c) { c.veths[0].source_bindings[0].ip[0] = 1; }},
      {"binding v6", [](auto& c) { c.veths[0].source_bindings[0].v6 = true; }},
      {"binding mac", [](auto& c) { c.veths[0].source_bindings[0].mac[0] = 1; }},
      {"binding vlan", [](auto& c) { c.veths[0].source_bindings[0].vlan = 3; }},
      {"storm broadcast", [](auto& c) { c.veths[0].storm.broadcast = 1; }},
      {"storm multicast", [](auto& c) { c.veths[0].storm.multicast = 1; }},
      {"storm unicast", [](auto& c) { c.veths[0].storm.unicast = 1; }},
      {"veths", [](auto& c) { c.veths.push_back({}); }},
      {"sessions", [](auto& c) { c.monitor_sessions.push_back({}); }},
      {"session id", [](auto& c) { c.monitor_sessions[0].id = 3; }},
      {"session rx", [](auto& c) { c.monitor_sessions[0].rx_sources.push_back(4); }},
      {"session tx", [](auto& c) { c.monitor_sessions[0].tx_sources.clear(); }},
      {"session destination", [](auto& c) { c.monitor_sessions[0].destination.reset(); }},
      {"session shut", [](auto& c) { c.monitor_sessions[0].shut = true; }},
  };
  for (const auto& [what, edit] : edits) {
    DataplaneConfig changed = base;
    edit(changed);
    CHECK_MESSAGE(!same_dataplane_config(base, changed), what);
  }
}
