#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "base/clock.h"
#include "offload/acl_match.h"
#include "offload/desired_state.h"
#include "offload/rte_flow_rule.h"
#include "offload/rule_compiler.h"

using namespace vfs::offload;
namespace vsm = vfs::vsm;

namespace {
// uplink on port 0, VFs on ports 1..3; vf1 (port 1) and vf2 (port 2) in VLAN 10, port 3 in 20.
PolicySnapshot policy() {
  PolicySnapshot s;
  s.generation = 1;
  s.vlans.set(10);
  s.vlans.set(20);
  s.ports.resize(4);
  s.ports[0] = uplink_port_policy();
  s.ports[1] = access_port_policy(1, 10, "vEthernet1");
  s.ports[2] = access_port_policy(2, 10, "vEthernet2");
  s.ports[3] = access_port_policy(3, 20, "vEthernet3");
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
  CHECK(in.actions ==
        ActionList{act_count(), act_push_vlan(0x8100), act_set_vid(10), act_jump(kGroupMacAclIn)});
  // Only with the port's ACL chain and all of its group 0 above and below the admission.
  CHECK(out[0].needs == std::vector<ChainId>{chain_in(1), chain_guard(1), chain_port_drops(1)});
  // The forward waits for the same-port drop that keeps frames from going back out port 1.
  CHECK(out[1].chain == chain_same_port(1, 10, kMacA));
  CHECK(out[2].needs == std::vector<ChainId>{chain_same_port(1, 10, kMacA)});
  CHECK(chain_same_port(1, 10, kMacA) != chain_same_port(2, 10, kMacA));

  const RuleSpec& hp = out[1].spec;
  CHECK(hp.group == kGroupL2);
  CHECK(hp.match.in_port == 1);
  CHECK(hp.actions.back() == act_drop());
  CHECK(hp.priority < out[2].spec.priority);  // hairpin guard wins over forwarding

  const RuleSpec& fwd = out[2].spec;
  CHECK(fwd.match.eth_dst == kMacA);
  CHECK(fwd.match.vlan_vid == 10);
  CHECK_FALSE(fwd.match.in_port.has_value());  // megaflow: any source in the VLAN
  CHECK(fwd.actions == ActionList{act_count(), act_pop_vlan(), act_port(1)});
}

TEST_CASE("a MAC learned on the uplink keeps its tag toward the uplink") {
  auto s = policy();
  std::vector<CompiledRule> out;
  compile_learned_mac(s, {20, kMacA, 0}, out);
  REQUIRE(out.size() == 3);
  CHECK(out[0].spec.match.vlan_vid == 20);
  CHECK(out[0].spec.match.tpid == 0x8100);
  CHECK(out[0].spec.match.more_vlan == false);  // no double tags from the uplink
  CHECK(out[0].spec.actions == ActionList{act_count(), act_jump(kGroupL2)});
  CHECK(out[0].needs == std::vector<ChainId>{chain_guard(0)});  // the uplink's DHCP trap
  CHECK(out[2].spec.actions == ActionList{act_count(), act_port(0)});
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
  auto in_group = [&](uint32_t g) {
    return std::count_if(out.begin(), out.end(),
                         [&](const CompiledRule& c) { return c.spec.group == g; });
  };
  // Group 0: tagged frames dropped, priority tags to the slow path; groups 1-3: the
  // port's (empty) input chain, one pass-through rule each.
  CHECK(in_group(kGroupIngress) == 2);
  CHECK(in_group(kGroupMacAclIn) == 1);
  CHECK(in_group(kGroupAclIn) == 1);
  CHECK(in_group(kGroupQosIn) == 1);
  const auto tagged = std::find_if(out.begin(), out.end(), [](const CompiledRule& c) {
    return c.spec.group == kGroupIngress && c.spec.match.has_vlan == true;
  });
  REQUIRE(tagged != out.end());
  CHECK(tagged->spec.actions.back() == act_drop());
  CHECK(tagged->drop_reason == DropReason::vlan);
  for (const auto& c : out)
    if (c.spec.group != kGroupIngress) CHECK(c.chain == chain_in(1));
  s.ports[2].forwarding = false;
  out.clear();
  compile_port_rules(s, 2, out);
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0].spec.match.has_vlan.has_value());
  CHECK(out[0].spec.actions.back() == act_drop());
  CHECK(out[0].drop_reason == DropReason::port_disabled);
  s.ports[3].bound = false;
  out.clear();
  compile_port_rules(s, 3, out);
  CHECK(out.empty());
}

