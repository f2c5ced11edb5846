// Show commands against canned counters in the shape of the counters contract
// (Dataplane::counters_json()), running-config sections, and the pipes on them.
#include <doctest/doctest.h>

#include "vsm/cli_commands.h"
#include "vsm/cli_show.h"
#include "vsm/vsm_test_support.h"

using namespace vfs::vsm;
using nlohmann::json;
using vfs::vsm::testing::TestSwitch;

namespace {

json contract_counters() {
  return {{"slowpath", {{"rx_packets", 3}}},
          {"veths",
           {{"1",
             {{"vm", "vm1"},
              {"vf", 0},
              {"rx_packets", 812},
              {"rx_bytes", 96120},
              {"tx_packets", 790},
              {"tx_bytes", 88410},
              {"drops", {{"acl", 7}, {"port-security", 2}, {"police", 5}}},
              {"police",
               {{"input",
                 {{"conform_packets", 800},
                  {"conform_bytes", 90000},
                  {"violate_packets", 12},
                  {"violate_bytes", 1400}}}}},
              {"hw_rx_packets", 800}}}}},
          {"acl_entries", {{"ip:web-in", {{"10", 40}, {"20", 3}, {"0", 1}}}}}};
}

void police_config(TestSwitch& sw) {
  sw.must({"conf t", "policy-map type qos slow", "class class-default",
           "police cir 1 mbps bc 200 ms conform transmit violate drop", "end", "conf t",
           "port-profile web", "service-policy input slow", "end"});
}

}  // namespace

TEST_CASE("show interface vethernet N counters [detail], per the counters contract") {
  TestSwitch sw;
  sw.basic_config();
  sw.dataplane.set_counters(contract_counters());
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", "52:54:00:00:00:01"}).ok());

  auto out = sw.must({"show interface vethernet 1 counters"});
  CHECK(out ==
        "Vethernet1 counters\n"
        "  rx_packets  812\n"
        "  rx_bytes    96120\n"
        "  tx_packets  790\n"
        "  tx_bytes    88410\n"
        "  drops       14\n");
  auto j = json::parse(sw.must({"show interface vethernet 1 counters | json"}));
  CHECK(j["counters"]["drops"]["acl"] == 7);

  out = sw.must({"show interface vethernet 1 counters detail"});
  CHECK(out.find("  Drops by reason:\n    acl            7\n    police         5\n"
                 "    port-security  2\n") != std::string::npos);
  CHECK(out.find("  Police input:\n    conform  800 packets, 90000 bytes; action: transmit\n"
                 "    violate  12 packets, 1400 bytes; action: drop\n") != std::string::npos);
  CHECK(out.find("hw_rx_packets  800") != std::string::npos);
  j = json::parse(sw.must({"show interface vethernet 1 counters detail | json"}));
  CHECK(j["counters"]["police"]["input"]["violate_packets"] == 12);
  CHECK(sw.must({"show interface vethernet 1 counters detail | include acl"}) ==
        "    acl            7\n");

  // A datapath that reports nothing for the port: the counters say so, nothing throws.
  sw.dataplane.set_counters({{"veths", "garbage"}});
  CHECK(sw.must({"show interface vethernet 1 counters"}) ==
        "Vethernet1 counters\n  (no counters)\n");
  CHECK(sw.refused("show interface vethernet 2 counters").message == "Vethernet2 does not exist");
}

TEST_CASE("show interface vethernet N says why a port is down") {
  TestSwitch sw;
  sw.basic_config();
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", "52:54:00:00:00:01"}).ok());
  auto out = sw.must({"show interface vethernet 1"});
  CHECK(out.find("Vethernet1 is up\n") == 0);
  CHECK(out.find("  Owner is VM \"vm1\", address 52:54:00:00:00:01\n") != std::string::npos);
  CHECK(out.find("  Active on VF 0\n") != std::string::npos);
  CHECK(out.find("  Port-Profile is web\n") != std::string::npos);
  CHECK(out.find("  Access VLAN is 10\n") != std::string::npos);

  sw.must({"conf t", "port-profile web", "switchport access vlan 77", "end"});
  out = sw.must({"show interface vethernet 1"});
  CHECK(out.find("Vethernet1 is down\n  Reason: ") == 0);
  CHECK(out.find("77") != std::string::npos);
  auto j = json::parse(sw.must({"show interface vethernet 1 | json"}));
  CHECK(j["status"] == "down");
  CHECK(j["reason"].get<std::string>().find("77") != std::string::npos);
  CHECK(j["vf"] == 0);
  CHECK(j["mac"] == "52:54:00:00:00:01");
}

TEST_CASE("show policy-map interface vethernet N") {
  TestSwitch sw;
  sw.basic_config();
  sw.dataplane.set_counters(contract_counters());
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", ""}).ok());
  auto out = sw.must({"show policy-map interface vethernet 1"});
  CHECK(out.find("no service-policy") != std::string::npos);

  police_config(sw);
  out = sw.must({"show policy-map interface vethernet 1"});
  CHECK(out.find("Service-policy (qos) input:   slow") != std::string::npos);
  CHECK(out.find("police cir 1 mbps bc 200 ms conform transmit violate drop") != std::string::npos);
  CHECK(out.find("conform  800 packets, 90000 bytes; action: transmit") != std::string::npos);
  CHECK(out.find("violate  12 packets, 1400 bytes; action: drop") != std::string::npos);
  auto j = json::parse(sw.must({"show policy-map interface vethernet 1 | json"}));
  REQUIRE(j["service_policies"].size() == 1);
  CHECK(j["service_policies"][0]["direction"] == "input");
  CHECK(j["service_policies"][0]["cir_bps"] == 1000000);
  CHECK(j["service_policies"][0]["counters"]["conform_packets"] == 800);
  out = sw.must({"show interface vethernet 1"});
  CHECK(out.find("  Service-policy input: slow\n") != std::string::npos);
}

