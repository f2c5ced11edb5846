// The sim's rule interpreter against hand-built rte_flow arrays: matching per item with
// masks, priorities, groups and JUMP, VLAN edits, miss semantics, and every refusal with
// its errno, error type and message.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <set>
#include <vector>

#include <rte_byteorder.h>

#include "drivers/sim/sim_flow_table.h"
#include "sim_packet_builder.h"

using namespace vfs::drivers;
using namespace vfs::drivers::sim;
using vfs::test::Mac;
using vfs::test::PacketBuilder;
using vfs::test::TestFrame;

namespace {

constexpr uint16_t kUp = 10, kVf0 = 11, kVf1 = 12;        // representor ethdev ids
constexpr uint16_t kSimUp = 0, kSimVf0 = 1, kSimVf1 = 2;  // their sim port indexes
const Mac kTableMacA = {0x02, 0, 0, 0, 0, 0x0a};
const Mac kTableMacB = {0x02, 0, 0, 0, 0, 0x0b};
const Mac kBcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

std::unique_ptr<FlowTable> make_table(const FlowTableOptions& opt = {}) {
  auto t = FlowTable::make({kUp, kVf0, kVf1}, opt);
  REQUIRE(t.ok());
  return std::move(t.value());
}

rte_flow_attr xattr(uint32_t group = 0, uint32_t priority = 0) {
  rte_flow_attr a{};
  a.group = group;
  a.priority = priority;
  a.transfer = 1;
  return a;
}

rte_flow_item item(rte_flow_item_type t, const void* spec = nullptr, const void* mask = nullptr) {
  return rte_flow_item{t, spec, nullptr, mask};
}
rte_flow_action action(rte_flow_action_type t, const void* conf = nullptr) {
  return rte_flow_action{t, conf};
}

FlowResult<FlowHandle> install(FlowTable& t, const rte_flow_attr& a,
                               std::vector<rte_flow_item> items,
                               std::vector<rte_flow_action> acts) {
  items.push_back(item(RTE_FLOW_ITEM_TYPE_END));
  acts.push_back(action(RTE_FLOW_ACTION_TYPE_END));
  return t.create(a, items.data(), acts.data());
}

FlowHandle must_install(FlowTable& t, const rte_flow_attr& a, std::vector<rte_flow_item> items,
                        std::vector<rte_flow_action> acts) {
  auto r = install(t, a, std::move(items), std::move(acts));
  const std::string why = r.ok() ? std::string() : r.error().message;
  INFO(why);
  REQUIRE(r.ok());
  return r.value();
}

// Port confs outlive the rules that point at them in a test.
const rte_flow_item_ethdev kFromUp{kUp}, kFromVf0{kVf0}, kFromVf1{kVf1};
const rte_flow_action_ethdev kToUp{kUp}, kToVf1{kVf1};
const rte_flow_action_port_id kPortIdVf0{0, 0, kVf0};

rte_flow_action to_vf1() { return action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kToVf1); }
rte_flow_action to_up() { return action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kToUp); }

Verdict run(FlowTable& t, uint16_t in_port, const std::vector<uint8_t>& frame) {
  TestFrame f(frame);
  return t.classify(in_port, f.buffer());
}

bool goes_to_wire(const Verdict& v, uint16_t port) {
  return v.kind == Verdict::Kind::forward && v.n_out == 1 &&
         v.out[0] == Destination{Destination::Kind::wire, port};
}

std::vector<uint8_t> plain_frame(const Mac& dst = kTableMacB, const Mac& src = kTableMacA) {
  return PacketBuilder().eth(dst, src, 0x88b5).pad(46).bytes();
}

std::vector<uint8_t> tcp_frame(uint32_t src_ip, uint32_t dst_ip, uint16_t dport, int vlan = -1) {
  PacketBuilder b;
  if (vlan >= 0)
    b.eth(kTableMacB, kTableMacA, 0x8100).vlan(static_cast<uint16_t>(vlan), 0x0800);
  else
    b.eth(kTableMacB, kTableMacA, 0x0800);
  return b.ipv4(src_ip, dst_ip, 6).tcp(40000, dport).pad(6).bytes();
}

void check_refused(const FlowResult<FlowHandle>& r, int code, rte_flow_error_type type,
                   const std::string& words) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == code);
  CHECK(r.error().type == type);
  INFO(r.error().message);
  CHECK(r.error().message.find(words) != std::string::npos);
}

}  // namespace

TEST_CASE("sim flow table: with no rules every frame misses unchanged") {
  auto t = make_table();
  const auto frame = plain_frame();
  TestFrame f(frame);
  const Verdict v = t->classify(kSimVf0, f.buffer());
  CHECK(v.kind == Verdict::Kind::miss);
  CHECK(f.bytes() == frame);
}