TEST_CASE("an input ACL compiles to one rule per entry (ranges as prefixes) and an implicit deny") {
  auto s = policy();
  vsm::ResolvedAcl acl;
  acl.name = "web";
  acl.family = vsm::AclFamily::ipv4;
  vsm::ResolvedAce permit_http;
  permit_http.seq = 10;
  permit_http.permit = true;
  permit_http.protocol = 6;
  permit_http.dst_port = {vsm::PortMatch::Op::range, 80, 83};  // 80-83: one /14 prefix
  vsm::ResolvedAce deny_icmp;
  deny_icmp.seq = 20;
  deny_icmp.protocol = 1;
  acl.entries = {permit_http, deny_icmp};
  s.ports[1].cfg.ip_acl_in = acl;
  std::vector<CompiledRule> out;
  compile_port_rules(s, 1, out);
  std::vector<const CompiledRule*> acl_rules;
  for (const auto& c : out)
    if (c.spec.group == kGroupAclIn && !c.acl.empty()) acl_rules.push_back(&c);
  REQUIRE(acl_rules.size() == 3);
  CHECK(acl_rules[0]->ace_seq == 10);
  CHECK(acl_rules[0]->acl == "ip:web");
  CHECK(acl_rules[0]->spec.match.l4_dst == U16Match{80, 0xfffc});
  CHECK(acl_rules[0]->spec.actions.back() == act_jump(kGroupQosIn));
  CHECK(acl_rules[1]->ace_seq == 20);
  CHECK(acl_rules[1]->drop_reason == DropReason::acl);
  CHECK(acl_rules[2]->ace_seq == 0);  // implicit deny, for IPv4 frames only
  CHECK(acl_rules[2]->spec.match.ether_type == 0x0800);
  CHECK(acl_rules[0]->spec.priority < acl_rules[1]->spec.priority);
  CHECK(acl_rules[1]->spec.priority < acl_rules[2]->spec.priority);
}

TEST_CASE("port ranges become the fewest prefixes") {
  CHECK(port_range_prefixes(0, 65535) == std::vector<U16Match>{{0, 0}});
  CHECK(port_range_prefixes(80, 80) == std::vector<U16Match>{{80, 0xffff}});
  CHECK(port_range_prefixes(1024, 2047) == std::vector<U16Match>{{1024, 0xfc00}});
  const auto v = port_range_prefixes(1, 6);  // 1, 2-3, 4-5, 6
  CHECK(v == std::vector<U16Match>{{1, 0xffff}, {2, 0xfffe}, {4, 0xfffe}, {6, 0xffff}});
  // Every port in [lo, hi] is covered once, none outside.
  for (auto [lo, hi] : std::vector<std::pair<uint16_t, uint16_t>>{
           {3, 1000}, {0, 79}, {81, 65535}, {65535, 65535}}) {
    const auto ps = port_range_prefixes(lo, hi);
    for (uint32_t x = 0; x <= 65535; ++x) {
      int hits = 0;
      for (const auto& p : ps) hits += (x & p.mask) == p.value;
      if (hits != ((x >= lo && x <= hi) ? 1 : 0))
        FAIL("port ", x, " covered ", hits, " times for ", lo, "-", hi);
    }
  }
}

TEST_CASE("a forward to a port with output ACLs jumps to its egress group and needs its chain") {
  auto s = policy();
  vsm::ResolvedAcl acl;
  acl.name = "out";
  acl.family = vsm::AclFamily::ipv4;
  s.ports[2].cfg.ip_acl_out = acl;  // empty: everything IPv4 denied
  std::vector<CompiledRule> out;
  compile_learned_mac(s, {10, kMacA, 2}, out);
  REQUIRE(out.size() == 3);
  CHECK(out[2].spec.actions.back() == act_jump(kGroupEgressAcl + 2));
  CHECK(out[2].needs == std::vector<ChainId>{chain_same_port(2, 10, kMacA), chain_out(2)});
  out.clear();
  compile_port_rules(s, 2, out);
  const auto deliver = std::find_if(out.begin(), out.end(), [](const CompiledRule& c) {
    return c.spec.group == kGroupEgressAcl + 2 && c.acl.empty();
  });
  REQUIRE(deliver != out.end());
  CHECK(deliver->chain == chain_out(2));
  CHECK(deliver->spec.actions == ActionList{act_count(), act_pop_vlan(), act_port(2)});
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
  CHECK(static_cast<const rte_flow_action_of_push_vlan*>(a[1].conf)->ethertype ==
        rte_cpu_to_be_16(0x8100));
  REQUIRE(a[2].type == RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID);
  CHECK(static_cast<const rte_flow_action_of_set_vlan_vid*>(a[2].conf)->vlan_vid ==
        rte_cpu_to_be_16(10));
  REQUIRE(a[3].type == RTE_FLOW_ACTION_TYPE_JUMP);
  CHECK(static_cast<const rte_flow_action_jump*>(a[3].conf)->group == kGroupMacAclIn);
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
        "flow create 0 transfer group 0 priority 4 pattern represented_port ethdev_port_id is 1 / "
        "eth src is "
        "02:00:00:00:00:0a has_vlan is 0 / end actions count / of_push_vlan ethertype 0x8100 / "
        "of_set_vlan_vid "
        "vlan_vid 10 / jump group 1 / end");
  vsm::ResolvedAce e;
  e.permit = true;
  e.protocol = 6;
  e.src.addr = {10, 0, 0, 0};
  e.src.mask = {255, 255, 255, 0};
  e.dst_port = {vsm::PortMatch::Op::eq, 443, 0};
  e.established = true;
  RuleSpec r;
  r.group = kGroupAclIn;
  r.match = ace_rule_matches(e, vsm::AclFamily::ipv4)[0];
  r.match.in_port = 1;
  r.match.tagged = true;
  r.actions = {act_count(), act_meter(3), act_mirror(4), act_jump(kGroupQosIn)};
  CHECK(testpmd_text(r, 0) ==
        "set sample_actions 0 port_id id 4 / end\n"
        "flow create 0 transfer group 2 priority 0 pattern represented_port ethdev_port_id is 1 / "
        "eth / vlan / "
        "ipv4 src spec 10.0.0.0 src mask 255.255.255.0 proto is 6 / tcp dst is 443 flags spec 0x10 "
        "flags mask 0x10 / "
        "end actions count / meter mtr_id 3 / sample ratio 1 index 0 / jump group 3 / end");
}

