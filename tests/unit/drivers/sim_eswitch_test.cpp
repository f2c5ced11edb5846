// The sim as a whole, in process: frames injected on a VM end reach the representor on a
// miss, follow an installed rule to another VM end (and count), frames sent on a
// representor leave on its wire; the ESwitch face (ports, knobs) and idle CPU.
// Needs root (veth pairs, AF_PACKET).
#include <doctest/doctest.h>

#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "drivers/sim/sim_eswitch.h"
#include "sim_packet_builder.h"
#include "sim_test_support.h"
#include "sim_wire_support.h"
#include "slowpath/eal.h"

using namespace vfs::drivers;
using namespace vfs::test;
using Clock = std::chrono::steady_clock;

namespace {

const Mac kEswitchMacA = {0x02, 0, 0, 0, 0x5e, 0x0a};
const Mac kEswitchMacB = {0x02, 0, 0, 0, 0x5e, 0x0b};

// A test frame of the local-experimental EtherType that carries a nonce, so the host's
// own chatter on the wires (IPv6 on the VM ends) cannot be mistaken for it.
std::vector<uint8_t> test_frame(uint32_t nonce, int vlan = -1) {
  PacketBuilder b;
  if (vlan >= 0)
    b.eth(kEswitchMacB, kEswitchMacA, 0x8100).vlan(static_cast<uint16_t>(vlan), 0x88b5);
  else
    b.eth(kEswitchMacB, kEswitchMacA, 0x88b5);
  return b.u32(0x76667377).u32(nonce).pad(52 - (vlan >= 0 ? 4 : 0)).bytes();
}

}  // namespace

TEST_CASE("sim eswitch: ports are the representors, uplink first, with their wires") {
  OpenSim s;
  const auto& ports = s.sw->ports();
  REQUIRE(ports.size() == 3);
  CHECK(s.sw->driver_name() == "sim");
  CHECK(ports[0].role == PortRole::uplink);
  CHECK(ports[0].vf_index == -1);
  CHECK(ports[0].wire == s.name + "up");
  for (int i = 0; i < 2; ++i) {
    const PortInfo& p = ports[static_cast<size_t>(i) + 1];
    CHECK(p.role == PortRole::vf);
    CHECK(p.vf_index == i);
    CHECK(p.wire == s.name + "vf" + std::to_string(i));
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    REQUIRE(rte_eth_dev_get_name_by_port(p.ethdev_port, name) == 0);
    CHECK(p.name == name);
  }
  CHECK(s.sw->flows().name() == "sim");
}

