// offload/rule_match: the field-level matcher and VLAN edits vfsw-dump --explain walks
// with. The reference is the sim (drivers/sim/sim_flow_table.h): for thousands of random
// (rule, packet) pairs, rule_matches() says what the sim's classify() does with the same
// rule installed as RteFlowRule builds it and the same packet as bytes; and the frame the
// sim forwards after VLAN edits carries the tags apply_vlan_edits() predicts.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "drivers/sim/sim_flow_table.h"
#include "offload/rte_flow_rule.h"
#include "offload/rule_match.h"

using namespace vfs::offload;
namespace sim = vfs::drivers::sim;

namespace {

constexpr std::array<uint16_t, 3> kEthdev = {10, 11, 12};  // sim ports 0, 1, 2

void put16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

// The packet as wire bytes: Ethernet, tags, IPv4/IPv6, TCP/UDP/ICMP/ICMPv6, padding.
std::vector<uint8_t> wire(const PacketFields& p) {
  std::vector<uint8_t> b;
  b.insert(b.end(), p.eth_dst.begin(), p.eth_dst.end());
  b.insert(b.end(), p.eth_src.begin(), p.eth_src.end());
  for (const auto& t : p.tags) put16(b, t.tpid), put16(b, t.tci);
  put16(b, p.ether_type);
  if (p.ether_type == kEtherTypeIpv4) {
    const uint8_t hdr[] = {0x45, 0, 0, 60, 0, 1};
    b.insert(b.end(), hdr, hdr + 6);
    put16(b, p.later_fragment ? 0x00b9 : 0x2000);  // offset 185*8, or MF on the first
    b.push_back(64);
    b.push_back(p.ip_proto);
    put16(b, 0);
    b.insert(b.end(), p.ip_src.begin(), p.ip_src.begin() + 4);
    b.insert(b.end(), p.ip_dst.begin(), p.ip_dst.begin() + 4);
  } else if (p.ether_type == kEtherTypeIpv6) {
    put16(b, 0x6000), put16(b, 0), put16(b, 20);
    b.push_back(p.ip_proto);
    b.push_back(64);
    b.insert(b.end(), p.ip_src.begin(), p.ip_src.end());
    b.insert(b.end(), p.ip_dst.begin(), p.ip_dst.end());
  }
  if (p.ip_proto == 6 || p.ip_proto == 17) {
    put16(b, p.l4_src), put16(b, p.l4_dst);
    put16(b, 0), put16(b, 0), put16(b, 0), put16(b, 0);
    b.push_back(0x50);
    b.push_back(p.tcp_flags);
  } else {
    b.push_back(p.icmp_type);
    b.push_back(p.icmp_code);
  }
  b.resize(b.size() + 40, 0xab);
  return b;
}

// The tags of a forwarded frame.
std::vector<VlanTag> tags_of(const uint8_t* d, uint32_t len) {
  std::vector<VlanTag> out;
  uint32_t off = 12;
  while (off + 4 <= len) {
    const uint16_t t = static_cast<uint16_t>(d[off] << 8 | d[off + 1]);
    if (t != 0x8100 && t != 0x88a8 && t != 0x9100) break;
    out.push_back({t, static_cast<uint16_t>(d[off + 2] << 8 | d[off + 3])});
    off += 4;
  }
  return out;
}

class Random {
 public:
  explicit Random(uint32_t seed) : rng_(seed) {}
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool one_in(int n) { return pick(1, n) == 1; }
  template <class T, size_t N>
  T of(const std::array<T, N>& a) {
    return a[static_cast<size_t>(pick(0, N - 1))];
  }

