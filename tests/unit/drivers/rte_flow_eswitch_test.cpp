// rte_flow driver against a real EAL without a NIC: the factory must answer with an error
// that says what is missing (not crash), and the backend must turn rte_flow failures into
// FlowErrors in the PMD's words, including a PMD that leaves rte_flow_error unfilled.
#include <cstring>
#include <string>

#include <doctest/doctest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "drivers/rte_flow/rte_flow_backend.h"
#include "drivers/rte_flow/rte_flow_eswitch.h"
#include "drivers/rte_flow/switch_ports.h"
#include "slowpath/eal.h"

using namespace vfs::drivers;

namespace {

bool mentions(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

void init_eal() {
  vfs::slowpath::EalOptions opt;
  opt.file_prefix = "vfs-unit-drivers";
  opt.memory_mb = 256;
  auto r = vfs::slowpath::eal_init(opt);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
}

}  // namespace

TEST_CASE("rte_flow driver without a NIC says what is missing") {
  init_eal();
  ESwitchOptions opt;
  opt.pci = "";
  auto pool = vfs::slowpath::packet_pool();
  REQUIRE(pool.ok());
  opt.pool = *pool;

  auto sw = make_rte_flow_eswitch(opt);
  REQUIRE_FALSE(sw.ok());
  CHECK(sw.error().code == ENODEV);
  if (rte_eth_dev_count_avail() == 0) {
    CHECK(sw.error().message ==
          "driver rte_flow: EAL found no ethdev; pass --pci <PF address> of a NIC in switchdev "
          "mode bound to its DPDK driver (mlx5, ice...)");
  } else {
    // Other tests in this binary may have made ring / af_packet ports: none is an eSwitch.
    CHECK(mentions(sw.error().message, "belongs to an eSwitch"));
  }

  opt.pool = nullptr;  // the missing NIC is still what is reported
  auto again = make_rte_flow_eswitch(opt);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ENODEV);
}

TEST_CASE("a PMD that leaves rte_flow_error unfilled is not believed") {
  rte_flow_error e = poisoned_flow_error();
  FlowError fe = flow_error_from_pmd(e, -EINVAL);
  CHECK(fe.code == EINVAL);
  CHECK(fe.type == RTE_FLOW_ERROR_TYPE_UNSPECIFIED);
  CHECK(mentions(fe.message, "the PMD gave no rte_flow_error"));

  rte_flow_item pattern[] = {{RTE_FLOW_ITEM_TYPE_ETH, nullptr, nullptr, nullptr},
                             {RTE_FLOW_ITEM_TYPE_IPV4, nullptr, nullptr, nullptr},
                             {RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr, nullptr}};
  rte_flow_action_port_id port{};
  rte_flow_action actions[] = {{RTE_FLOW_ACTION_TYPE_COUNT, nullptr},
                               {RTE_FLOW_ACTION_TYPE_PORT_ID, &port},
                               {RTE_FLOW_ACTION_TYPE_END, nullptr}};
  rte_flow_error filled = poisoned_flow_error();
  filled.type = RTE_FLOW_ERROR_TYPE_ITEM;
  filled.message = "IPv4 not supported here";
  filled.cause = &pattern[1];
  FlowError named = flow_error_from_pmd(filled, -ENOTSUP);
  CHECK(named.code == ENOTSUP);
  CHECK(named.type == RTE_FLOW_ERROR_TYPE_ITEM);
  CHECK(named.message == "IPv4 not supported here");

  CHECK(flow_error_cause(&pattern[1], pattern, actions) == "item 1 (IPV4)");
  CHECK(flow_error_cause(&port, pattern, actions) == "action 1 (PORT_ID)");
  CHECK(flow_error_cause(&actions[0], pattern, actions) == "action 0 (COUNT)");
  int elsewhere = 0;
  CHECK(flow_error_cause(&elsewhere, pattern, actions) == "");
  CHECK(flow_error_cause(nullptr, pattern, actions) == "");
}

TEST_CASE("rte_flow backend reports failures in the PMD's words and keeps its handles") {
  init_eal();
  // A ring port has no rte_flow support at all: every call fails, which is what we test.
  rte_ring* ring = rte_ring_create("vfs_rf_test", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  REQUIRE(ring != nullptr);
  const int port = rte_eth_from_rings("vfs_rf_test_port", &ring, 1, &ring, 1, SOCKET_ID_ANY);
  REQUIRE(port >= 0);

  {
    // DPDK's own answer for a port outside any eSwitch, and the factory's verdict on it.
    auto facts = read_ethdev_facts();
    REQUIRE(facts.ok());
    bool seen = false;
    for (const auto& f : *facts) {
      if (f.port != port) continue;
      seen = true;
      CHECK_FALSE(f.representor);
      CHECK(f.domain_id == RTE_ETH_DEV_SWITCH_DOMAIN_ID_INVALID);
      CHECK(f.rep_type == RepresentorType::unknown);
    }
    CHECK(seen);
    ESwitchOptions opt;
    opt.pci = "0000:03:00.0";
    auto sw = make_rte_flow_eswitch(opt);
    REQUIRE_FALSE(sw.ok());
    CHECK(sw.error().code == ENODEV);
    CHECK(mentions(sw.error().message, "belongs to an eSwitch"));
    CHECK(mentions(sw.error().message, "devlink dev eswitch set pci/0000:03:00.0 mode switchdev"));
  }

  {
    RteFlowBackend b(static_cast<uint16_t>(port), "vfs_rf_test_port");
    CHECK(b.name() == "rte_flow");
    rte_flow_attr attr{};
    attr.transfer = 1;
    rte_flow_item pattern[] = {{RTE_FLOW_ITEM_TYPE_ETH, nullptr, nullptr, nullptr},
                               {RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr, nullptr}};
    rte_flow_action actions[] = {{RTE_FLOW_ACTION_TYPE_DROP, nullptr},
                                 {RTE_FLOW_ACTION_TYPE_END, nullptr}};

    auto v = b.validate(attr, pattern, actions);
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().code == ENOSYS);  // rte_flow: the port has no flow API
    CHECK(mentions(v.error().message,
                   "rte_flow validate on port " + std::to_string(port) + " (vfs_rf_test_port)"));
    CHECK(mentions(v.error().to_error().message, "unspecified"));

    auto c = b.create(attr, pattern, actions);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().code == ENOSYS);
    CHECK(mentions(c.error().message, "rte_flow create on port"));
    CHECK(b.rule_count() == 0);

    auto d = b.destroy(FlowHandle{77});
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().code == ENOENT);
    CHECK(mentions(d.error().message, "no rule with handle 77"));

    auto q = b.query_count(FlowHandle{77});
    REQUIRE_FALSE(q.ok());
    CHECK(q.error().code == ENOENT);

    auto f = b.flush();
    REQUIRE_FALSE(f.ok());
    CHECK(f.error().code == ENOSYS);
    CHECK(mentions(f.error().message, "rte_flow flush on port"));
  }

  CHECK(rte_eth_dev_close(static_cast<uint16_t>(port)) == 0);
  rte_ring_free(ring);
}