TEST_CASE(
    "sim eswitch: miss to the representor, rule to another VF with its counter, "
    "representor tx to the wire") {
  OpenSim s;
  REQUIRE(s.sw->start().ok());
  const uint16_t rep_vf0 = s.sw->ports()[1].ethdev_port;
  const uint16_t rep_vf1 = s.sw->ports()[2].ethdev_port;
  PacketSocket vm0(s.name + "vf0");
  PacketSocket vm1(s.name + "vf1");

  // No rule: the frame arrives on representor vf0 as it was sent.
  const auto first = test_frame(1);
  REQUIRE(vm0.send(first));
  CHECK(representor_wait_for(rep_vf0, first).has_value());

  // A tagged frame keeps its tag: the kernel strips it for AF_PACKET, net_af_packet puts
  // it back, and the representor shows no "VLAN in metadata" flags.
  const auto tagged = test_frame(2, 7);
  REQUIRE(vm0.send(tagged));
  const auto flags = representor_wait_for(rep_vf0, tagged);
  REQUIRE(flags.has_value());
  CHECK((*flags & (RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED)) == 0);

  // represented_port vf0 (our EtherType) -> represented_port vf1, counted.
  const rte_flow_item_ethdev from_vf0{rep_vf0};
  rte_flow_item_eth eth{}, eth_mask{};
  eth.hdr.ether_type = rte_cpu_to_be_16(0x88b5);
  eth_mask.hdr.ether_type = 0xffff;
  const rte_flow_item pattern[] = {
      {RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &from_vf0, nullptr, nullptr},
      {RTE_FLOW_ITEM_TYPE_ETH, &eth, nullptr, &eth_mask},
      {RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr, nullptr}};
  const rte_flow_action_ethdev to_vf1{rep_vf1};
  const rte_flow_action actions[] = {{RTE_FLOW_ACTION_TYPE_COUNT, nullptr},
                                     {RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &to_vf1},
                                     {RTE_FLOW_ACTION_TYPE_END, nullptr}};
  rte_flow_attr attr{};
  attr.transfer = 1;
  auto h = s.sw->flows().create(attr, pattern, actions);
  REQUIRE_MESSAGE(h.ok(), h.error().message);

  const auto second = test_frame(3);
  REQUIRE(vm0.send(second));
  CHECK(vm1.wait_for(second));
  auto c = s.sw->flows().query_count(h.value());
  REQUIRE(c.ok());
  CHECK(c.value().packets == 1);
  CHECK(c.value().bytes == second.size());

  // Sent on representor vf1 -> leaves on vf1's wire.
  const auto third = test_frame(4);
  rte_mbuf* m = rte_pktmbuf_alloc(dpdk_pool());
  REQUIRE(m != nullptr);
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(third.size())), third.data(),
              third.size());
  REQUIRE(rte_eth_tx_burst(rep_vf1, 0, &m, 1) == 1);
  CHECK(vm1.wait_for(third));

  // The datapath publishes its counters after the poll that delivered the frame: await
  // them (bounded) rather than reading the first snapshot.
  auto st = sim_stats(*s.sw);
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       (st[sim::SimCounter::wire_tx] < 2 || st[sim::SimCounter::representor_tx] < 1) &&
       std::chrono::steady_clock::now() < until;
       st = sim_stats(*s.sw))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(st[sim::SimCounter::miss] >= 2);
  CHECK(st[sim::SimCounter::wire_tx] >= 2);
  CHECK(st[sim::SimCounter::representor_tx] >= 1);

  // flush() removes the rule: its handle is gone and the next frame misses again.
  REQUIRE(s.sw->flows().flush().ok());
  CHECK(s.sw->flows().destroy(h.value()).error().code == ENOENT);
  const auto fourth = test_frame(5);
  REQUIRE(vm0.send(fourth));
  CHECK(representor_wait_for(rep_vf0, fourth).has_value());
}

// Idle CPU is a speed target: tests/bench/run measures it (a timed unit test would be
// flaky on shared machines).

TEST_CASE("sim eswitch: knobs for a flaky NIC and bad options") {
  SUBCASE("injected failures answer the configured errno") {
    ESwitchOptions opt;
    opt.sim_fail_rate = 1.0;
    opt.sim_fail_errno = EBUSY;
    OpenSim s(opt);
    const rte_flow_item pattern[] = {{RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr, nullptr}};
    const rte_flow_action actions[] = {{RTE_FLOW_ACTION_TYPE_DROP, nullptr},
                                       {RTE_FLOW_ACTION_TYPE_END, nullptr}};
    rte_flow_attr attr{};
    attr.transfer = 1;
    CHECK(s.sw->flows().validate(attr, pattern, actions).ok());
    auto r = s.sw->flows().create(attr, pattern, actions);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == EBUSY);
    CHECK(r.error().message.find("injected") != std::string::npos);
  }
  SUBCASE("an unknown unsupported-feature name is refused before any wire exists") {
    ESwitchOptions opt;
    opt.sim_name = random_sim_name();
    WireGuard guard(opt.sim_name, 1);
    opt.sim_vfs = 1;
    opt.pool = dpdk_pool();
    opt.sim_unsupported = {"NOT_AN_ITEM"};
    auto r = make_sim_eswitch(opt);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("NOT_AN_ITEM") != std::string::npos);
    CHECK_FALSE(link_exists(opt.sim_name + "up"));
  }
  SUBCASE("more VFs than DPDK has ports for") {
    ESwitchOptions opt;
    opt.sim_name = random_sim_name();
    WireGuard guard(opt.sim_name, 40);
    opt.sim_vfs = 40;
    opt.pool = dpdk_pool();
    auto r = make_sim_eswitch(opt);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ENOSPC);
    CHECK(r.error().message.find("RTE_MAX_ETHPORTS") != std::string::npos);
    CHECK_FALSE(link_exists(opt.sim_name + "up"));
  }
  SUBCASE("a bad sim name") {
    ESwitchOptions opt;
    opt.sim_name = "Bad-Name";
    opt.pool = dpdk_pool();
    auto r = make_sim_eswitch(opt);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("'Bad-Name'") != std::string::npos);
  }
}