  PacketFields packet() {
    PacketFields p;
    p.in_port = of(kEthdev);
    p.eth_src = {2, 0, 0, 0, 0, static_cast<uint8_t>(pick(1, 3))};
    p.eth_dst = one_in(4) ? Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
                          : Mac{2, 0, 0, 0, 0, static_cast<uint8_t>(pick(1, 3))};
    const int tags = of(std::array<int, 6>{0, 0, 1, 1, 2, 5});
    for (int i = 0; i < tags; ++i)
      p.tags.push_back({of(std::array<uint16_t, 3>{0x8100, 0x8100, 0x88a8}),
                        static_cast<uint16_t>(pick(0, 1) << 13 | pick(10, 12))});
    p.ether_type = of(std::array<uint16_t, 5>{0x0800, 0x0800, 0x86dd, 0x86dd, 0x0806});
    const bool v6 = p.ether_type == kEtherTypeIpv6;
    for (size_t i = 0; i < (v6 ? 16u : 4u); ++i) {
      p.ip_src[i] = static_cast<uint8_t>(i == 3 || i == 15 ? pick(1, 3) : 10);
      p.ip_dst[i] = static_cast<uint8_t>(i == 3 || i == 15 ? pick(1, 3) : 10);
    }
    p.ip_proto = of(std::array<uint8_t, 5>{6, 17, 1, 58, 47});
    p.later_fragment = !v6 && one_in(6);
    p.l4_src = static_cast<uint16_t>(pick(1000, 1002));
    p.l4_dst = of(std::array<uint16_t, 3>{22, 80, 443});
    p.tcp_flags = of(std::array<uint8_t, 4>{0x02, 0x10, 0x12, 0x04});
    p.icmp_type = of(std::array<uint8_t, 3>{8, 0, 128});
    p.icmp_code = static_cast<uint8_t>(pick(0, 1));
    return p;
  }

  // A rule biased toward the packet's own values, so that about as many match as not.
  RuleMatch rule_for(const PacketFields& p) {
    RuleMatch m;
    auto near = [&](auto own, auto other) { return one_in(3) ? other : own; };
    if (one_in(2)) m.in_port = near(p.in_port, of(kEthdev));
    if (one_in(3)) {
      m.eth_src = near(p.eth_src, Mac{2, 0, 0, 0, 0, 9});
      if (one_in(3)) m.eth_src_mask = Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xf0};
    }
    if (one_in(3)) {
      m.eth_dst = near(p.eth_dst, Mac{2, 0, 0, 0, 0, 2});
      if (one_in(3)) m.eth_dst_mask = Mac{0x01, 0, 0, 0, 0, 0};
    }
    if (one_in(4)) m.has_vlan = near(!p.tags.empty(), p.tags.empty());
    if (one_in(3)) {
      if (one_in(2))
        m.vlan_vid = near(static_cast<uint16_t>(p.tags.empty() ? 10 : p.tags[0].tci & 0xfff),
                          static_cast<uint16_t>(11));
      if (one_in(3))
        m.tpid = near(p.tags.empty() ? uint16_t{0x8100} : p.tags[0].tpid, uint16_t{0x88a8});
      if (one_in(3)) m.more_vlan = near(p.tags.size() > 1, p.tags.size() <= 1);
      m.tagged = !m.vlan_vid && !m.tpid && !m.more_vlan;
    }
    if (one_in(3)) {
      const bool vlan_item = m.tagged || m.tpid || m.vlan_vid || m.more_vlan;
      const size_t skip = vlan_item ? 1 : 0;
      const uint16_t own = skip < p.tags.size() ? p.tags[skip].tpid : p.ether_type;
      m.ether_type = near(own, of(std::array<uint16_t, 3>{0x0800, 0x86dd, 0x8100}));
    }
    if (one_in(3) == false) {
      m.l3 = near(p.ether_type == kEtherTypeIpv6 ? uint8_t{6} : uint8_t{4},
                  of(std::array<uint8_t, 2>{4, 6}));
      const size_t n = m.l3 == 6 ? 16 : 4;
      auto ip = [&](const std::array<uint8_t, 16>& own) {
        IpMatch r;
        std::copy(own.begin(), own.begin() + static_cast<long>(n), r.addr.begin());
        if (one_in(3)) r.addr[n - 1] = static_cast<uint8_t>(r.addr[n - 1] ^ 1);
        std::fill_n(r.mask.begin(), n, uint8_t{0xff});
        if (one_in(3)) r.mask[n - 1] = 0xfc;
        return r;
      };
      if (one_in(2)) m.ip_src = ip(p.ip_src);
      if (one_in(2)) m.ip_dst = ip(p.ip_dst);
      if (one_in(2)) m.ip_proto = near(p.ip_proto, of(std::array<uint8_t, 3>{6, 17, 1}));
    }
    if (one_in(2)) {
      if (one_in(3)) {
        if (one_in(2))
          m.icmp_type = near(p.icmp_type, uint8_t{0});
        else
          m.icmp_code = near(p.icmp_code, uint8_t{1});
        if (m.ip_proto && *m.ip_proto != (m.l3 == 6 ? 58 : 1)) m.ip_proto.reset();
      } else {
        if (m.ip_proto && *m.ip_proto != 6 && *m.ip_proto != 17) m.ip_proto.reset();
        if (!m.ip_proto && one_in(2)) m.ip_proto = 17;
        if (one_in(2))
          m.l4_src = U16Match{near(p.l4_src, uint16_t{999}),
                              one_in(3) ? uint16_t{0xfff0} : uint16_t{0xffff}};
        if (one_in(2)) m.l4_dst = U16Match{near(p.l4_dst, uint16_t{8080}), 0xffff};
        if (!m.has_l4() || (m.ip_proto != 17 && one_in(2)))
          m.tcp_flags =
              U8Match{near(p.tcp_flags, uint8_t{0x02}), near(uint8_t{0x12}, uint8_t{0x02})};
        if (m.tcp_flags) m.ip_proto = near(uint8_t{6}, uint8_t{6});
      }
    }
    return m;
  }