TEST_CASE("sim flow table: REPRESENTED_PORT and PORT_ID items match the source port") {
  auto t = make_table();
  const rte_flow_item_port_id from_up{kUp};
  must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &kFromVf0)}, {to_vf1()});
  must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_PORT_ID, &from_up)},
               {action(RTE_FLOW_ACTION_TYPE_PORT_ID, &kPortIdVf0)});
  CHECK(goes_to_wire(run(*t, kSimVf0, plain_frame()), kSimVf1));
  CHECK(goes_to_wire(run(*t, kSimUp, plain_frame()), kSimVf0));
  CHECK(run(*t, kSimVf1, plain_frame()).kind == Verdict::Kind::miss);
}

TEST_CASE("sim flow table: ETH matches dst/src/type under the mask, default mask is the MACs") {
  auto t = make_table();
  SUBCASE("default mask: both MACs") {
    rte_flow_item_eth spec{};
    std::memcpy(spec.hdr.dst_addr.addr_bytes, kTableMacB.data(), 6);
    std::memcpy(spec.hdr.src_addr.addr_bytes, kTableMacA.data(), 6);
    must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_ETH, &spec)}, {to_vf1()});
    CHECK(goes_to_wire(run(*t, kSimVf0, plain_frame(kTableMacB, kTableMacA)), kSimVf1));
    CHECK(run(*t, kSimVf0, plain_frame(kTableMacB, kTableMacB)).kind == Verdict::Kind::miss);
  }
  SUBCASE("group bit of dst only: broadcast and multicast") {
    rte_flow_item_eth spec{}, mask{};
    spec.hdr.dst_addr.addr_bytes[0] = 0x01;
    mask.hdr.dst_addr.addr_bytes[0] = 0x01;
    must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_ETH, &spec, &mask)}, {to_vf1()});
    CHECK(goes_to_wire(run(*t, kSimVf0, plain_frame(kBcast)), kSimVf1));
    CHECK(run(*t, kSimVf0, plain_frame(kTableMacB)).kind == Verdict::Kind::miss);
  }
  SUBCASE("EtherType") {
    rte_flow_item_eth spec{}, mask{};
    spec.hdr.ether_type = rte_cpu_to_be_16(0x0806);
    mask.hdr.ether_type = 0xffff;
    must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_ETH, &spec, &mask)}, {to_vf1()});
    const auto arp =
        PacketBuilder().eth(kBcast, kTableMacA, 0x0806).arp(1, kTableMacA, 1, {}, 2).bytes();
    CHECK(goes_to_wire(run(*t, kSimVf0, arp), kSimVf1));
    CHECK(run(*t, kSimVf0, plain_frame()).kind == Verdict::Kind::miss);
  }
}

TEST_CASE("sim flow table: ETH has_vlan selects tagged or untagged frames") {
  auto t = make_table();
  rte_flow_item_eth tagged{}, untagged{}, mask{};
  tagged.has_vlan = 1;
  mask.has_vlan = 1;
  must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_ETH, &tagged, &mask)}, {to_vf1()});
  must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_ETH, &untagged, &mask)}, {to_up()});
  CHECK(goes_to_wire(run(*t, kSimVf0, tcp_frame(1, 2, 80, 10)), kSimVf1));
  CHECK(goes_to_wire(run(*t, kSimVf0, tcp_frame(1, 2, 80)), kSimUp));
}

TEST_CASE("sim flow table: VLAN matches VID (default mask), inner type and has_more_vlan") {
  auto t = make_table();
  SUBCASE("VID only, PCP ignored by the default mask") {
    rte_flow_item_vlan spec{};
    spec.hdr.vlan_tci = rte_cpu_to_be_16(10);
    must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_ETH), item(RTE_FLOW_ITEM_TYPE_VLAN, &spec)},
                 {to_vf1()});
    CHECK(goes_to_wire(run(*t, kSimVf0, tcp_frame(1, 2, 80, 10)), kSimVf1));
    CHECK(goes_to_wire(run(*t, kSimVf0, tcp_frame(1, 2, 80, 0xa00a)), kSimVf1));  // PCP 5
    CHECK(run(*t, kSimVf0, tcp_frame(1, 2, 80, 11)).kind == Verdict::Kind::miss);
    CHECK(run(*t, kSimVf0, tcp_frame(1, 2, 80)).kind == Verdict::Kind::miss);
  }
  SUBCASE("inner type and a second tag") {
    rte_flow_item_vlan outer{}, outer_mask{}, inner{};
    outer.has_more_vlan = 1;
    outer_mask.has_more_vlan = 1;
    inner.hdr.vlan_tci = rte_cpu_to_be_16(20);
    inner.hdr.eth_proto = rte_cpu_to_be_16(0x0800);
    rte_flow_item_vlan inner_mask{};
    inner_mask.hdr.vlan_tci = rte_cpu_to_be_16(0x0fff);
    inner_mask.hdr.eth_proto = 0xffff;
    must_install(*t, xattr(),
                 {item(RTE_FLOW_ITEM_TYPE_VLAN, &outer, &outer_mask),
                  item(RTE_FLOW_ITEM_TYPE_VLAN, &inner, &inner_mask)},
                 {to_vf1()});
    const auto qinq = PacketBuilder()
                          .eth(kTableMacB, kTableMacA, 0x88a8)
                          .vlan(100, 0x8100)
                          .vlan(20, 0x0800)
                          .ipv4(1, 2, 17)
                          .udp(1, 2)
                          .bytes();
    const auto qinq_ipv6 = PacketBuilder()
                               .eth(kTableMacB, kTableMacA, 0x88a8)
                               .vlan(100, 0x8100)
                               .vlan(20, 0x86dd)
                               .pad(40)
                               .bytes();
    CHECK(goes_to_wire(run(*t, kSimVf0, qinq), kSimVf1));
    CHECK(run(*t, kSimVf0, qinq_ipv6).kind == Verdict::Kind::miss);
    CHECK(run(*t, kSimVf0, tcp_frame(1, 2, 80, 20)).kind == Verdict::Kind::miss);  // one tag
  }
}

