#include <doctest/doctest.h>

#include "offload/rte_flow_rule.h"
#include "offload/rule_compiler.h"

using namespace vfs::offload;

namespace {
// uplink on port 0, VFs on ports 1..3; vf1 (port 1) and vf2 (port 2) in VLAN 10, port 3 in 20.
PolicySnapshot policy() {
  PolicySnapshot s;
  s.generation = 1;
  s.vlans.set(10);
  s.vlans.set(20);
  s.ports.resize(4);
  s.ports[0] = {PortKind::uplink, true, true, 0, 0, "uplink"};
  s.ports[1] = {PortKind::vf, true, true, 1, 10, "vEthernet1"};
  s.ports[2] = {PortKind::vf, true, true, 2, 10, "vEthernet2"};
  s.ports[3] = {PortKind::vf, true, true, 3, 20, "vEthernet3"};
  return s;
}
const Mac kMacA{0x02, 0, 0, 0, 0, 0x0a};
}  // namespace

TEST_CASE("admits: a VF only in its access VLAN, the uplink in every defined VLAN") {
  auto s = policy();
  CHECK(admits(s, 1, 10));
  CHECK_FALSE(admits(s, 1, 20));
  CHECK(admits(s, 0, 20));
  CHECK_FALSE(admits(s, 0, 30));  // VLAN 30 not defined
  CHECK_FALSE(admits(s, 9, 10));  // no such port
  s.ports[2].forwarding = false;
  CHECK_FALSE(admits(s, 2, 10));
  s.ports[1].bound = false;
  CHECK_FALSE(admits(s, 1, 10));
}

TEST_CASE("a MAC learned on an access VF compiles to ingress-tag, hairpin-drop and forward rules") {
  auto s = policy();
  std::vector<CompiledRule> out;
  compile_learned_mac(s, {10, kMacA, 1}, out);
  REQUIRE(out.size() == 3);
  for (const auto& r : out) CHECK(r.veth == 1);

  const RuleSpec& in = out[0].spec;
  CHECK(in.group == kGroupIngress);
  CHECK(in.match.in_port == 1);
  CHECK(in.match.eth_src == kMacA);
  CHECK(in.match.has_vlan == false);
  CHECK(in.actions == std::vector<RuleAction>{act_count(), act_push_vlan(0x8100), act_set_vid(10), act_jump(kGroupL2)});

  const RuleSpec& hp = out[1].spec;
  CHECK(hp.group == kGroupL2);
  CHECK(hp.match.in_port == 1);
  CHECK(hp.actions.back() == act_drop());
  CHECK(hp.priority < out[2].spec.priority);  // hairpin guard wins over forwarding

  const RuleSpec& fwd = out[2].spec;
  CHECK(fwd.match.eth_dst == kMacA);
  CHECK(fwd.match.vlan_vid == 10);
  CHECK_FALSE(fwd.match.in_port.has_value());  // megaflow: any source in the VLAN
  CHECK(fwd.actions == std::vector<RuleAction>{act_count(), act_pop_vlan(), act_port(1)});
}

TEST_CASE("a MAC learned on the uplink keeps its tag toward the uplink") {
  auto s = policy();
  std::vector<CompiledRule> out;
  compile_learned_mac(s, {20, kMacA, 0}, out);
  REQUIRE(out.size() == 3);
  CHECK(out[0].spec.match.vlan_vid == 20);
  CHECK(out[0].spec.actions == std::vector<RuleAction>{act_count(), act_jump(kGroupL2)});
  CHECK(out[2].spec.actions == std::vector<RuleAction>{act_count(), act_port(0)});
}

TEST_CASE("nothing is compiled for what the policy does not admit") {
  auto s = policy();
  std::vector<CompiledRule> out;
  compile_learned_mac(s, {20, kMacA, 1}, out);  // VF 1 is in VLAN 10
  compile_learned_mac(s, {10, kMacA, 7}, out);  // no such port
  s.ports[2].forwarding = false;
  compile_learned_mac(s, {10, kMacA, 2}, out);
  CHECK(out.empty());
}

