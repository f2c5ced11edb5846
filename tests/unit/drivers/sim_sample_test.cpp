// The sim's SAMPLE action (ratio 1, for mirroring): a copy of the frame as it is at that
// point in the rule goes to the sample's destinations while the rule goes on; copies
// survive a later drop or miss; the refusals a PMD would give.
#include <doctest/doctest.h>

#include <memory>

#include <rte_byteorder.h>

#include "drivers/sim/sim_flow_table.h"
#include "sim_packet_builder.h"
#include "sim_rule_builder.h"

using namespace vfs::drivers;
using namespace vfs::drivers::sim;
using namespace vfs::test;

namespace {

constexpr uint16_t kSampleUp = 30, kSampleVf0 = 31, kSampleVf1 = 32, kSampleVf2 = 33;
constexpr uint16_t kSampleSimUp = 0, kSampleSimVf0 = 1, kSampleSimVf1 = 2, kSampleSimVf2 = 3;
const Mac kSampleMacA = {0x02, 0, 0, 0, 0, 0x0a};
const Mac kSampleMacB = {0x02, 0, 0, 0, 0, 0x0b};

std::unique_ptr<FlowTable> make_sample_table() {
  auto t = FlowTable::make({kSampleUp, kSampleVf0, kSampleVf1, kSampleVf2}, {});
  REQUIRE(t.ok());
  return std::move(t.value());
}

// Longer than the classifier's edit window, so copies take their tail from the frame.
std::vector<uint8_t> long_frame() {
  PacketBuilder b;
  b.eth(kSampleMacB, kSampleMacA, 0x88b5);
  for (int i = 0; i < 400; ++i) b.u8(static_cast<uint8_t>(i));
  return b.bytes();
}

std::vector<uint8_t> tagged(const std::vector<uint8_t>& f, uint16_t tci) {
  std::vector<uint8_t> out(f.begin(), f.begin() + 12);
  const uint8_t tag[] = {0x81, 0x00, static_cast<uint8_t>(tci >> 8), static_cast<uint8_t>(tci)};
  out.insert(out.end(), tag, tag + 4);
  out.insert(out.end(), f.begin() + 12, f.end());
  return out;
}

const rte_flow_item_ethdev kSampleFromVf0{kSampleVf0};
const rte_flow_action_ethdev kSampleToUp{kSampleUp}, kSampleToVf1{kSampleVf1},
    kSampleToVf2{kSampleVf2}, kRepVf0{kSampleVf0};

}  // namespace

TEST_CASE("sim sample: copies are the frame as it is where SAMPLE stands in the rule") {
  auto t = make_sample_table();
  const rte_flow_action_of_push_vlan push{rte_cpu_to_be_16(0x8100)};
  const rte_flow_action_of_set_vlan_vid vid{rte_cpu_to_be_16(5)};
  SampleConf raw(1, {flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kSampleToVf1)});
  SampleConf edited(1, {flow_action(RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR, &kRepVf0),
                        flow_action(RTE_FLOW_ACTION_TYPE_VOID),
                        flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kSampleToVf2)});
  must_install_rule(*t, transfer_attr(),
                    {flow_item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &kSampleFromVf0)},
                    {flow_action(RTE_FLOW_ACTION_TYPE_SAMPLE, &raw.conf),
                     flow_action(RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN, &push),
                     flow_action(RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID, &vid),
                     flow_action(RTE_FLOW_ACTION_TYPE_SAMPLE, &edited.conf),
                     flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kSampleToUp)});
  const auto frame = long_frame();
  TestFrame f(frame);
  const uint8_t* orig = f.buffer().data;
  const uint32_t orig_len = f.buffer().len;
  const Verdict v = t->classify(kSampleSimVf0, f.buffer());

  REQUIRE(v.kind == Verdict::Kind::forward);
  REQUIRE(v.n_out == 1);
  CHECK(v.out[0] == Destination{Destination::Kind::wire, kSampleSimUp});
  CHECK(f.bytes() == tagged(frame, 5));
  REQUIRE(v.n_mirror == 3);
  CHECK(v.mirrors_lost == 0);
  CHECK(v.mirror[0].to == Destination{Destination::Kind::wire, kSampleSimVf1});
  CHECK(mirror_bytes(v.mirror[0], orig, orig_len) == frame);
  CHECK(v.mirror[1].to == Destination{Destination::Kind::representor, kSampleSimVf0});
  CHECK(mirror_bytes(v.mirror[1], orig, orig_len) == tagged(frame, 5));
  CHECK(v.mirror[2].to == Destination{Destination::Kind::wire, kSampleSimVf2});
  CHECK(mirror_bytes(v.mirror[2], orig, orig_len) == tagged(frame, 5));
}