TEST_CASE("sim flow table: IPV4 addresses under a prefix mask, through VLAN tags") {
  auto t = make_table();
  rte_flow_item_ipv4 spec{}, mask{};
  spec.hdr.dst_addr = rte_cpu_to_be_32(0x0a000100);  // 10.0.1.0/24
  mask.hdr.dst_addr = rte_cpu_to_be_32(0xffffff00);
  must_install(*t, xattr(),
               {item(RTE_FLOW_ITEM_TYPE_ETH), item(RTE_FLOW_ITEM_TYPE_IPV4, &spec, &mask)},
               {to_vf1()});
  CHECK(goes_to_wire(run(*t, kSimVf0, tcp_frame(1, 0x0a000107, 80)), kSimVf1));
  CHECK(goes_to_wire(run(*t, kSimVf0, tcp_frame(1, 0x0a000107, 80, 30)), kSimVf1));
  CHECK(run(*t, kSimVf0, tcp_frame(1, 0x0a000207, 80)).kind == Verdict::Kind::miss);
  CHECK(run(*t, kSimVf0, plain_frame()).kind == Verdict::Kind::miss);

  SUBCASE("after an explicit VLAN item the L3 header must follow that tag") {
    auto t2 = make_table();
    must_install(*t2, xattr(),
                 {item(RTE_FLOW_ITEM_TYPE_ETH), item(RTE_FLOW_ITEM_TYPE_VLAN),
                  item(RTE_FLOW_ITEM_TYPE_IPV4, &spec, &mask)},
                 {to_vf1()});
    CHECK(goes_to_wire(run(*t2, kSimVf0, tcp_frame(1, 0x0a000107, 80, 30)), kSimVf1));
    CHECK(run(*t2, kSimVf0, tcp_frame(1, 0x0a000107, 80)).kind == Verdict::Kind::miss);
  }
}

