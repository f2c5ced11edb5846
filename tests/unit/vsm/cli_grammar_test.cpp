// The CLI grammar: abbreviations, carets, modes, no forms, VLAN lists, pipes, and the
// command table itself.
#include <doctest/doctest.h>

#include <set>

#include "base/atomic_file.h"
#include "vsm/cli_commands.h"
#include "vsm/vlan_list.h"
#include "vsm/vsm_test_support.h"

using namespace vfs::vsm;
using vfs::vsm::testing::TestSwitch;

TEST_CASE("every command has help, and a rest-of-line argument only at the end") {
  std::set<std::pair<uint32_t, std::string>> seen;
  for (const auto& c : command_table()) {
    INFO(c.syntax());
    CHECK_FALSE(c.help.empty());
    CHECK(c.handler);
    CHECK(c.modes != 0);
    REQUIRE_FALSE(c.path.empty());
    for (size_t i = 0; i + 1 < c.path.size(); ++i) CHECK(c.path[i].kind != TokenSpec::Kind::text);
    for (const auto& t : c.path) CHECK_FALSE(t.name.empty());
    CHECK(seen.insert({c.modes, c.syntax()}).second);  // no duplicate rows
  }
}

TEST_CASE("unique prefixes abbreviate keywords, case-insensitively") {
  TestSwitch sw;
  sw.must({"conf t"});
  CHECK(sw.session.mode == Mode::config);
  sw.must({"end", "CONF T", "int veth 3", "desc web frontend"});
  CHECK(sw.session.mode == Mode::config_if);
  CHECK(sw.supervisor->model().interfaces.at(3).description == "web frontend");
  auto out = sw.must({"end", "sh run"});
  CHECK(out.find("interface vethernet 3\n  description web frontend\n") != std::string::npos);
  CHECK(sw.must({"sh ver"}).find("vfswitch Software") != std::string::npos);
}

TEST_CASE("errors put the caret under the offending token") {
  TestSwitch sw;
  auto f = sw.refused("show vlna brief");
  CHECK(f.message == "Invalid command at '^' marker.");
  CHECK(f.column == 5);
  CHECK(render_failure("show vlna brief", f) ==
        "show vlna brief\n     ^\n% Invalid command at '^' marker.");

  f = sw.refused("sh int v 1");  // vethernet or virtual
  CHECK(f.message == "Ambiguous command at '^' marker.");
  CHECK(f.column == 7);

  sw.must({"conf t"});
  f = sw.refused("vlan");
  CHECK(f.message == "Incomplete command at '^' marker.");
  CHECK(f.column == 5);
  f = sw.refused("vlan 5000");
  CHECK(f.message == "Invalid range at '^' marker.");
  CHECK(f.column == 5);
  f = sw.refused("vlan 10 extra");
  CHECK(f.message == "Invalid command at '^' marker.");
  CHECK(f.column == 8);
  f = sw.refused("  vlan 10\x01");
  CHECK(f.column == 9);
  f = sw.refused("interface vethernet x");
  CHECK(f.message == "Invalid number at '^' marker.");
  CHECK(f.column == 20);

  sw.must({"port-profile type vethernet web"});
  f = sw.refused("no s");  // switchport, state, shutdown
  CHECK(f.message == "Ambiguous command at '^' marker.");
  CHECK(f.column == 3);
  f = sw.refused("switchport access vlan 0");
  CHECK(f.message == "Invalid range at '^' marker.");
  CHECK(f.column == 23);
  f = sw.refused("description " + std::string(300, 'x'));
  CHECK(f.message == "String exceeded max length of (254) at '^' marker.");
  CHECK(f.column == 12);
}

TEST_CASE("modes: prompts, exit and end, and commands of parent modes") {
  TestSwitch sw;
  CHECK(sw.session.prompt() == "vfsw# ");
  CHECK(sw.refused("vlan 10").column == 0);  // config command in exec mode
  CHECK(sw.refused("exit").column == 0);     // exec has no exit: the client quits

  sw.must({"configure terminal"});
  CHECK(sw.session.prompt() == "vfsw(config)# ");
  sw.must({"vlan 10"});
  CHECK(sw.session.prompt() == "vfsw(config-vlan)# ");
  sw.must({"exit"});
  CHECK(sw.session.mode == Mode::config);
  sw.must({"exit"});
  CHECK(sw.session.mode == Mode::exec);

  sw.must({"conf t", "port-profile type vethernet web"});
  CHECK(sw.session.prompt() == "vfsw(config-port-prof)# ");
  // show works from any mode and leaves the mode alone
  CHECK(sw.must({"show port-profile name web"}).find("port-profile web") != std::string::npos);
  CHECK(sw.session.mode == Mode::config_port_prof);
  // a config command typed in a sub-mode moves the session to that mode's parent first
  sw.must({"vlan 20"});
  CHECK(sw.session.mode == Mode::config_vlan);
  CHECK(sw.session.vlans == std::vector<uint16_t>{20});
  sw.must({"interface vethernet 4"});
  CHECK(sw.session.prompt() == "vfsw(config-if)# ");
  sw.must({"end"});
  CHECK(sw.session.mode == Mode::exec);

  // sub-mode commands don't exist in config mode
  sw.must({"conf t"});
  CHECK(sw.refused("state enabled").column == 0);
  CHECK(sw.refused("name x").column == 0);
}

