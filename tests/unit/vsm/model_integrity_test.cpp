// Referential integrity, all-or-nothing commands, and the DataplaneConfig the supervisor
// resolves and applies.
#include <doctest/doctest.h>

#include "vsm/dataplane_config.h"
#include "vsm/running_config.h"
#include "vsm/vsm_test_support.h"

using namespace vfs::vsm;
using vfs::vsm::testing::TestSwitch;

TEST_CASE("objects in use cannot be deleted; the error names the users") {
  TestSwitch sw;
  sw.basic_config();
  sw.must({"conf t", "port-profile type vethernet web2", "switchport access vlan 10"});
  auto f = sw.refused("no vlan 10");
  CHECK(f.message == "VLAN 10 is in use by port-profiles web, web2");
  CHECK(f.column == -1);
  f = sw.refused("no vlan 5-20");
  CHECK(f.message == "VLAN 10 is in use by port-profiles web, web2");
  sw.must({"no port-profile web2"});
  CHECK(sw.refused("no vlan 10").message == "VLAN 10 is in use by port-profile web");

  sw.must({"interface vethernet 3", "inherit port-profile web", "interface vethernet 5",
           "inherit port-profile web"});
  CHECK(sw.refused("no port-profile web").message ==
        "port-profile web is inherited by Vethernet3, Vethernet5");
  CHECK(sw.refused("inherit port-profile nope").message == "port-profile nope does not exist");
  CHECK(sw.refused("no port-profile nope").message == "port-profile nope does not exist");
  CHECK(sw.refused("no interface vethernet 99").message == "Vethernet99 does not exist");
}

TEST_CASE("a failing command changes nothing") {
  TestSwitch sw;
  sw.basic_config();
  sw.must({"conf t", "interface vethernet 1", "inherit port-profile web", "end"});
  const SwitchModel before = sw.supervisor->model();
  const std::string text = sw.supervisor->running_config();
  const int applies = sw.dataplane.applied();

  sw.must({"conf t"});
  for (const char* bad :
       {"no vlan 10", "no vlan 1-30", "no port-profile web", "vlan 10-5000", "port-profile nope",
        "interface vethernet 0", "vlan 10 name x", "no vlan 1"}) {
    INFO(bad);
    CHECK_FALSE(sw.run(bad).ok);
    CHECK(sw.session.mode == Mode::config);
  }
  sw.must({"vlan 1"});
  CHECK_FALSE(sw.run("name renamed").ok);
  CHECK(sw.session.mode == Mode::config_vlan);
  CHECK(sw.supervisor->model() == before);
  CHECK(sw.supervisor->running_config() == text);
  CHECK(sw.dataplane.applied() == applies);
}

TEST_CASE("a change the datapath refuses is rolled back") {
  TestSwitch sw;
  sw.basic_config();
  REQUIRE(sw.supervisor->attach({2, "web", "vm1", "", ""}).ok());
  const SwitchModel before = sw.supervisor->model();
  sw.dataplane.refuse_applies(vfs::make_error(ENOSPC, "eSwitch table full"));

  sw.must({"conf t", "port-profile web"});
  auto r = sw.run("switchport access vlan 20");
  REQUIRE_FALSE(r.ok);
  CHECK(r.failure.message == "the datapath refused the change: eSwitch table full");
  CHECK(sw.supervisor->model() == before);
  CHECK(sw.session.mode == Mode::config_port_prof);

  // a change that does not affect the datapath is not sent to it
  int calls = sw.dataplane.apply_calls();
  sw.must({"description still editable"});
  CHECK(sw.dataplane.apply_calls() == calls);

  auto a = sw.supervisor->attach({3, "db", "vm2", "", ""});
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().message.find("eSwitch table full") != std::string::npos);
  CHECK(sw.supervisor->registry().find_by_vf(3) == nullptr);

  sw.dataplane.refuse_applies(std::nullopt);
  sw.must({"switchport access vlan 20"});
  CHECK(sw.dataplane.last().veths.at(0).access_vlan == 20);
}

TEST_CASE("bound vEthernets resolve to forwarding, or fail closed with the reason") {
  TestSwitch sw;
  sw.basic_config();
  REQUIRE(sw.supervisor->attach({1, "web", "vm1", "uuid-1", "52:54:00:00:00:01"}).ok());
  auto cfg = sw.dataplane.last();
  CHECK(cfg.vlans == std::vector<uint16_t>{1, 10, 20});
  REQUIRE(cfg.veths.size() == 1);
  const ResolvedVeth& v = cfg.veths[0];
  CHECK(v.number == 1);
  CHECK(v.vf == 1);
  CHECK(v.vm == "vm1");
  CHECK(v.vm_uuid == "uuid-1");
  CHECK(v.mac == "52:54:00:00:00:01");
  CHECK(v.profile == "web");
  CHECK(v.mode == SwitchportMode::access);
  CHECK(v.access_vlan == 10);
  CHECK(v.forwarding);
  CHECK(v.reason.empty());

  auto reason_after = [&](std::vector<std::string> cmds) {
    sw.must({"conf t"});
    sw.must(cmds);
    sw.must({"end"});
    auto c = sw.dataplane.last();
    REQUIRE(c.veths.size() == 1);
    return c.veths[0].forwarding ? std::string("forwarding") : c.veths[0].reason;
  };
  CHECK(reason_after({"port-profile web", "no state enabled"}) ==
        "port-profile web is not enabled");
  CHECK(reason_after({"port-profile web", "state enabled"}) == "forwarding");
  CHECK(reason_after({"port-profile web", "shutdown"}) == "port-profile web is shut down");
  CHECK(reason_after({"port-profile web", "no shutdown"}) == "forwarding");
  CHECK(reason_after({"port-profile web", "switchport access vlan 30"}) ==
        "access VLAN 30 of port-profile web is not defined");
  CHECK(reason_after({"vlan 30"}) == "forwarding");
  CHECK(reason_after({"interface vethernet 1", "shutdown"}) == "Vethernet1 is shut down");
  CHECK(reason_after({"interface vethernet 1", "no shutdown", "no inherit port-profile"}) ==
        "no port-profile inherited");
  CHECK(reason_after({"interface vethernet 1", "inherit port-profile db"}) == "forwarding");
  CHECK(sw.dataplane.last().veths[0].access_vlan == 20);

  sw.must({"conf t"});
  auto f = sw.refused("no interface vethernet 1");
  CHECK(f.message == "Vethernet1 is attached to VF 1 (VM vm1); detach it first");
}

TEST_CASE("a sub-mode whose object another session deleted says so") {
  TestSwitch sw;
  sw.must({"conf t", "port-profile type vethernet web"});
  vfs::vsm::CliSession other;
  REQUIRE(sw.supervisor->execute(other, "configure terminal").ok);
  REQUIRE(sw.supervisor->execute(other, "no port-profile web").ok);
  CHECK(sw.refused("state enabled").message == "port-profile web no longer exists");
}
