// The sim's indexed classifier (tuple space search) against the linear walk it replaces:
// random rule sets (groups, priorities, shared and distinct masks, identical keys, JUMP
// with VLAN pushes, rules destroyed in between) and random frames must get the same
// verdicts, the same edited bytes and the same rule counters from both.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <random>

#include <rte_byteorder.h>

#include "drivers/sim/sim_flow_table.h"
#include "sim_packet_builder.h"
#include "sim_rule_builder.h"

using namespace vfs::drivers;
using namespace vfs::drivers::sim;
using namespace vfs::test;

namespace {

constexpr uint16_t kEthdevs[] = {40, 41, 42, 43};
constexpr uint16_t kPorts = 4;
const Mac kMacs[] = {
    {0x02, 0, 0, 0, 0, 1}, {0x02, 0, 0, 0, 0, 2}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
const uint32_t kAddrs[] = {0x0a000001, 0x0a000102, 0x0a010203, 0xc0a80001};
const uint16_t kL4Ports[] = {80, 443, 53};
const uint16_t kVids[] = {1, 2, 3};

std::unique_ptr<FlowTable> make_classifier_table(ClassifierKind kind, uint32_t capacity = 65536) {
  FlowTableOptions opt;
  opt.classifier = kind;
  opt.capacity = capacity;
  auto t = FlowTable::make({kEthdevs[0], kEthdevs[1], kEthdevs[2], kEthdevs[3]}, opt);
  REQUIRE(t.ok());
  return std::move(t.value());
}

template <class T, size_t N>
const T& pick(std::mt19937& rng, const T (&a)[N]) {
  return a[rng() % N];
}

uint32_t prefix_mask(unsigned len) { return len == 0 ? 0 : ~0u << (32 - len); }

// One random rule, stated in rte_flow and installed in both tables.
struct RandomRule {
  rte_flow_attr attr{};
  rte_flow_item_ethdev port{};
  rte_flow_item_eth eth{}, eth_mask{};
  rte_flow_item_vlan vlan{}, vlan_mask{};
  rte_flow_item_ipv4 ip{}, ip_mask{};
  rte_flow_item_tcp tcp{}, tcp_mask{};
  rte_flow_item_udp udp{}, udp_mask{};
  rte_flow_action_jump jump{};
  rte_flow_action_of_push_vlan push{};
  rte_flow_action_of_set_vlan_vid vid{};
  rte_flow_action_ethdev out[2]{};
  std::vector<rte_flow_item> items;
  std::vector<rte_flow_action> actions;

  explicit RandomRule(std::mt19937& rng) {
    const uint32_t group = rng() % 3;
    attr = transfer_attr(group, rng() % 4);
    if (rng() % 2) {
      port.port_id = pick(rng, kEthdevs);
      items.push_back(flow_item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &port));
    }
    const unsigned l2 = rng() % 4;  // none, ETH any, ETH with fields, ETH + VLAN
    if (l2 >= 1) {
      if (l2 >= 2) {
        if (rng() % 2) {
          std::memcpy(eth.hdr.dst_addr.addr_bytes, pick(rng, kMacs).data(), 6);
          std::memset(eth_mask.hdr.dst_addr.addr_bytes, 0xff, 6);
        }
        if (rng() % 3 == 0) {
          std::memcpy(eth.hdr.src_addr.addr_bytes, pick(rng, kMacs).data(), 6);
          std::memset(eth_mask.hdr.src_addr.addr_bytes, 0xff, 6);
        }
        if (rng() % 4 == 0) {  // the group bit only
          eth.hdr.dst_addr.addr_bytes[0] = 0x01;
          std::memset(eth_mask.hdr.dst_addr.addr_bytes, 0, 6);
          eth_mask.hdr.dst_addr.addr_bytes[0] = 0x01;
        }
        if (l2 == 2 && rng() % 3 == 0) {
          eth.has_vlan = rng() % 2;
          eth_mask.has_vlan = 1;
        }
        items.push_back(flow_item(RTE_FLOW_ITEM_TYPE_ETH, &eth, &eth_mask));
      } else {
        items.push_back(flow_item(RTE_FLOW_ITEM_TYPE_ETH));
      }
    }
    if (l2 == 3) {
      vlan.hdr.vlan_tci = rte_cpu_to_be_16(pick(rng, kVids));
      vlan_mask.hdr.vlan_tci = rte_cpu_to_be_16(rng() % 2 ? 0x0fff : 0x0003);
      items.push_back(flow_item(RTE_FLOW_ITEM_TYPE_VLAN, &vlan, &vlan_mask));
    }
    const unsigned l3 = rng() % 3;  // none, IPV4 any, IPV4 with prefixes
    if (l3 >= 1) {
      if (l3 == 2) {
        const unsigned sl = rng() % 5 * 8, dl = rng() % 5 * 8;
        ip.hdr.src_addr = rte_cpu_to_be_32(pick(rng, kAddrs) & prefix_mask(sl));
        ip_mask.hdr.src_addr = rte_cpu_to_be_32(prefix_mask(sl));
        ip.hdr.dst_addr = rte_cpu_to_be_32(pick(rng, kAddrs) & prefix_mask(dl));
        ip_mask.hdr.dst_addr = rte_cpu_to_be_32(prefix_mask(dl));
        items.push_back(flow_item(RTE_FLOW_ITEM_TYPE_IPV4, &ip, &ip_mask));
      } else {
        items.push_back(flow_item(RTE_FLOW_ITEM_TYPE_IPV4));
      }
      switch (rng() % 3) {
        case 0:
          break;
        case 1:
          tcp.hdr.dst_port = rte_cpu_to_be_16(pick(rng, kL4Ports));
          tcp_mask.hdr.dst_port = 0xffff;
          items.push_back(flow_item(RTE_FLOW_ITEM_TYPE_TCP, &tcp, &tcp_mask));
          break;
        default:
          udp.hdr.dst_port = rte_cpu_to_be_16(pick(rng, kL4Ports));
          udp_mask.hdr.dst_port = rng() % 2 ? 0xffff : 0;
          items.push_back(flow_item(RTE_FLOW_ITEM_TYPE_UDP, &udp, &udp_mask));
          break;
      }
    }
    actions.push_back(flow_action(RTE_FLOW_ACTION_TYPE_COUNT));
    const unsigned fate = rng() % 10;
    if (fate < 3 && group < 2) {
      if (rng() % 2) {
        push.ethertype = rte_cpu_to_be_16(0x8100);
        vid.vlan_vid = rte_cpu_to_be_16(pick(rng, kVids));
        actions.push_back(flow_action(RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN, &push));
        actions.push_back(flow_action(RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID, &vid));
      }
      jump.group = group + 1 + rng() % (2 - group);
      actions.push_back(flow_action(RTE_FLOW_ACTION_TYPE_JUMP, &jump));
    } else if (fate < 4) {
      actions.push_back(flow_action(RTE_FLOW_ACTION_TYPE_DROP));
    } else {
      const unsigned n = 1 + rng() % 2;
      for (unsigned i = 0; i < n; ++i) {
        out[i].port_id = pick(rng, kEthdevs);
        actions.push_back(flow_action(
            i == 0 ? RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT : RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR,
            &out[i]));
      }
    }
    // Catch-all rules would hide every other rule of their group: keep them rare.
    if (items.empty() && rng() % 4 != 0) {
      port.port_id = pick(rng, kEthdevs);
      items.push_back(flow_item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &port));
    }
    items.push_back(flow_item(RTE_FLOW_ITEM_TYPE_END));
    actions.push_back(flow_action(RTE_FLOW_ACTION_TYPE_END));
  }
  RandomRule(const RandomRule&) = delete;
  RandomRule& operator=(const RandomRule&) = delete;
};