TEST_CASE("VLAN lists") {
  CHECK(parse_vlan_list("10") == std::vector<uint16_t>{10});
  CHECK(parse_vlan_list("12-14,10,13") == std::vector<uint16_t>{10, 12, 13, 14});
  CHECK(parse_vlan_list("1-4094")->size() == 4094);
  for (const char* bad :
       {"", "0", "4095", "10-", "-10", "20-10", "10,,20", "10,", "a", "1-2-3", "99999"}) {
    INFO(bad);
    CHECK_FALSE(parse_vlan_list(bad));
  }
  CHECK(format_vlan_list({1, 10, 11, 12, 20, 22, 23}) == "1,10-12,20,22-23");

  TestSwitch sw;
  sw.must({"conf t", "vlan 10-12,20", "name blue"});
  auto m = sw.supervisor->model();
  CHECK(m.vlans.size() == 5);
  CHECK(m.vlans.at(11).name == "blue");
  CHECK(m.vlans.at(20).name == "blue");
  sw.must({"no name"});
  CHECK(sw.supervisor->model().vlans.at(11).name == "VLAN0011");
  sw.must({"exit", "no vlan 11-12"});
  m = sw.supervisor->model();
  CHECK(m.vlans.size() == 3);
  CHECK(m.vlans.contains(10));
  CHECK_FALSE(m.vlans.contains(11));
  CHECK(sw.refused("no vlan 1").message == "VLAN 1 is the default VLAN and cannot be deleted");
  sw.must({"vlan 1"});
  CHECK(sw.refused("name x").message == "VLAN 1 is the default VLAN and cannot be renamed");
}

TEST_CASE("no forms restore defaults") {
  TestSwitch sw;
  sw.must({"conf t", "vlan 30", "port-profile type vethernet p", "switchport access vlan 30",
           "state enabled", "shutdown", "description hello world"});
  auto p = sw.supervisor->model().profiles.at("p");
  CHECK(p.access_vlan == 30);
  CHECK(p.state_enabled);
  CHECK(p.shutdown);
  CHECK(p.description == "hello world");
  sw.must({"no switchport access vlan", "no state enabled", "no shutdown", "no description",
           "no switchport mode"});
  p = sw.supervisor->model().profiles.at("p");
  PortProfile defaults;
  defaults.name = "p";
  // `no shutdown` is a setting of its own: it overrides a shutdown an inherited profile has.
  defaults.shutdown_set = true;
  CHECK(p == defaults);

  sw.must({"interface vethernet 7", "inherit port-profile p", "shutdown", "description x"});
  sw.must({"no inherit port-profile", "no shutdown", "no description"});
  VethInterface bare;
  bare.number = 7;
  CHECK(sw.supervisor->model().interfaces.at(7) == bare);
  sw.must({"exit", "no interface vethernet 7", "no port-profile p"});
  CHECK(sw.supervisor->model().interfaces.empty());
  CHECK(sw.supervisor->model().profiles.empty());
  sw.must({"port-profile type vethernet q", "exit", "no port-profile type vethernet q"});
  CHECK(sw.supervisor->model().profiles.empty());
}

TEST_CASE("port-profile NAME enters an existing profile only") {
  TestSwitch sw;
  sw.must({"conf t"});
  auto f = sw.refused("port-profile web");
  CHECK(f.message.find("port-profile web does not exist") == 0);
  CHECK(sw.session.mode == Mode::config);
  sw.must({"port-profile type vethernet web", "exit", "port-profile web"});
  CHECK(sw.session.profile == "web");
  // keyword prefixes win over names: "ty" means "type"
  CHECK(sw.refused("port-profile ty").message == "Incomplete command at '^' marker.");
}

TEST_CASE("pipes on show commands") {
  TestSwitch sw;
  sw.basic_config();
  auto out = sw.must({"show vlan brief | include web"});
  CHECK(out == "10   web                              active\n");
  out = sw.must({"show vlan brief | exclude \"^-|VLAN|^$\" | count"});
  CHECK(out == "3\n");
  out = sw.must({"show vlan brief | i \"web|db\" | c"});
  CHECK(out == "2\n");
  out = sw.must({"show vlan brief | json"});
  auto j = nlohmann::json::parse(out);
  REQUIRE(j["vlans"].size() == 3);
  CHECK(j["vlans"][1]["id"] == 10);
  CHECK(j["vlans"][1]["name"] == "web");
  out = sw.must({"sh port-profile | json | include access_vlan"});
  CHECK(out.find("\"access_vlan\": 10") != std::string::npos);
  CHECK(out.find("\"access_vlan\": 20") != std::string::npos);
  auto rc = nlohmann::json::parse(sw.must({"show running-config | json"}));
  CHECK(rc["port_profiles"].size() == 2);

  auto f = sw.refused("show vlan brief | include (");
  CHECK(f.message == "Invalid regular expression at '^' marker.");
  CHECK(f.column == 26);
  f = sw.refused("show vlan brief | bogus");
  CHECK(f.message == "Invalid command at '^' marker.");
  CHECK(f.column == 18);
  f = sw.refused("show vlan brief | include");
  CHECK(f.message == "Incomplete command at '^' marker.");
  f = sw.refused("show vlan brief | count | json");
  CHECK(f.column == 26);
  f = sw.refused("show vlan brief |");
  CHECK(f.message == "Incomplete command at '^' marker.");
  sw.must({"conf t"});
  f = sw.refused("vlan 10 | json");  // configuration commands take no pipes
  CHECK(f.message == "Invalid command at '^' marker.");
  CHECK(f.column == 8);
  CHECK(sw.supervisor->model().vlans.size() == 3);
}