// ---- per-port recompilation (offload/desired_state.h) ---------------------------------

namespace {

// A NIC that takes every rule: the tables compared below differ only by how they got there.
class AcceptingNic final : public vfs::drivers::FlowBackend {
 public:
  size_t created = 0, destroyed = 0;
  std::string_view name() const override { return "accepting"; }
  vfs::drivers::FlowStatus validate(const rte_flow_attr&, const rte_flow_item*,
                                    const rte_flow_action*) override {
    return vfs::drivers::Unit{};
  }
  vfs::drivers::FlowResult<vfs::drivers::FlowHandle> create(const rte_flow_attr&,
                                                            const rte_flow_item*,
                                                            const rte_flow_action*) override {
    ++created;
    return vfs::drivers::FlowHandle{++next_};
  }
  vfs::drivers::FlowStatus destroy(vfs::drivers::FlowHandle) override {
    ++destroyed;
    return vfs::drivers::Unit{};
  }
  vfs::drivers::FlowResult<vfs::drivers::FlowCounters> query_count(
      vfs::drivers::FlowHandle) override {
    return vfs::drivers::FlowCounters{};
  }
  vfs::drivers::FlowStatus flush() override { return vfs::drivers::Unit{}; }

 private:
  uint64_t next_ = 0;
};

vsm::ResolvedAcl web_acl(uint16_t tweak) {
  vsm::ResolvedAcl acl;
  acl.name = "web";
  for (uint32_t i = 0; i < 6; ++i) {
    vsm::ResolvedAce e;
    e.seq = 10 * (i + 1);
    e.permit = i % 2 == 0;
    e.protocol = 6;
    e.dst_port = {vsm::PortMatch::Op::range, static_cast<uint16_t>(100 + i * 10),
                  static_cast<uint16_t>(105 + i * 10 + (i == 3 ? tweak : 0))};
    acl.entries.push_back(e);
  }
  return acl;
}

// Everything, sorted, as both ways of building the table must agree on it.
std::vector<std::string> table_text(const RuleTable& t) {
  std::vector<std::string> out;
  for (const RuleEntry& e : t.entries()) {
    std::string needs;
    for (ChainId c : e.needs) needs += std::to_string(c) + ",";
    out.push_back(match_text(e.spec) + " | " + actions_text(e.spec) + " | g" +
                  std::to_string(e.spec.group) + " p" + std::to_string(e.spec.priority) + " refs " +
                  std::to_string(e.refs) + " veth " + std::to_string(e.veth) + " acl " + e.acl +
                  ":" + std::to_string(e.ace_seq) + " chain " + std::to_string(e.chain) +
                  " needs " + needs + " " + rule_state_name(e.state));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE(
    "per-port recompilation gives the same table as a full compile, touching only what changed") {
  vfs::ManualClock clock;
  AcceptingNic inc_nic, full_nic;
  RuleTable incremental(inc_nic, clock), full(full_nic, clock);
  DesiredState desired(incremental);
  const std::vector<LearnedMac> macs{
      {10, kMacA, 1}, {10, {0x02, 0, 0, 0, 0, 0x0b}, 2}, {20, {0x02, 0, 0, 0, 0, 0x0c}, 3}};
  std::vector<LearnedMac> learned;  // what the slow path has told the engine

  auto s = policy();
  s.ports[1].cfg.ip_acl_in = web_acl(0);
  s.ports[2].cfg.ip_acl_in = web_acl(0);
  s.ports[2].cfg.ip_acl_out = web_acl(0);
  s.ports[3].cfg.mode = vsm::SwitchportMode::trunk;
  s.ports[3].cfg.trunk_allowed = {10, 20};
  s.ports[3].cfg.ip_acl_out = web_acl(0);

  auto check_same = [&](const PolicySnapshot& snap) {
    const size_t created = inc_nic.created, destroyed = inc_nic.destroyed;
    desired.apply(std::make_shared<const PolicySnapshot>(snap));
    // The engine forgets the MACs a policy no longer admits (the slow path re-learns them).
    std::erase_if(learned, [&](const LearnedMac& m) { return !admits(snap, m.port, m.vid); });
    CHECK(desired.learned_count() == learned.size());
    std::vector<CompiledRule> all;
    for (uint16_t p = 0; p < snap.ports.size(); ++p) compile_port_rules(snap, p, all);
    for (const auto& m : learned) compile_learned_mac(snap, m, all);
    std::vector<CompiledMeter> meters;
    compile_meters(snap, meters);
    full.reconcile(all, meters);
    CHECK(table_text(incremental) == table_text(full));
    CHECK(incremental.meters().size() == full.meters().size());
    return std::make_pair(inc_nic.created - created, inc_nic.destroyed - destroyed);
  };

  check_same(s);
  for (const auto& m : macs) {
    desired.learn(s, m);
    learned.push_back(m);
  }
  check_same(s);

  SUBCASE("nothing changed: nothing recompiled, nothing touched") {
    auto touched = check_same(s);
    CHECK(touched == std::make_pair(size_t{0}, size_t{0}));
  }
  SUBCASE("one ACE edited in two ports' ACL: only its rules are replaced") {
    auto t = s;
    t.ports[1].cfg.ip_acl_in = web_acl(3);
    t.ports[2].cfg.ip_acl_in = web_acl(3);
    auto touched = check_same(t);
    // Per port: the entry's range [130, 135] (2 prefixes) becomes [130, 138] (the same 2
    // plus 2 more), and the learned MAC's admit rule goes out and back in while its input
    // chain is incomplete; nothing else of the ports' tables reaches the NIC.
    CHECK(touched.first == 2 * (2 + 1));
    CHECK(touched.second == 2 * 1);
  }
  SUBCASE("ports unbound, a VLAN removed, bindings, policers and a mirror added, then undone") {
    auto t = s;
    t.ports[2].bound = false;
    check_same(t);
    t.vlans.reset(20);
    check_same(t);
    t.ports[1].cfg.ip_verify_source = true;
    vsm::SourceBinding b;
    b.ip = {10, 0, 0, 5};
    b.mac = kMacA;
    b.vlan = 10;
    t.ports[1].cfg.source_bindings.push_back(b);
    check_same(t);
    t.ports[1].cfg.police_in = vsm::ResolvedPolicer{"p", 125000, 10000};
    t.ports[1].mirror_rx = {2};
    check_same(t);
    t.ports.resize(2);
    check_same(t);
    check_same(s);
  }
}

TEST_CASE("compiling with an ACE match memo emits the same rules as without") {
  auto s = policy();
  s.ports[1].cfg.ip_acl_in = web_acl(0);
  s.ports[2].cfg.ip_acl_in = web_acl(5);  // same name, one entry differs: not the same ACL
  s.ports[2].cfg.ip_acl_out = web_acl(0);
  s.ports[3].cfg.ip_acl_in = web_acl(0);
  s.ports[3].cfg.ip_acl_in->family = vsm::AclFamily::ipv6;  // same entries, other family
  AceMatchMemo memo;
  for (int round = 0; round < 2; ++round) {
    for (uint16_t p = 0; p < s.ports.size(); ++p) {
      std::vector<CompiledRule> plain, memoized;
      compile_port_rules(s, p, plain);
      compile_port_rules(s, p, memoized, &memo);
      REQUIRE(plain.size() == memoized.size());
      for (size_t i = 0; i < plain.size(); ++i) {
        CHECK(plain[i].spec == memoized[i].spec);
        CHECK(plain[i].acl == memoized[i].acl);
        CHECK(plain[i].ace_seq == memoized[i].ace_seq);
        CHECK(plain[i].drop_reason == memoized[i].drop_reason);
      }
    }
  }
}