TEST_CASE("sim flow table: IPV6, TCP, UDP, ICMP, ICMP6 and ARP_ETH_IPV4 items") {
  auto t = make_table();
  std::array<uint8_t, 16> a6{0x20, 0x01, 0x0d, 0xb8}, b6{0x20, 0x01, 0x0d, 0xb8};
  a6[15] = 1;
  b6[15] = 2;

  rte_flow_item_ipv6 ip6{};
  std::memcpy(ip6.hdr.dst_addr, b6.data(), 16);
  rte_flow_item_ipv6 ip6_mask{};
  std::memset(ip6_mask.hdr.dst_addr, 0xff, 16);
  rte_flow_item_icmp6 nd{135, 0, 0};  // neighbour solicitation
  must_install(
      *t, xattr(0, 1),
      {item(RTE_FLOW_ITEM_TYPE_IPV6, &ip6, &ip6_mask), item(RTE_FLOW_ITEM_TYPE_ICMP6, &nd)},
      {to_up()});

  rte_flow_item_tcp tcp{};
  tcp.hdr.dst_port = rte_cpu_to_be_16(443);
  rte_flow_item_tcp tcp_mask{};
  tcp_mask.hdr.dst_port = 0xffff;
  must_install(*t, xattr(0, 1), {item(RTE_FLOW_ITEM_TYPE_TCP, &tcp, &tcp_mask)}, {to_vf1()});

  rte_flow_item_udp udp{};
  udp.hdr.src_port = rte_cpu_to_be_16(68);
  rte_flow_item_udp udp_mask{};
  udp_mask.hdr.src_port = 0xffff;
  must_install(*t, xattr(0, 1),
               {item(RTE_FLOW_ITEM_TYPE_IPV4), item(RTE_FLOW_ITEM_TYPE_UDP, &udp, &udp_mask)},
               {to_up()});

  rte_flow_item_icmp echo{};
  echo.hdr.icmp_type = 8;
  must_install(*t, xattr(0, 1), {item(RTE_FLOW_ITEM_TYPE_ICMP, &echo)}, {to_vf1()});

  rte_flow_item_arp_eth_ipv4 arp{};
  arp.tpa = rte_cpu_to_be_32(0x0a000001);
  rte_flow_item_arp_eth_ipv4 arp_mask{};
  arp_mask.tpa = 0xffffffff;
  must_install(
      *t, xattr(0, 1),
      {item(RTE_FLOW_ITEM_TYPE_ETH), item(RTE_FLOW_ITEM_TYPE_ARP_ETH_IPV4, &arp, &arp_mask)},
      {to_up()});

  const auto ns = PacketBuilder()
                      .eth(kTableMacB, kTableMacA, 0x86dd)
                      .ipv6(a6, b6, 58)
                      .u8(135)
                      .u8(0)
                      .u16(0)
                      .pad(20)
                      .bytes();
  const auto ns_other = PacketBuilder()
                            .eth(kTableMacB, kTableMacA, 0x86dd)
                            .ipv6(b6, a6, 58)
                            .u8(135)
                            .u8(0)
                            .u16(0)
                            .pad(20)
                            .bytes();
  const auto tcp443 = tcp_frame(1, 2, 443);
  const auto tcp80 = tcp_frame(1, 2, 80);
  const auto tcp443_v6 =
      PacketBuilder().eth(kTableMacB, kTableMacA, 0x86dd).ipv6(a6, a6, 6).tcp(1, 443).bytes();
  const auto dhcp = PacketBuilder()
                        .eth(kBcast, kTableMacA, 0x0800)
                        .ipv4(0, 0xffffffff, 17)
                        .udp(68, 67)
                        .pad(20)
                        .bytes();
  const auto udp_not68 = PacketBuilder()
                             .eth(kBcast, kTableMacA, 0x0800)
                             .ipv4(0, 0xffffffff, 17)
                             .udp(69, 67)
                             .pad(20)
                             .bytes();
  const auto ping =
      PacketBuilder().eth(kTableMacB, kTableMacA, 0x0800).ipv4(1, 2, 1).icmp(8, 0).pad(20).bytes();
  const auto pong =
      PacketBuilder().eth(kTableMacB, kTableMacA, 0x0800).ipv4(1, 2, 1).icmp(0, 0).pad(20).bytes();
  const auto who_has = PacketBuilder()
                           .eth(kBcast, kTableMacA, 0x0806)
                           .arp(1, kTableMacA, 0x0a000002, {}, 0x0a000001)
                           .bytes();
  const auto who_has_other = PacketBuilder()
                                 .eth(kBcast, kTableMacA, 0x0806)
                                 .arp(1, kTableMacA, 0x0a000002, {}, 0x0a000003)
                                 .bytes();
  // A non-first fragment carries no TCP header.
  const auto fragment =
      PacketBuilder().eth(kTableMacB, kTableMacA, 0x0800).ipv4(1, 2, 6, 0x0010).tcp(1, 443).bytes();

  CHECK(goes_to_wire(run(*t, kSimVf0, ns), kSimUp));
  CHECK(run(*t, kSimVf0, ns_other).kind == Verdict::Kind::miss);
  CHECK(goes_to_wire(run(*t, kSimVf0, tcp443), kSimVf1));
  CHECK(goes_to_wire(run(*t, kSimVf0, tcp443_v6), kSimVf1));
  CHECK(run(*t, kSimVf0, tcp80).kind == Verdict::Kind::miss);
  CHECK(goes_to_wire(run(*t, kSimVf0, dhcp), kSimUp));
  CHECK(run(*t, kSimVf0, udp_not68).kind == Verdict::Kind::miss);
  CHECK(goes_to_wire(run(*t, kSimVf0, ping), kSimVf1));
  CHECK(run(*t, kSimVf0, pong).kind == Verdict::Kind::miss);
  CHECK(goes_to_wire(run(*t, kSimVf0, who_has), kSimUp));
  CHECK(run(*t, kSimVf0, who_has_other).kind == Verdict::Kind::miss);
  CHECK(run(*t, kSimVf0, fragment).kind == Verdict::Kind::miss);
}