TEST_CASE("show commands render the model and the datapath's counters") {
  TestSwitch sw;
  sw.basic_config();
  sw.dataplane.set_counters({{"slowpath", {{"rx_packets", 12}, {"drops", {{"no_policy", 3}}}}},
                             {"veths", {{"1", {{"rx_packets", 5}, {"tx_packets", 7}}}}}});
  auto n = sw.supervisor->attach({0, "web", "vm1", "", "52:54:00:00:00:01"});
  REQUIRE(n.ok());
  CHECK(*n == 1);

  auto out = sw.must({"show slowpath counters"});
  CHECK(out.find("rx_packets") != std::string::npos);
  CHECK(out.find("drops.no_policy  3") != std::string::npos);
  CHECK(nlohmann::json::parse(sw.must({"show slowpath counters | json"}))["rx_packets"] == 12);

  out = sw.must({"show interface vethernet 1"});
  CHECK(out.find("Vethernet1 is up\n") == 0);
  CHECK(out.find("Active on VF 0") != std::string::npos);
  CHECK(out.find("Access VLAN is 10") != std::string::npos);
  CHECK(out.find("tx_packets  7") != std::string::npos);
  out = sw.must({"show interface vethernet 1 counters | json"});
  CHECK(nlohmann::json::parse(out)["counters"]["rx_packets"] == 5);
  CHECK(sw.refused("show interface vethernet 9").message == "Vethernet9 does not exist");

  out = sw.must({"show interface brief"});
  CHECK(out.find("Veth1         10    access  up      web                  none") !=
        std::string::npos);
  out = sw.must({"show interface virtual"});
  CHECK(out.find("Veth1         0     vm1                      52:54:00:00:00:01  web") !=
        std::string::npos);
  out = sw.must({"show vlan brief | include ^10"});
  CHECK(out == "10   web                              active    Veth1\n");
  out = sw.must({"show port-profile name web"});
  CHECK(out.find(" status: enabled\n") != std::string::npos);
  CHECK(out.find(" assigned interfaces:\n  Vethernet1") != std::string::npos);
  CHECK(sw.refused("show port-profile name nope").message == "port-profile nope does not exist");

  sw.must({"conf t", "port-profile web", "shutdown", "end"});
  out = sw.must({"show interface brief | include Veth1"});
  CHECK(out.find("down") != std::string::npos);
  CHECK(out.find("port-profile web is shut down") != std::string::npos);
}

TEST_CASE("show startup-config and copy running-config startup-config") {
  TestSwitch sw;
  CHECK(sw.refused("show startup-config").message.find("no startup-config") == 0);
  sw.basic_config();
  CHECK(sw.must({"copy running-config startup-config"}) == "Copy complete.\n");
  CHECK(sw.must({"show startup-config"}) == sw.supervisor->running_config());
  CHECK(sw.must({"copy r s"}) == "Copy complete.\n");
}

TEST_CASE("docs/cli.md documents every command") {
  auto doc = vfs::read_file((vfs::vsm::testing::repo_root() / "docs/cli.md").string());
  REQUIRE_MESSAGE(doc.ok(), doc.error().message);
  for (const auto& c : command_table()) {
    INFO(c.syntax());
    CHECK(doc->find("`" + c.syntax() + "`") != std::string::npos);
  }
}

TEST_CASE("where names the configuration context in every mode") {
  TestSwitch sw;
  sw.basic_config();
  CHECK(sw.must({"conf t", "end", "where"}) == "  exec\n");
  CHECK(sw.must({"conf t", "where"}) == "  conf\n");
  CHECK(sw.must({"port-profile type vethernet web", "where"}) ==
        "  conf; port-profile type vethernet web\n");
  CHECK(sw.must({"exit", "vlan 10,20", "where"}) == "  conf; vlan 10,20\n");
  CHECK(sw.must({"exit", "policy-map type qos q", "class class-default", "where"}) ==
        "  conf; policy-map type qos q; class class-default\n");
  CHECK(sw.must({"end", "where | json"}).find("\"context\"") != std::string::npos);
}