TEST_CASE("sim sample: copies survive a later drop or a miss, which leaves the frame as it was") {
  auto t = make_sample_table();
  SampleConf spy(1, {flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kSampleToVf2)});
  const rte_flow_action_jump to_g1{1};
  const rte_flow_action_of_push_vlan push{rte_cpu_to_be_16(0x88a8)};
  must_install_rule(*t, transfer_attr(0),
                    {flow_item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &kSampleFromVf0)},
                    {flow_action(RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN, &push),
                     flow_action(RTE_FLOW_ACTION_TYPE_SAMPLE, &spy.conf),
                     flow_action(RTE_FLOW_ACTION_TYPE_JUMP, &to_g1)});
  rte_flow_item_eth dst_b{}, dst_mask{};
  std::memcpy(dst_b.hdr.dst_addr.addr_bytes, kSampleMacB.data(), 6);
  std::memset(dst_mask.hdr.dst_addr.addr_bytes, 0xff, 6);
  // Group 1 drops frames to B; anything else misses.
  must_install_rule(*t, transfer_attr(1), {flow_item(RTE_FLOW_ITEM_TYPE_ETH, &dst_b, &dst_mask)},
                    {flow_action(RTE_FLOW_ACTION_TYPE_DROP)});

  const auto to_b = long_frame();
  TestFrame f(to_b);
  const uint8_t* orig = f.buffer().data;
  const Verdict dropped = t->classify(kSampleSimVf0, f.buffer());
  CHECK(dropped.kind == Verdict::Kind::drop);
  CHECK(dropped.drop_reason == SimCounter::drop_rule);
  REQUIRE(dropped.n_mirror == 1);
  std::vector<uint8_t> qinq = tagged(to_b, 0);
  qinq[12] = 0x88, qinq[13] = 0xa8;
  CHECK(mirror_bytes(dropped.mirror[0], orig, static_cast<uint32_t>(to_b.size())) == qinq);
  CHECK(f.bytes() == to_b);

  auto to_a = long_frame();
  to_a[5] = 0x0a;
  TestFrame g(to_a);
  const Verdict missed = t->classify(kSampleSimVf0, g.buffer());
  CHECK(missed.kind == Verdict::Kind::miss);
  CHECK(missed.n_mirror == 1);
  CHECK(g.bytes() == to_a);
}

TEST_CASE("sim sample: more copies than a frame may carry are counted as lost") {
  auto t = make_sample_table();
  std::vector<rte_flow_action> eight;
  for (int i = 0; i < 8; ++i)
    eight.push_back(flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kSampleToVf1));
  SampleConf a(1, eight), b(1, eight);
  must_install_rule(*t, transfer_attr(), {},
                    {flow_action(RTE_FLOW_ACTION_TYPE_SAMPLE, &a.conf),
                     flow_action(RTE_FLOW_ACTION_TYPE_SAMPLE, &b.conf),
                     flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kSampleToUp)});
  TestFrame f(long_frame());
  const Verdict v = t->classify(kSampleSimVf0, f.buffer());
  CHECK(v.kind == Verdict::Kind::forward);
  CHECK(v.n_mirror == kMaxMirrors);
  CHECK(v.mirrors_lost == 8);
}

TEST_CASE("sim sample: refusals are typed like a PMD's") {
  auto t = make_sample_table();
  auto refuse = [&](const SampleConf& s, int code, rte_flow_error_type type,
                    const std::string& words) {
    auto r = install_rule(*t, transfer_attr(), {},
                          {flow_action(RTE_FLOW_ACTION_TYPE_SAMPLE, &s.conf),
                           flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kSampleToUp)});
    REQUIRE_FALSE(r.ok());
    check_flow_error(r.error(), code, type, words);
  };
  SUBCASE("ratio other than 1 is not supported") {
    SampleConf s(2, {flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kSampleToVf1)});
    refuse(s, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF, "ratio 2 not supported");
  }
  SUBCASE("ratio 0 is invalid") {
    SampleConf s(0, {flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kSampleToVf1)});
    refuse(s, EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, "ratio 0");
  }
  SUBCASE("only outputs in the sample list") {
    SampleConf s(1, {flow_action(RTE_FLOW_ACTION_TYPE_DROP)});
    refuse(s, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF, "DROP");
  }
  SUBCASE("a sample list without destination") {
    SampleConf s(1, {});
    refuse(s, EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, "no destination");
  }
  SUBCASE("a destination that is not on this eSwitch") {
    const rte_flow_action_ethdev nowhere{77};
    SampleConf s(1, {flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &nowhere)});
    refuse(s, EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, "port 77");
  }
  SUBCASE("SAMPLE on the unsupported list") {
    FlowTableOptions opt;
    opt.unsupported = {"SAMPLE"};
    auto small = FlowTable::make({kSampleUp, kSampleVf0}, opt);
    REQUIRE(small.ok());
    SampleConf s(1, {flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kSampleToUp)});
    auto r = install_rule(*small.value(), transfer_attr(), {},
                          {flow_action(RTE_FLOW_ACTION_TYPE_SAMPLE, &s.conf),
                           flow_action(RTE_FLOW_ACTION_TYPE_DROP)});
    REQUIRE_FALSE(r.ok());
    check_flow_error(r.error(), ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, "SAMPLE");
  }
  CHECK(t->size() == 0);
}