std::vector<uint8_t> random_frame(std::mt19937& rng) {
  PacketBuilder b;
  const Mac& dst = pick(rng, kMacs);
  const Mac& src = pick(rng, kMacs);
  const bool tagged = rng() % 3 == 0;
  const unsigned kind = rng() % 4;  // other, IPv4 TCP, IPv4 UDP, IPv4 fragment
  const uint16_t type = kind == 0 ? 0x88b5 : 0x0800;
  if (tagged)
    b.eth(dst, src, 0x8100).vlan(pick(rng, kVids), type);
  else
    b.eth(dst, src, type);
  if (kind == 0) return b.pad(46).bytes();
  const uint8_t proto = kind == 2 ? 17 : 6;
  b.ipv4(pick(rng, kAddrs), pick(rng, kAddrs), proto, kind == 3 ? 0x0010 : 0);
  if (proto == 6)
    b.tcp(1234, pick(rng, kL4Ports));
  else
    b.udp(1234, pick(rng, kL4Ports));
  return b.pad(8).bytes();
}

bool same(const Verdict& a, const Verdict& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == Verdict::Kind::drop) return a.drop_reason == b.drop_reason;
  if (a.kind != Verdict::Kind::forward) return true;
  if (a.n_out != b.n_out) return false;
  for (unsigned i = 0; i < a.n_out; ++i)
    if (!(a.out[i] == b.out[i])) return false;
  return true;
}

}  // namespace