TEST_CASE("sim flow table: lower priority value wins, then the rule inserted first") {
  auto t = make_table();
  must_install(*t, xattr(0, 5), {item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &kFromVf0)}, {to_up()});
  const FlowHandle first =
      must_install(*t, xattr(0, 2), {item(RTE_FLOW_ITEM_TYPE_ETH)}, {to_vf1()});
  must_install(*t, xattr(0, 2), {item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &kFromVf0)},
               {action(RTE_FLOW_ACTION_TYPE_DROP)});
  CHECK(goes_to_wire(run(*t, kSimVf0, plain_frame()), kSimVf1));
  REQUIRE(t->destroy(first).ok());
  CHECK(run(*t, kSimVf0, plain_frame()).kind == Verdict::Kind::drop);
}

TEST_CASE(
    "sim flow table: JUMP carries the VLAN push into the next group; a miss there returns "
    "the original frame") {
  auto t = make_table();
  const rte_flow_action_jump to_g1{1};
  const rte_flow_action_of_push_vlan push{rte_cpu_to_be_16(0x8100)};
  const rte_flow_action_of_set_vlan_vid vid{rte_cpu_to_be_16(42)};
  const rte_flow_action_of_set_vlan_pcp pcp{3};
  must_install(*t, xattr(0), {item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &kFromVf0)},
               {action(RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN, &push),
                action(RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID, &vid),
                action(RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP, &pcp),
                action(RTE_FLOW_ACTION_TYPE_COUNT), action(RTE_FLOW_ACTION_TYPE_JUMP, &to_g1)});
  rte_flow_item_vlan v42{};
  v42.hdr.vlan_tci = rte_cpu_to_be_16(42);
  rte_flow_item_eth dst_b{};
  std::memcpy(dst_b.hdr.dst_addr.addr_bytes, kTableMacB.data(), 6);
  rte_flow_item_eth dst_mask{};
  std::memset(dst_mask.hdr.dst_addr.addr_bytes, 0xff, 6);
  must_install(
      *t, xattr(1),
      {item(RTE_FLOW_ITEM_TYPE_ETH, &dst_b, &dst_mask), item(RTE_FLOW_ITEM_TYPE_VLAN, &v42)},
      {to_up()});

  const auto frame = plain_frame(kTableMacB);
  TestFrame f(frame);
  const Verdict v = t->classify(kSimVf0, f.buffer());
  REQUIRE(goes_to_wire(v, kSimUp));
  const auto expected =
      PacketBuilder().eth(kTableMacB, kTableMacA, 0x8100).vlan(0x6000 | 42, 0x88b5).pad(46).bytes();
  CHECK(f.bytes() == expected);

  const auto other = plain_frame(kBcast);
  TestFrame g(other);
  CHECK(t->classify(kSimVf0, g.buffer()).kind == Verdict::Kind::miss);
  CHECK(g.bytes() == other);
}

TEST_CASE("sim flow table: a jump to a group without rules misses") {
  auto t = make_table();
  const rte_flow_action_jump to_g7{7};
  must_install(*t, xattr(0), {}, {action(RTE_FLOW_ACTION_TYPE_JUMP, &to_g7)});
  CHECK(run(*t, kSimVf0, plain_frame()).kind == Verdict::Kind::miss);
}

TEST_CASE("sim flow table: DROP, several outputs, PORT_REPRESENTOR") {
  auto t = make_table();
  const rte_flow_action_ethdev rep_vf0{kVf0};
  must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &kFromUp)},
               {to_vf1(), action(RTE_FLOW_ACTION_TYPE_PORT_ID, &kPortIdVf0),
                action(RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR, &rep_vf0)});
  must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &kFromVf1)},
               {action(RTE_FLOW_ACTION_TYPE_DROP)});
  const Verdict v = run(*t, kSimUp, plain_frame());
  REQUIRE(v.kind == Verdict::Kind::forward);
  REQUIRE(v.n_out == 3);
  CHECK(v.out[0] == Destination{Destination::Kind::wire, kSimVf1});
  CHECK(v.out[1] == Destination{Destination::Kind::wire, kSimVf0});
  CHECK(v.out[2] == Destination{Destination::Kind::representor, kSimVf0});
  const Verdict d = run(*t, kSimVf1, plain_frame());
  CHECK(d.kind == Verdict::Kind::drop);
  CHECK(d.drop_reason == SimCounter::drop_rule);
}

TEST_CASE("sim flow table: OF_POP_VLAN strips the outer tag") {
  auto t = make_table();
  rte_flow_item_vlan v10{};
  v10.hdr.vlan_tci = rte_cpu_to_be_16(10);
  must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_ETH), item(RTE_FLOW_ITEM_TYPE_VLAN, &v10)},
               {action(RTE_FLOW_ACTION_TYPE_OF_POP_VLAN), to_vf1()});
  TestFrame f(tcp_frame(1, 2, 80, 10));
  REQUIRE(goes_to_wire(t->classify(kSimUp, f.buffer()), kSimVf1));
  CHECK(f.bytes() == tcp_frame(1, 2, 80));
}