TEST_CASE("port rules: access ports drop tagged frames; a port that fails closed drops all") {
  auto s = policy();
  std::vector<CompiledRule> out;
  compile_port_rules(s, 0, out);
  CHECK(out.empty());  // the uplink's admission is per learned MAC and VLAN
  compile_port_rules(s, 1, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].spec.match.has_vlan == true);
  CHECK(out[0].spec.actions.back() == act_drop());
  s.ports[2].forwarding = false;
  out.clear();
  compile_port_rules(s, 2, out);
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0].spec.match.has_vlan.has_value());
  CHECK(out[0].spec.actions.back() == act_drop());
  s.ports[3].bound = false;
  out.clear();
  compile_port_rules(s, 3, out);
  CHECK(out.empty());
}

TEST_CASE("RteFlowRule builds the rte_flow arrays a PMD receives") {
  auto s = policy();
  std::vector<CompiledRule> out;
  compile_learned_mac(s, {10, kMacA, 1}, out);
  RteFlowRule in(out[0].spec);
  CHECK(in.attr().transfer == 1);
  CHECK(in.attr().group == 0);
  const rte_flow_item* it = in.pattern();
  REQUIRE(it[0].type == RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT);
  CHECK(static_cast<const rte_flow_item_ethdev*>(it[0].spec)->port_id == 1);
  REQUIRE(it[1].type == RTE_FLOW_ITEM_TYPE_ETH);
  auto* eth = static_cast<const rte_flow_item_eth*>(it[1].spec);
  auto* ethm = static_cast<const rte_flow_item_eth*>(it[1].mask);
  CHECK(eth->hdr.src_addr.addr_bytes[5] == 0x0a);
  CHECK(ethm->hdr.src_addr.addr_bytes[0] == 0xff);
  CHECK(ethm->hdr.dst_addr.addr_bytes[0] == 0x00);
  CHECK(ethm->has_vlan == 1);
  CHECK(eth->has_vlan == 0);
  CHECK(it[2].type == RTE_FLOW_ITEM_TYPE_END);
  const rte_flow_action* a = in.actions();
  CHECK(a[0].type == RTE_FLOW_ACTION_TYPE_COUNT);
  REQUIRE(a[1].type == RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN);
  CHECK(static_cast<const rte_flow_action_of_push_vlan*>(a[1].conf)->ethertype == rte_cpu_to_be_16(0x8100));
  REQUIRE(a[2].type == RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID);
  CHECK(static_cast<const rte_flow_action_of_set_vlan_vid*>(a[2].conf)->vlan_vid == rte_cpu_to_be_16(10));
  REQUIRE(a[3].type == RTE_FLOW_ACTION_TYPE_JUMP);
  CHECK(static_cast<const rte_flow_action_jump*>(a[3].conf)->group == 1);
  CHECK(a[4].type == RTE_FLOW_ACTION_TYPE_END);

  RteFlowRule fwd(out[2].spec);
  const rte_flow_item* f = fwd.pattern();
  REQUIRE(f[0].type == RTE_FLOW_ITEM_TYPE_ETH);
  REQUIRE(f[1].type == RTE_FLOW_ITEM_TYPE_VLAN);
  CHECK(static_cast<const rte_flow_item_vlan*>(f[1].spec)->hdr.vlan_tci == rte_cpu_to_be_16(10));
  CHECK(fwd.actions()[2].type == RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT);
}

TEST_CASE("testpmd text names every field of the rule") {
  auto s = policy();
  std::vector<CompiledRule> out;
  compile_learned_mac(s, {10, kMacA, 1}, out);
  CHECK(testpmd_text(out[0].spec, 0) ==
        "flow create 0 transfer group 0 priority 0 pattern represented_port ethdev_port_id is 1 / eth src is "
        "02:00:00:00:00:0a has_vlan is 0 / end actions count / of_push_vlan ethertype 0x8100 / of_set_vlan_vid "
        "vlan_vid 10 / jump group 1 / end");
}