TEST_CASE("sim classifier: the index answers as the linear walk, on random rules and frames") {
  unsigned compared = 0, hits = 0;
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    auto indexed = make_classifier_table(ClassifierKind::indexed);
    auto linear = make_classifier_table(ClassifierKind::linear);
    std::vector<FlowHandle> live;
    for (int step = 0; step < 400; ++step) {
      if (!live.empty() && rng() % 4 == 0) {
        const size_t i = rng() % live.size();
        REQUIRE(indexed->destroy(live[i]).ok());
        REQUIRE(linear->destroy(live[i]).ok());
        live[i] = live.back();
        live.pop_back();
      } else {
        RandomRule r(rng);
        auto a = indexed->create(r.attr, r.items.data(), r.actions.data());
        auto b = linear->create(r.attr, r.items.data(), r.actions.data());
        REQUIRE(a.ok() == b.ok());
        if (a.ok()) {
          REQUIRE(a.value() == b.value());
          live.push_back(a.value());
        }
      }
      if (step % 20 != 19) continue;
      for (int k = 0; k < 200; ++k) {
        const uint16_t in = static_cast<uint16_t>(rng() % kPorts);
        const auto frame = random_frame(rng);
        TestFrame fa(frame), fb(frame);
        const Verdict va = indexed->classify(in, fa.buffer());
        const Verdict vb = linear->classify(in, fb.buffer());
        CAPTURE(step);
        CAPTURE(k);
        REQUIRE(same(va, vb));
        REQUIRE(fa.bytes() == fb.bytes());
        ++compared;
        if (va.kind != Verdict::Kind::miss) ++hits;
      }
    }
    REQUIRE(indexed->size() == linear->size());
    for (const FlowHandle h : live) {
      auto a = indexed->query_count(h);
      auto b = linear->query_count(h);
      REQUIRE(a.ok());
      REQUIRE(b.ok());
      CHECK(a.value().packets == b.value().packets);
      CHECK(a.value().bytes == b.value().bytes);
    }
  }
  // The random sets must exercise both outcomes, or the comparison proves little.
  CHECK(hits > compared / 10);
  CHECK(hits < compared);
}

TEST_CASE("sim classifier: equal keys keep (priority, insertion) order across subtables") {
  auto t = make_classifier_table(ClassifierKind::indexed);
  const rte_flow_item_ethdev from{kEthdevs[1]};
  const rte_flow_action_ethdev to[] = {{kEthdevs[0]}, {kEthdevs[2]}, {kEthdevs[3]}};
  auto rule = [&](uint32_t prio, bool with_port, const rte_flow_action_ethdev* out) {
    std::vector<rte_flow_item> items;
    if (with_port) items.push_back(flow_item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &from));
    return must_install_rule(*t, transfer_attr(0, prio), items,
                             {flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, out)});
  };
  auto goes_to = [&](uint16_t sim_port) {
    TestFrame f(PacketBuilder().eth(kMacs[0], kMacs[1], 0x88b5).pad(46).bytes());
    const Verdict v = t->classify(1, f.buffer());
    return v.kind == Verdict::Kind::forward && v.out[0].port == sim_port;
  };
  const FlowHandle a = rule(2, false, &to[0]);  // any port, older
  const FlowHandle b = rule(2, true, &to[1]);   // same priority, newer, other shape
  const FlowHandle c = rule(2, true, &to[2]);   // same key as b, newer still
  CHECK(goes_to(0));
  REQUIRE(t->destroy(a).ok());
  CHECK(goes_to(2));
  REQUIRE(t->destroy(b).ok());
  CHECK(goes_to(3));
  const FlowHandle d = rule(1, false, &to[0]);  // better priority wins again
  CHECK(goes_to(0));
  REQUIRE(t->destroy(d).ok());
  REQUIRE(t->destroy(c).ok());
  TestFrame f(PacketBuilder().eth(kMacs[0], kMacs[1], 0x88b5).pad(46).bytes());
  CHECK(t->classify(1, f.buffer()).kind == Verdict::Kind::miss);
}

