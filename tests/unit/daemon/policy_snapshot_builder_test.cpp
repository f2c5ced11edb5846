#include <doctest/doctest.h>

#include "slowpath/daemon/policy_snapshot_builder.h"

using namespace vfs;

TEST_CASE("a DataplaneConfig becomes a snapshot indexed by representor port") {
  std::vector<drivers::PortInfo> ports = {
      {5, drivers::PortRole::uplink, -1, "up", "x"},
      {6, drivers::PortRole::vf, 0, "vf0", "xvf0"},
      {7, drivers::PortRole::vf, 1, "vf1", "xvf1"},
  };

  vsm::DataplaneConfig cfg;
  cfg.vlans = {1, 10};
  vsm::ResolvedVeth v;
  v.number = 4;
  v.vf = 1;
  v.vm = "vm1";
  v.access_vlan = 10;
  v.forwarding = true;
  cfg.veths.push_back(v);
  auto s = daemon::build_policy_snapshot(ports, cfg, 9);
  REQUIRE(s.ok());
  CHECK(s->generation == 9);
  CHECK(s->vlans.test(10));
  CHECK_FALSE(s->vlans.test(20));
  REQUIRE(s->ports.size() == 8);
  CHECK(s->ports[5].kind == offload::PortKind::uplink);
  CHECK(s->ports[5].forwarding);
  CHECK_FALSE(s->ports[6].bound);  // VF 0 has no vEthernet: fails closed
  CHECK(s->ports[7].bound);
  CHECK(s->ports[7].veth == 4);
  CHECK(s->ports[7].access_vlan == 10);
  CHECK_FALSE(s->ports[0].bound);  // not our port at all

  cfg.veths[0].vf = 3;
  auto missing = daemon::build_policy_snapshot(ports, cfg, 10);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("VF 3") != std::string::npos);

  cfg.veths[0].vf = 1;
  cfg.veths.push_back(cfg.veths[0]);
  cfg.veths[1].number = 5;
  auto twice = daemon::build_policy_snapshot(ports, cfg, 11);
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().message.find("twice") != std::string::npos);
}