TEST_CASE("sim flow table: a VLAN push without headroom drops the frame") {
  auto t = make_table();
  const rte_flow_action_of_push_vlan push{rte_cpu_to_be_16(0x8100)};
  must_install(*t, xattr(), {}, {action(RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN, &push), to_vf1()});
  TestFrame f(plain_frame(), 2);
  const Verdict v = t->classify(kSimVf0, f.buffer());
  CHECK(v.kind == Verdict::Kind::drop);
  CHECK(v.drop_reason == SimCounter::drop_no_headroom);
  CHECK(f.bytes() == plain_frame());
}

TEST_CASE("sim flow table: counters count packets and bytes per rule") {
  auto t = make_table();
  const FlowHandle h =
      must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &kFromVf0)},
                   {action(RTE_FLOW_ACTION_TYPE_COUNT), to_vf1()});
  const FlowHandle uncounted =
      must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &kFromVf1)}, {to_up()});
  run(*t, kSimVf0, plain_frame());
  run(*t, kSimVf0, tcp_frame(1, 2, 80));
  run(*t, kSimUp, plain_frame());
  auto c = t->query_count(h);
  REQUIRE(c.ok());
  CHECK(c.value().packets == 2);
  CHECK(c.value().bytes == plain_frame().size() + tcp_frame(1, 2, 80).size());
  auto none = t->query_count(uncounted);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == ENOTSUP);
  CHECK(t->query_count(FlowHandle{9999}).error().code == ENOENT);
}

TEST_CASE("sim flow table: the rule is copied; the caller's arrays may change afterwards") {
  auto t = make_table();
  {
    auto spec = std::make_unique<rte_flow_item_ethdev>(rte_flow_item_ethdev{kVf0});
    auto out = std::make_unique<rte_flow_action_ethdev>(rte_flow_action_ethdev{kVf1});
    must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, spec.get())},
                 {action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, out.get())});
    spec->port_id = kUp;
    out->port_id = kUp;
  }
  CHECK(goes_to_wire(run(*t, kSimVf0, plain_frame()), kSimVf1));
}

TEST_CASE("sim flow table: refusals are typed like a PMD's") {
  auto t = make_table();
  SUBCASE("no transfer") {
    rte_flow_attr a = xattr();
    a.transfer = 0;
    a.ingress = 1;
    check_refused(install(*t, a, {}, {to_vf1()}), ENOTSUP, RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER,
                  "transfer");
  }
  SUBCASE("ingress on a transfer rule") {
    rte_flow_attr a = xattr();
    a.ingress = 1;
    check_refused(install(*t, a, {}, {to_vf1()}), ENOTSUP, RTE_FLOW_ERROR_TYPE_ATTR_INGRESS,
                  "ingress");
  }
  SUBCASE("unsupported item") {
    check_refused(
        install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_ETH), item(RTE_FLOW_ITEM_TYPE_GENEVE)},
                {to_vf1()}),
        ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, "sim: item type GENEVE not supported");
  }
  SUBCASE("unsupported action") {
    check_refused(install(*t, xattr(), {}, {action(RTE_FLOW_ACTION_TYPE_RSS), to_vf1()}), ENOTSUP,
                  RTE_FLOW_ERROR_TYPE_ACTION, "sim: action type RSS not supported");
  }
  SUBCASE("ranges") {
    const rte_flow_item_ipv4 lo{}, hi{};
    rte_flow_item ip = item(RTE_FLOW_ITEM_TYPE_IPV4, &lo);
    ip.last = &hi;
    check_refused(install(*t, xattr(), {ip}, {to_vf1()}), ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_LAST,
                  "IPV4");
  }
  SUBCASE("jump backwards or to the same group") {
    const rte_flow_action_jump to_g1{1}, to_g2{2};
    check_refused(install(*t, xattr(2), {}, {action(RTE_FLOW_ACTION_TYPE_JUMP, &to_g1)}), ENOTSUP,
                  RTE_FLOW_ERROR_TYPE_ACTION, "higher group");
    check_refused(install(*t, xattr(2), {}, {action(RTE_FLOW_ACTION_TYPE_JUMP, &to_g2)}), ENOTSUP,
                  RTE_FLOW_ERROR_TYPE_ACTION, "higher group");
  }
  SUBCASE("no fate") {
    check_refused(install(*t, xattr(), {}, {action(RTE_FLOW_ACTION_TYPE_COUNT)}), EINVAL,
                  RTE_FLOW_ERROR_TYPE_ACTION, "no fate");
  }
  SUBCASE("conflicting fates") {
    check_refused(install(*t, xattr(), {}, {action(RTE_FLOW_ACTION_TYPE_DROP), to_vf1()}), EINVAL,
                  RTE_FLOW_ERROR_TYPE_ACTION, "conflicts");
  }
  SUBCASE("a port that is not on this eSwitch") {
    const rte_flow_action_ethdev nowhere{31};
    check_refused(
        install(*t, xattr(), {}, {action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &nowhere)}), EINVAL,
        RTE_FLOW_ERROR_TYPE_ACTION_CONF, "port 31");
  }
  SUBCASE("mask without spec") {
    const rte_flow_item_eth mask{};
    check_refused(install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_ETH, nullptr, &mask)}, {to_vf1()}),
                  EINVAL, RTE_FLOW_ERROR_TYPE_ITEM, "mask without spec");
  }
  SUBCASE("items out of order") {
    check_refused(install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_ETH), item(RTE_FLOW_ITEM_TYPE_TCP)},
                          {to_vf1()}),
                  EINVAL, RTE_FLOW_ERROR_TYPE_ITEM, "TCP cannot follow ETH");
  }
  SUBCASE("POP without a VLAN match") {
    check_refused(install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_ETH)},
                          {action(RTE_FLOW_ACTION_TYPE_OF_POP_VLAN), to_vf1()}),
                  ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, "OF_POP_VLAN");
  }
  SUBCASE("destroy of an unknown handle") {
    auto r = t->destroy(FlowHandle{12345});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ENOENT);
    CHECK(r.error().type == RTE_FLOW_ERROR_TYPE_HANDLE);
  }
  CHECK(t->size() == 0);
}