TEST_CASE("sim classifier: many rules of one shape, inserted and removed, stay findable") {
  auto t = make_classifier_table(ClassifierKind::indexed);
  const rte_flow_action_ethdev to{kEthdevs[0]};
  std::vector<FlowHandle> handles;
  std::vector<rte_flow_item_ipv4> specs(5000);
  rte_flow_item_ipv4 mask{};
  mask.hdr.dst_addr = 0xffffffff;
  for (uint32_t i = 0; i < specs.size(); ++i) {
    specs[i].hdr.dst_addr = rte_cpu_to_be_32(0x0a000000 + i);
    handles.push_back(must_install_rule(*t, transfer_attr(),
                                        {flow_item(RTE_FLOW_ITEM_TYPE_IPV4, &specs[i], &mask)},
                                        {flow_action(RTE_FLOW_ACTION_TYPE_COUNT),
                                         flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &to)}));
  }
  // Remove every other rule: the survivors must still be found behind the holes.
  for (size_t i = 0; i < handles.size(); i += 2) REQUIRE(t->destroy(handles[i]).ok());
  for (uint32_t i = 0; i < specs.size(); ++i) {
    TestFrame f(PacketBuilder()
                    .eth(kMacs[0], kMacs[1], 0x0800)
                    .ipv4(0x01020304, 0x0a000000 + i, 17)
                    .udp(1, 2)
                    .bytes());
    const Verdict v = t->classify(0, f.buffer());
    CHECK((v.kind == Verdict::Kind::forward) == (i % 2 == 1));
  }
  for (size_t i = 1; i < handles.size(); i += 2)
    CHECK(t->query_count(handles[i]).value().packets == 1);
}

// FlowBackend::create_batch's promise, for the sim: a batch (compiled as a run, then
// inserted) gives the same results, handles, verdicts, edits and counters as one create()
// per rule, with malformed rules and a full table inside the runs.
TEST_CASE("sim classifier: create_batch equals one create per rule") {
  unsigned refused = 0, full = 0, compared = 0;
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    // A table of 300 rules, so that later batches run into ENOSPC.
    auto batched = make_classifier_table(ClassifierKind::indexed, 300);
    auto single = make_classifier_table(ClassifierKind::indexed, 300);
    std::vector<FlowHandle> live;
    for (int round = 0; round < 30; ++round) {
      // Some destroys first, so that slots are reused out of order.
      for (int d = 0; d < 6 && !live.empty(); ++d) {
        const size_t i = rng() % live.size();
        REQUIRE(batched->destroy(live[i]).ok());
        REQUIRE(single->destroy(live[i]).ok());
        live[i] = live.back();
        live.pop_back();
      }
      const size_t n = 1 + rng() % 70;  // across the sim's runs of 32
      std::vector<std::unique_ptr<RandomRule>> rules;
      std::vector<FlowRuleRef> refs;
      rte_flow_item_ethdev bad_port{999};  // no port of this eSwitch: EINVAL
      std::vector<rte_flow_item> bad_items = {
          flow_item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &bad_port),
          flow_item(RTE_FLOW_ITEM_TYPE_END)};
      for (size_t i = 0; i < n; ++i) {
        rules.push_back(std::make_unique<RandomRule>(rng));
        RandomRule& r = *rules.back();
        refs.push_back(
            {&r.attr, rng() % 12 == 0 ? bad_items.data() : r.items.data(), r.actions.data()});
      }
      std::vector<FlowResult<FlowHandle>> got;
      got.push_back(FlowHandle{12345});  // create_batch appends
      batched->create_batch(refs.data(), refs.size(), got);
      REQUIRE(got.size() == n + 1);
      for (size_t i = 0; i < n; ++i) {
        CAPTURE(round);
        CAPTURE(i);
        auto want = single->create(*refs[i].attr, refs[i].pattern, refs[i].actions);
        const auto& b = got[i + 1];
        REQUIRE(b.ok() == want.ok());
        if (want.ok()) {
          REQUIRE(b.value() == want.value());
          live.push_back(want.value());
        } else {
          CHECK(b.error().code == want.error().code);
          CHECK(b.error().message == want.error().message);
          refused += want.error().code == EINVAL;
          full += want.error().code == ENOSPC;
        }
      }
      REQUIRE(batched->size() == single->size());
      for (int k = 0; k < 50; ++k) {
        const uint16_t in = static_cast<uint16_t>(rng() % kPorts);
        const auto frame = random_frame(rng);
        TestFrame fa(frame), fb(frame);
        REQUIRE(same(batched->classify(in, fa.buffer()), single->classify(in, fb.buffer())));
        REQUIRE(fa.bytes() == fb.bytes());
        ++compared;
      }
    }
    for (const FlowHandle h : live) {
      auto a = batched->query_count(h);
      auto b = single->query_count(h);
      REQUIRE(a.ok() == b.ok());
      if (a.ok()) CHECK(a.value().packets == b.value().packets);
    }
  }
  // The batches must have met both kinds of refusal, or the comparison proves less.
  CHECK(refused > 0);
  CHECK(full > 0);
  CHECK(compared > 0);
}