 private:
  std::mt19937 rng_;
};

std::unique_ptr<sim::FlowTable> table() {
  auto t = sim::FlowTable::make({kEthdev.begin(), kEthdev.end()}, {});
  REQUIRE(t.ok());
  return std::move(t.value());
}

uint16_t sim_port(uint16_t ethdev) {
  return static_cast<uint16_t>(std::find(kEthdev.begin(), kEthdev.end(), ethdev) - kEthdev.begin());
}

}  // namespace

TEST_CASE("rule_matches says what the sim does, over thousands of random rules and packets") {
  Random rnd(42);
  int matched = 0, missed = 0, refused = 0;
  for (int i = 0; i < 6000; ++i) {
    const PacketFields p = rnd.packet();
    RuleSpec spec;
    spec.match = rnd.rule_for(p);
    spec.actions = {act_drop()};
    auto t = table();
    RteFlowRule rule(spec);
    auto h = t->create(rule.attr(), rule.pattern(), rule.actions());
    if (!h.ok()) {  // a pattern the sim refuses (e.g. ETH then TCP) says nothing here
      ++refused;
      continue;
    }
    auto bytes = wire(p);
    std::vector<uint8_t> buf(64 + bytes.size());
    std::copy(bytes.begin(), bytes.end(), buf.begin() + 64);
    sim::PacketBuffer pb{buf.data() + 64, static_cast<uint32_t>(bytes.size()), 64};
    const bool sim_hit = t->classify(sim_port(p.in_port), pb).kind == sim::Verdict::Kind::drop;
    const bool ours = rule_matches(spec.match, p);
    if (ours != sim_hit) {
      CAPTURE(match_text(spec));
      CAPTURE(p.tags.size());
      CAPTURE(p.ether_type);
      CAPTURE(int(p.ip_proto));
      CAPTURE(p.later_fragment);
      CHECK(ours == sim_hit);
    }
    (sim_hit ? matched : missed) += 1;
  }
  // Both answers are frequent, and most rules are ones the sim takes.
  CHECK(matched > 600);
  CHECK(missed > 600);
  CHECK(refused < 2000);
}