TEST_CASE("sim flow table: capacity answers ENOSPC, validate checks without inserting") {
  FlowTableOptions opt;
  opt.capacity = 2;
  auto t = make_table(opt);
  rte_flow_item items[] = {item(RTE_FLOW_ITEM_TYPE_END)};
  rte_flow_action acts[] = {to_vf1(), action(RTE_FLOW_ACTION_TYPE_END)};
  REQUIRE(t->validate(xattr(), items, acts).ok());
  CHECK(t->size() == 0);
  must_install(*t, xattr(), {}, {to_vf1()});
  const FlowHandle second = must_install(*t, xattr(), {}, {to_vf1()});
  check_refused(install(*t, xattr(), {}, {to_vf1()}), ENOSPC, RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
                "full");
  auto v = t->validate(xattr(), items, acts);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().code == ENOSPC);
  REQUIRE(t->destroy(second).ok());
  CHECK(install(*t, xattr(), {}, {to_vf1()}).ok());
}

TEST_CASE("sim flow table: unsupported-feature knob plays a smaller NIC") {
  FlowTableOptions opt;
  opt.unsupported = {"IPV6", "of_push_vlan"};
  auto t = make_table(opt);
  check_refused(install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_IPV6)}, {to_vf1()}), ENOTSUP,
                RTE_FLOW_ERROR_TYPE_ITEM, "IPV6");
  const rte_flow_action_of_push_vlan push{rte_cpu_to_be_16(0x8100)};
  check_refused(
      install(*t, xattr(), {}, {action(RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN, &push), to_vf1()}),
      ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, "OF_PUSH_VLAN");
  CHECK(install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_IPV4)}, {to_vf1()}).ok());

  for (const char* name : {"WARP_DRIVE", "END"}) {
    FlowTableOptions bad;
    bad.unsupported = {name};
    auto r = FlowTable::make({kUp, kVf0}, bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find(std::string("'") + name + "'") != std::string::npos);
  }
}

TEST_CASE("sim flow table: ports are found by ethdev id, any id that is not listed is refused") {
  auto t = make_table();  // ethdev ids 10, 11, 12
  for (const uint16_t id :
       {uint16_t{0}, uint16_t{9}, uint16_t{13}, uint16_t{1000}, uint16_t{65535}}) {
    INFO(id);
    const rte_flow_item_ethdev from{id};
    check_refused(
        install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &from)}, {to_vf1()}),
        EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_SPEC, "not a port of this eSwitch");
    const rte_flow_action_ethdev to{id};
    check_refused(install(*t, xattr(), {}, {action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &to)}),
                  EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, "not a port of this eSwitch");
  }
  CHECK(t->size() == 0);
  must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &kFromVf1)}, {to_up()});
  CHECK(goes_to_wire(run(*t, kSimVf1, plain_frame()), kSimUp));
  CHECK(run(*t, kSimVf0, plain_frame()).kind == Verdict::Kind::miss);
}