TEST_CASE("show port-profile usage and show running-config sections") {
  TestSwitch sw;
  sw.basic_config();
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", ""}).ok());
  REQUIRE(sw.supervisor->attach({1, "web", "vm2", "", ""}).ok());
  CHECK(sw.must({"show port-profile usage"}) ==
        "port-profile db\nport-profile web\n Vethernet1\n Vethernet2\n");
  auto j = json::parse(sw.must({"show port-profile usage | json"}));
  CHECK(j["port_profiles"][1]["interfaces"] == json::array({"Vethernet1", "Vethernet2"}));

  auto out = sw.must({"show running-config port-profile web"});
  CHECK(out.find("!Command: show running-config\n") == 0);
  CHECK(out.find("\nport-profile type vethernet web\n") != std::string::npos);
  CHECK(out.find("switchport access vlan 10") != std::string::npos);
  CHECK(out.find("port-profile type vethernet db") == std::string::npos);
  CHECK(out.find("interface vethernet") == std::string::npos);
  j = json::parse(sw.must({"sh run port-profile web | json"}));
  CHECK(j["name"] == "web");

  out = sw.must({"show running-config interface vethernet 2"});
  CHECK(out.find("\ninterface vethernet 2\n  inherit port-profile web\n") != std::string::npos);
  CHECK(out.find("interface vethernet 1\n") == std::string::npos);
  CHECK(sw.refused("show running-config port-profile nope").message ==
        "port-profile nope does not exist");
  CHECK(sw.refused("show running-config interface vethernet 9").message ==
        "Vethernet9 does not exist");
}

TEST_CASE("every pipe on every kind of show") {
  TestSwitch sw;
  sw.basic_config();
  sw.dataplane.set_counters(contract_counters());
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", ""}).ok());
  CHECK(sw.must({"show running-config | begin port-profile | include ^port"}) ==
        "port-profile type vethernet db\nport-profile type vethernet web\n");
  CHECK(sw.must({"show vlan brief | no-more | count"}) == "6\n");
  CHECK(sw.must({"show vlan brief | b ^10"}) ==
        "10   web                              active    Veth1\n"
        "20   db                               active\n");
  CHECK(sw.must({"show vlan brief | begin nothing-matches"}).empty());
  // Each show row takes each pipe: the text ones filter, json parses.
  for (const char* cmd :
       {"show running-config", "show vlan brief", "show port-profile", "show port-profile usage",
        "show interface brief", "show interface virtual", "show interface vethernet 1",
        "show interface vethernet 1 counters", "show interface vethernet 1 counters detail",
        "show policy-map interface vethernet 1", "show version", "show user-account",
        "show accounting log", "show checkpoint summary", "show slowpath counters"}) {
    INFO(cmd);
    CHECK(sw.run(std::string(cmd) + " | json").ok);
    CHECK_NOTHROW(json::parse(sw.run(std::string(cmd) + " | json").output));
    CHECK(sw.run(std::string(cmd) + " | include .").ok);
    CHECK(sw.run(std::string(cmd) + " | exclude .").output.find_first_not_of('\n') ==
          std::string::npos);
    CHECK(sw.run(std::string(cmd) + " | begin .").ok);
    CHECK(sw.run(std::string(cmd) + " | no-more").output == sw.run(cmd).output);
    CHECK(sw.run(std::string(cmd) + " | count").ok);
  }
}

TEST_CASE("show access lists with per-entry match counts") {
  TestSwitch sw;
  sw.must({"conf t", "ip access-list web-in", "statistics per-entry", "permit tcp any any eq 80",
           "deny ip any any", "ip access-list plain", "permit ip any any", "end"});
  sw.dataplane.set_counters(contract_counters());
  CHECK(sw.must({"show ip access-lists web-in"}) ==
        "IP access list web-in\n"
        "        statistics per-entry\n"
        "        10 permit tcp any any eq 80 [match=40]\n"
        "        20 deny ip any any [match=3]\n"
        "        implicit deny [match=1]\n\n");
  auto j = json::parse(sw.must({"show ip access-lists web-in | json"}));
  CHECK(j[0]["entries"][0]["matches"] == 40);
  CHECK(j[0]["implicit_deny_matches"] == 1);
  CHECK(sw.must({"show ip access-lists plain"}) ==
        "IP access list plain\n        10 permit ip any any\n\n");
  CHECK(sw.must({"show ip access-lists | count"}) == "9\n");
  CHECK(sw.refused("show ip access-lists nope").message == "ip access-list nope does not exist");
  CHECK(sw.must({"show ipv6 access-lists"}).empty());
  CHECK(sw.must({"show mac access-lists"}).empty());
}