TEST_CASE("VLAN edits leave the tags the sim's forwarded frame carries") {
  Random rnd(7);
  for (int i = 0; i < 2000; ++i) {
    PacketFields p = rnd.packet();
    RuleSpec spec;
    const int n = rnd.pick(1, 4);
    for (int k = 0; k < n; ++k) {
      switch (rnd.pick(0, 2)) {
        case 0:
          spec.actions.push_back(act_push_vlan(rnd.one_in(3) ? 0x88a8 : 0x8100));
          break;
        case 1:
          spec.actions.push_back(act_set_vid(static_cast<uint16_t>(rnd.pick(0, 4095))));
          break;
        default:
          spec.actions.push_back(act_pop_vlan());
          break;
      }
    }
    spec.actions.push_back(act_port(kEthdev[2]));
    auto t = table();
    RteFlowRule rule(spec);
    auto h = t->create(rule.attr(), rule.pattern(), rule.actions());
    if (!h.ok()) continue;  // e.g. a VID edit the sim refuses without a known tag
    auto bytes = wire(p);
    std::vector<uint8_t> buf(64 + bytes.size());
    std::copy(bytes.begin(), bytes.end(), buf.begin() + 64);
    sim::PacketBuffer pb{buf.data() + 64, static_cast<uint32_t>(bytes.size()), 64};
    const auto v = t->classify(sim_port(p.in_port), pb);
    if (v.kind != sim::Verdict::Kind::forward) continue;
    apply_vlan_edits(spec.actions, p);
    CAPTURE(actions_text(spec));
    CHECK(tags_of(pb.data, pb.len) == p.tags);
  }
}

TEST_CASE("rule_matches: the cases the explain walk relies on") {
  PacketFields p;
  p.in_port = 1;
  p.eth_src = {2, 0, 0, 0, 0, 1};
  p.eth_dst = {2, 0, 0, 0, 0, 2};
  p.ether_type = kEtherTypeIpv4;
  p.ip_src = {10, 0, 0, 5};
  p.ip_dst = {10, 0, 0, 9};
  p.ip_proto = 6;
  p.l4_src = 1234;
  p.l4_dst = 80;
  p.tcp_flags = 0x02;

  RuleMatch ingress;
  ingress.in_port = 1;
  ingress.eth_src = p.eth_src;
  ingress.has_vlan = false;
  CHECK(rule_matches(ingress, p));
  p.in_port = 2;
  CHECK_FALSE(rule_matches(ingress, p));
  p.in_port = 1;

  // After group 0's push + set VID the frame is tagged: has_vlan 0 no longer matches, an L2
  // rule on (VID, dst) does, and an IPv4 ACL after the VLAN item still sees the header.
  apply_vlan_edits({act_push_vlan(), act_set_vid(10)}, p);
  REQUIRE(p.tags == std::vector<VlanTag>{{0x8100, 10}});
  CHECK_FALSE(rule_matches(ingress, p));
  RuleMatch l2;
  l2.vlan_vid = 10;
  l2.eth_dst = p.eth_dst;
  CHECK(rule_matches(l2, p));
  l2.vlan_vid = 11;
  CHECK_FALSE(rule_matches(l2, p));
  RuleMatch acl;
  acl.vlan_vid = 10;
  acl.l3 = 4;
  acl.ip_proto = 6;
  acl.l4_dst = U16Match{80, 0xffff};
  CHECK(rule_matches(acl, p));
  acl.tcp_flags = U8Match{0x10, 0x14};  // "established": ACK or RST
  CHECK_FALSE(rule_matches(acl, p));
  p.later_fragment = true;  // no TCP header: the port match cannot hit
  acl.tcp_flags.reset();
  CHECK_FALSE(rule_matches(acl, p));
  apply_vlan_edit(act_pop_vlan(), p);
  CHECK(p.tags.empty());
  apply_vlan_edit(act_set_vid(5), p);  // nothing to set on an untagged frame
  CHECK(p.tags.empty());
}
