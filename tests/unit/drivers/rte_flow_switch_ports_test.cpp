// rte_flow driver, port choice: which ethdev is the uplink, which VF each representor is,
// and the error that tells the operator what is missing. Facts are written by hand the
// way mlx5 reports them, so no NIC is needed.
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "drivers/rte_flow/switch_ports.h"

using namespace vfs::drivers;

namespace {

EthdevFacts pf(uint16_t port, uint16_t domain = 0) {
  EthdevFacts f;
  f.port = port;
  f.name = "0000:03:00.0";
  f.domain_id = domain;
  return f;
}

EthdevFacts vf_rep(uint16_t port, int vf, uint16_t domain = 0, int pf_index = 0) {
  EthdevFacts f;
  f.port = port;
  f.name = "0000:03:00.0_representor_vf" + std::to_string(vf);
  f.representor = true;
  f.domain_id = domain;
  f.rep_type = RepresentorType::vf;
  f.rep_index = vf;
  f.rep_pf = pf_index;
  return f;
}

bool has_text(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("uplink first, then VFs by index, whatever the port order") {
  auto r = choose_switch_ports({vf_rep(1, 2), pf(0), vf_rep(3, 0), vf_rep(2, 1)}, "0000:03:00.0");
  REQUIRE(r.ok());
  const auto& p = *r;
  REQUIRE(p.size() == 4);
  CHECK(p[0].role == PortRole::uplink);
  CHECK(p[0].ethdev_port == 0);
  CHECK(p[0].vf_index == -1);
  CHECK(p[0].name == "0000:03:00.0");
  for (int i = 0; i < 3; ++i) {
    CHECK(p[i + 1].role == PortRole::vf);
    CHECK(p[i + 1].vf_index == i);
  }
  CHECK(p[1].ethdev_port == 3);
  CHECK(p[2].ethdev_port == 2);
  CHECK(p[3].ethdev_port == 1);
}

TEST_CASE("no ethdev at all names the fix") {
  auto r = choose_switch_ports({}, "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ENODEV);
  CHECK(r.error().message ==
        "driver rte_flow: EAL found no ethdev; pass --pci <PF address> of a NIC in switchdev "
        "mode bound to its DPDK driver (mlx5, ice...)");
  auto with_pci = choose_switch_ports({}, "0000:03:00.0");
  CHECK(has_text(with_pci.error().message, "no ethdev for 0000:03:00.0"));
}

TEST_CASE("ethdevs outside any eSwitch: switchdev is missing") {
  EthdevFacts ring;
  ring.port = 0;
  ring.name = "net_ring0";
  auto r = choose_switch_ports({ring, pf(1, 0xffff)}, "0000:03:00.0");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ENODEV);
  CHECK(has_text(r.error().message, "0 net_ring0"));
  CHECK(has_text(r.error().message, "devlink dev eswitch set pci/0000:03:00.0 mode switchdev"));
}

TEST_CASE("a PF without representors: representor devargs are missing") {
  auto r = choose_switch_ports({pf(0)}, "0000:03:00.0");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ENODEV);
  CHECK(has_text(r.error().message, "no VF representor"));
  CHECK(has_text(r.error().message, "-a 0000:03:00.0,representor=vf[0-N]"));
}

TEST_CASE("ports outside the eSwitch are left alone") {
  EthdevFacts tap;
  tap.port = 5;
  tap.name = "net_tap0";
  auto r = choose_switch_ports({tap, pf(0), vf_rep(1, 0)}, "");
  REQUIRE(r.ok());
  CHECK(r->size() == 2);
}

TEST_CASE("inconsistent switches are refused") {
  SUBCASE("representors in two domains") {
    auto r = choose_switch_ports({pf(0, 0), vf_rep(1, 0, 0), pf(2, 1), vf_rep(3, 0, 1)}, "");
    REQUIRE_FALSE(r.ok());
    CHECK(has_text(r.error().message, "2 eSwitch domains"));
  }
  SUBCASE("no PF probed") {
    auto r = choose_switch_ports({vf_rep(0, 0), vf_rep(1, 1)}, "");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ENODEV);
    CHECK(has_text(r.error().message, "no PF (uplink) port"));
  }
  SUBCASE("two PFs in the domain") {
    auto r = choose_switch_ports({pf(0), pf(1), vf_rep(2, 0)}, "");
    REQUIRE_FALSE(r.ok());
    CHECK(has_text(r.error().message, "cannot tell which is the uplink"));
  }
  SUBCASE("two representors claim one VF") {
    auto r = choose_switch_ports({pf(0), vf_rep(1, 3), vf_rep(2, 3)}, "");
    REQUIRE_FALSE(r.ok());
    CHECK(has_text(r.error().message, "VF 3 has two representors"));
  }
  SUBCASE("VFs of two PFs") {
    auto r = choose_switch_ports({pf(0), vf_rep(1, 0, 0, 0), vf_rep(2, 1, 0, 1)}, "");
    REQUIRE_FALSE(r.ok());
    CHECK(has_text(r.error().message, "2 PFs"));
  }
}

TEST_CASE("the VF index comes from representor info, else from the name, never guessed") {
  EthdevFacts by_name = vf_rep(1, 0);
  by_name.rep_type = RepresentorType::unknown;
  by_name.rep_index = -1;
  by_name.name = "0000:03:00.0_representor_c0pf0vf7";
  auto r = choose_switch_ports({pf(0), by_name}, "");
  REQUIRE(r.ok());
  CHECK((*r)[1].vf_index == 7);

  by_name.name = "net_0000:03:00.0_representor_7";
  auto refused = choose_switch_ports({pf(0), by_name}, "");
  REQUIRE_FALSE(refused.ok());
  CHECK(has_text(refused.error().message, "cannot tell which VF"));

  // Representor info wins over a misleading name.
  EthdevFacts both = vf_rep(1, 4);
  both.name = "whatever_vf9";
  auto w = choose_switch_ports({pf(0), both}, "");
  REQUIRE(w.ok());
  CHECK((*w)[1].vf_index == 4);
}

TEST_CASE("SF and PF representors are not VMs' VFs") {
  EthdevFacts sf = vf_rep(2, 0);
  sf.rep_type = RepresentorType::sf;
  EthdevFacts host_pf = vf_rep(3, 0);
  host_pf.rep_type = RepresentorType::pf;
  auto r = choose_switch_ports({pf(0), vf_rep(1, 0), sf, host_pf}, "");
  REQUIRE(r.ok());
  CHECK(r->size() == 2);

  auto only = choose_switch_ports({pf(0), sf}, "");
  REQUIRE_FALSE(only.ok());
  CHECK(only.error().code == ENODEV);
}

TEST_CASE("VF index from representor names") {
  CHECK(vf_index_from_name("0000:03:00.0_representor_vf0") == 0);
  CHECK(vf_index_from_name("0000:03:00.0_representor_vf12") == 12);
  CHECK(vf_index_from_name("0000:03:00.0_representor_c0pf1vf3") == 3);
  CHECK(vf_index_from_name("0000:03:00.0_representor_sf3") == -1);
  CHECK(vf_index_from_name("0000:03:00.0_representor_3") == -1);
  CHECK(vf_index_from_name("vf") == -1);
  CHECK(vf_index_from_name("") == -1);
  CHECK(vf_index_from_name("x_vf1234567") == -1);  // absurd, refused rather than parsed
}