TEST_CASE("sim flow table: a rule with more edits than a rule holds inline keeps them in order") {
  auto t = make_table();
  const rte_flow_action_of_push_vlan push{rte_cpu_to_be_16(0x8100)};
  const rte_flow_action_of_set_vlan_vid vid7{rte_cpu_to_be_16(7)}, vid42{rte_cpu_to_be_16(42)};
  const rte_flow_action_of_set_vlan_pcp pcp1{1}, pcp5{5};
  // Six edits, then two outputs: the last VID and PCP win.
  const FlowHandle h =
      must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &kFromVf0)},
                   {action(RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN, &push),
                    action(RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID, &vid7),
                    action(RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP, &pcp1),
                    action(RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID, &vid42),
                    action(RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP, &pcp5),
                    action(RTE_FLOW_ACTION_TYPE_COUNT), to_up(), to_vf1()});
  TestFrame f(plain_frame());
  const Verdict v = t->classify(kSimVf0, f.buffer());
  REQUIRE(v.kind == Verdict::Kind::forward);
  REQUIRE(v.n_out == 2);
  CHECK(v.out[0] == Destination{Destination::Kind::wire, kSimUp});
  CHECK(v.out[1] == Destination{Destination::Kind::wire, kSimVf1});
  CHECK(f.bytes() == PacketBuilder()
                         .eth(kTableMacB, kTableMacA, 0x8100)
                         .vlan(0xa000 | 42, 0x88b5)
                         .pad(46)
                         .bytes());
  CHECK(t->query_count(h).value().packets == 1);
  // Its slot, taken again by a plain rule, holds none of it.
  REQUIRE(t->destroy(h).ok());
  must_install(*t, xattr(), {item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &kFromVf0)}, {to_vf1()});
  TestFrame g(plain_frame());
  REQUIRE(goes_to_wire(t->classify(kSimVf0, g.buffer()), kSimVf1));
  CHECK(g.bytes() == plain_frame());
}

TEST_CASE(
    "sim flow table: many rules across the rule store's chunks, slots reused, stale handles "
    "refused") {
  FlowTableOptions opt;
  opt.capacity = 10000;
  auto t = make_table(opt);
  constexpr uint32_t kRules = 5000;  // chunks of 64, 64, 128 ... 4096 rules
  std::vector<rte_flow_item_ipv4> specs(kRules);
  rte_flow_item_ipv4 mask{};
  mask.hdr.dst_addr = RTE_BE32(0xffffffff);
  std::vector<FlowHandle> h(kRules);
  auto rule_for = [&](uint32_t i) {
    specs[i] = {};
    specs[i].hdr.dst_addr = rte_cpu_to_be_32(0x0a000000u + i);
    return install(*t, xattr(0, i % 3),
                   {item(RTE_FLOW_ITEM_TYPE_ETH), item(RTE_FLOW_ITEM_TYPE_IPV4, &specs[i], &mask)},
                   {action(RTE_FLOW_ACTION_TYPE_COUNT), to_vf1()});
  };
  for (uint32_t i = 0; i < kRules; ++i) {
    auto r = rule_for(i);
    REQUIRE(r.ok());
    h[i] = r.value();
  }
  CHECK(t->size() == kRules);
  std::set<uint64_t> ids;
  for (const FlowHandle& x : h) ids.insert(x.id);
  CHECK(ids.size() == kRules);
  // Each rule matches its own address only.
  for (uint32_t i : {0u, 63u, 64u, 127u, 128u, 4095u, 4999u})
    CHECK(goes_to_wire(run(*t, kSimVf0, tcp_frame(0x01010101, 0x0a000000u + i, 80)), kSimVf1));
  CHECK(run(*t, kSimVf0, tcp_frame(0x01010101, 0x0a000000u + kRules, 80)).kind ==
        Verdict::Kind::miss);
  // Every other rule goes; its handle is refused from then on, even once its slot is reused.
  for (uint32_t i = 0; i < kRules; i += 2) REQUIRE(t->destroy(h[i]).ok());
  CHECK(t->size() == kRules / 2);
  for (uint32_t i = 0; i < kRules; i += 2) {
    auto r = rule_for(i);
    REQUIRE(r.ok());
    CHECK(r.value().id != h[i].id);
    CHECK(t->query_count(h[i]).error().code == ENOENT);
    CHECK(t->destroy(h[i]).error().code == ENOENT);
    h[i] = r.value();
  }
  CHECK(t->size() == kRules);
  for (uint32_t i = 0; i < kRules; ++i) REQUIRE(t->query_count(h[i]).ok());
  CHECK(t->query_count(h[4000]).value().packets == 0);
  CHECK(goes_to_wire(run(*t, kSimVf0, tcp_frame(0x01010101, 0x0a000000u + 4000, 80)), kSimVf1));
  CHECK(t->query_count(h[4000]).value().packets == 1);
  t->clear();
  CHECK(t->size() == 0);
  CHECK(t->query_count(h[1]).error().code == ENOENT);
  CHECK(run(*t, kSimVf0, tcp_frame(0x01010101, 0x0a000001u, 80)).kind == Verdict::Kind::miss);
}
