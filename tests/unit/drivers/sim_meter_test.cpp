// The sim's meters (rte_mtr shape, DPDK's srTCM colouring) on a manual clock: exact
// green / yellow / red sequences and refills, per-colour stats, red frames dropped, and the
// refusals (unknown meter, meter or profile in use, bad profile, taken ids).
#include <doctest/doctest.h>

#include <memory>

#include "drivers/sim/sim_flow_backend.h"
#include "drivers/sim/sim_flow_table.h"
#include "drivers/sim/sim_meters.h"
#include "sim_packet_builder.h"
#include "sim_rule_builder.h"

using namespace vfs::drivers;
using namespace vfs::drivers::sim;
using namespace vfs::test;

namespace {

constexpr uint16_t kMeterUp = 20, kMeterVf0 = 21, kMeterVf1 = 22;
constexpr uint16_t kMeterSimVf0 = 1, kMeterSimVf1 = 2;
const Mac kMeterMacA = {0x02, 0, 0, 0, 0, 0x0a};
const Mac kMeterMacB = {0x02, 0, 0, 0, 0, 0x0b};

struct MeteredTable {
  vfs::ManualClock clock;
  std::unique_ptr<FlowTable> t;
  MeteredTable() {
    FlowTableOptions opt;
    opt.clock = &clock;
    auto r = FlowTable::make({kMeterUp, kMeterVf0, kMeterVf1}, opt);
    REQUIRE(r.ok());
    t = std::move(r.value());
  }
};

std::vector<uint8_t> frame_of(size_t len) {
  return PacketBuilder().eth(kMeterMacB, kMeterMacA, 0x88b5).pad(len - 14).bytes();
}

Verdict send(FlowTable& t, size_t len) {
  TestFrame f(frame_of(len));
  return t.classify(kMeterSimVf0, f.buffer());
}

const rte_flow_item_ethdev kMeterFromVf0{kMeterVf0};
const rte_flow_action_ethdev kMeterToVf1{kMeterVf1};

// 1 MB/s: one byte of credit per microsecond. cbs 1000 bytes, ebs 500 bytes.
constexpr MeterProfile kProfile{1'000'000, 1000, 500};

FlowHandle install_metered(FlowTable& t, uint32_t meter_id) {
  static rte_flow_action_meter conf;
  conf.mtr_id = meter_id;
  return must_install_rule(
      t, transfer_attr(), {flow_item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &kMeterFromVf0)},
      {flow_action(RTE_FLOW_ACTION_TYPE_COUNT), flow_action(RTE_FLOW_ACTION_TYPE_METER, &conf),
       flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kMeterToVf1)});
}

}  // namespace

TEST_CASE("sim meters: srTCM colours exactly by the clock; red is dropped and counted") {
  MeteredTable m;
  REQUIRE(m.t->add_meter_profile(1, kProfile).ok());
  REQUIRE(m.t->create_meter(7, 1).ok());
  const FlowHandle h = install_metered(*m.t, 7);

  // Full buckets: 1000 bytes green, then 500 bytes yellow, then red.
  for (int i = 0; i < 10; ++i) CHECK(send(*m.t, 100).kind == Verdict::Kind::forward);
  for (int i = 0; i < 5; ++i) CHECK(send(*m.t, 100).kind == Verdict::Kind::forward);
  const Verdict red = send(*m.t, 100);
  CHECK(red.kind == Verdict::Kind::drop);
  CHECK(red.drop_reason == SimCounter::drop_meter);

  auto s = m.t->meter_stats(7);
  REQUIRE(s.ok());
  CHECK(s.value() == MeterStats{10, 1000, 5, 500, 1, 100});

  // 50 us give 50 bytes: still red for 100; 50 us more make 100: green.
  m.clock.advance_ns(50'000);
  CHECK(send(*m.t, 100).kind == Verdict::Kind::drop);
  m.clock.advance_ns(50'000);
  CHECK(send(*m.t, 100).kind == Verdict::Kind::forward);
  s = m.t->meter_stats(7);
  CHECK(s.value() == MeterStats{11, 1100, 5, 500, 2, 200});

  // A long pause fills C to cbs and spills the rest into E up to ebs.
  m.clock.advance_s(10);
  for (int i = 0; i < 15; ++i) CHECK(send(*m.t, 100).kind == Verdict::Kind::forward);
  CHECK(send(*m.t, 100).kind == Verdict::Kind::drop);
  s = m.t->meter_stats(7);
  CHECK(s.value() == MeterStats{21, 2100, 10, 1000, 3, 300});

  // COUNT counts before the meter: every frame that hit the rule.
  auto c = m.t->query_count(h);
  REQUIRE(c.ok());
  CHECK(c.value().packets == 34);
}

TEST_CASE("sim meters: rates above the clock's resolution keep their average") {
  // 10 Gbit/s: more than one byte per nanosecond, so several bytes per period.
  const rte_meter_srtcm_profile p = srtcm_profile_ns(1'250'000'000, 1500, 0);
  CHECK(p.cir_bytes_per_period > 1);
  CHECK(p.cir_period >= 100);
  const double rate =
      static_cast<double>(p.cir_bytes_per_period) * 1e9 / static_cast<double>(p.cir_period);
  CHECK(rate == doctest::Approx(1.25e9).epsilon(0.001));
}

TEST_CASE("sim meters: one meter shared by two rules polices their sum") {
  MeteredTable m;
  REQUIRE(m.t->add_meter_profile(1, MeterProfile{1'000'000, 300, 0}).ok());
  REQUIRE(m.t->create_meter(1, 1).ok());
  rte_flow_action_meter conf{1};
  const rte_flow_item_ethdev from_vf1{kMeterVf1};
  const rte_flow_action_ethdev to_up{kMeterUp};
  for (const rte_flow_item_ethdev* from : {&kMeterFromVf0, &from_vf1})
    must_install_rule(*m.t, transfer_attr(), {flow_item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, from)},
                      {flow_action(RTE_FLOW_ACTION_TYPE_METER, &conf),
                       flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &to_up)});
  TestFrame a(frame_of(100)), b(frame_of(100)), c(frame_of(100)), d(frame_of(100));
  CHECK(m.t->classify(kMeterSimVf0, a.buffer()).kind == Verdict::Kind::forward);
  CHECK(m.t->classify(kMeterSimVf1, b.buffer()).kind == Verdict::Kind::forward);
  CHECK(m.t->classify(kMeterSimVf0, c.buffer()).kind == Verdict::Kind::forward);
  CHECK(m.t->classify(kMeterSimVf1, d.buffer()).kind == Verdict::Kind::drop);
}

TEST_CASE("sim meters: a red frame stops the rule: no jump, no later sample") {
  MeteredTable m;
  REQUIRE(m.t->add_meter_profile(1, MeterProfile{1'000'000, 100, 0}).ok());
  REQUIRE(m.t->create_meter(1, 1).ok());
  rte_flow_action_meter conf{1};
  const rte_flow_action_jump to_g1{1};
  const rte_flow_action_ethdev rep_vf0{kMeterVf0};
  SampleConf before(1, {flow_action(RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR, &rep_vf0)});
  SampleConf after(1, {flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kMeterToVf1)});
  must_install_rule(*m.t, transfer_attr(0), {},
                    {flow_action(RTE_FLOW_ACTION_TYPE_SAMPLE, &before.conf),
                     flow_action(RTE_FLOW_ACTION_TYPE_METER, &conf),
                     flow_action(RTE_FLOW_ACTION_TYPE_SAMPLE, &after.conf),
                     flow_action(RTE_FLOW_ACTION_TYPE_JUMP, &to_g1)});
  const FlowHandle g1 =
      must_install_rule(*m.t, transfer_attr(1), {},
                        {flow_action(RTE_FLOW_ACTION_TYPE_COUNT),
                         flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kMeterToVf1)});

  const Verdict green = send(*m.t, 100);
  CHECK(green.kind == Verdict::Kind::forward);
  CHECK(green.n_mirror == 2);
  const Verdict red = send(*m.t, 100);
  CHECK(red.kind == Verdict::Kind::drop);
  CHECK(red.drop_reason == SimCounter::drop_meter);
  REQUIRE(red.n_mirror == 1);  // the sample before the meter copied it
  CHECK(red.mirror[0].to == Destination{Destination::Kind::representor, kMeterSimVf0});
  CHECK(m.t->query_count(g1).value().packets == 1);
}

TEST_CASE("sim meters: refusals name the meter or profile") {
  MeteredTable m;
  FlowTable& t = *m.t;
  SUBCASE("a METER action naming an unknown meter is EINVAL") {
    rte_flow_action_meter conf{42};
    auto r = install_rule(t, transfer_attr(), {},
                          {flow_action(RTE_FLOW_ACTION_TYPE_METER, &conf),
                           flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &kMeterToVf1)});
    REQUIRE_FALSE(r.ok());
    check_flow_error(r.error(), EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, "no meter 42");
    const rte_flow_item items[] = {flow_item(RTE_FLOW_ITEM_TYPE_END)};
    const rte_flow_action acts[] = {flow_action(RTE_FLOW_ACTION_TYPE_METER, &conf),
                                    flow_action(RTE_FLOW_ACTION_TYPE_DROP),
                                    flow_action(RTE_FLOW_ACTION_TYPE_END)};
    CHECK(t.validate(transfer_attr(), items, acts).error().code == EINVAL);
    CHECK(t.size() == 0);
  }
  SUBCASE("a meter a rule uses is EBUSY until the rule goes") {
    REQUIRE(t.add_meter_profile(1, kProfile).ok());
    REQUIRE(t.create_meter(7, 1).ok());
    const FlowHandle h = install_metered(t, 7);
    auto busy = t.destroy_meter(7);
    REQUIRE_FALSE(busy.ok());
    CHECK(busy.error().code == EBUSY);
    CHECK(busy.error().message.find("meter 7") != std::string::npos);
    auto profile_busy = t.delete_meter_profile(1);
    REQUIRE_FALSE(profile_busy.ok());
    CHECK(profile_busy.error().code == EBUSY);
    CHECK(profile_busy.error().message.find("profile 1") != std::string::npos);
    REQUIRE(t.destroy(h).ok());
    CHECK(t.destroy_meter(7).ok());
    CHECK(t.delete_meter_profile(1).ok());
  }
  SUBCASE("ids in use, unknown ids, bad profiles") {
    REQUIRE(t.add_meter_profile(1, kProfile).ok());
    CHECK(t.add_meter_profile(1, kProfile).error().code == EEXIST);
    auto cir0 = t.add_meter_profile(2, MeterProfile{0, 100, 0});
    REQUIRE_FALSE(cir0.ok());
    CHECK(cir0.error().code == EINVAL);
    CHECK(cir0.error().message.find("profile 2") != std::string::npos);
    CHECK(t.add_meter_profile(3, MeterProfile{1000, 0, 0}).error().code == EINVAL);
    auto no_profile = t.create_meter(5, 9);
    REQUIRE_FALSE(no_profile.ok());
    CHECK(no_profile.error().code == ENOENT);
    CHECK(no_profile.error().message.find("profile 9") != std::string::npos);
    REQUIRE(t.create_meter(5, 1).ok());
    CHECK(t.create_meter(5, 1).error().code == EEXIST);
    CHECK(t.destroy_meter(6).error().code == ENOENT);
    CHECK(t.meter_stats(6).error().code == ENOENT);
    CHECK(t.delete_meter_profile(4).error().code == ENOENT);
  }
  SUBCASE("two METER actions in one rule are not supported") {
    REQUIRE(t.add_meter_profile(1, kProfile).ok());
    REQUIRE(t.create_meter(1, 1).ok());
    rte_flow_action_meter conf{1};
    auto r = install_rule(
        t, transfer_attr(), {},
        {flow_action(RTE_FLOW_ACTION_TYPE_METER, &conf),
         flow_action(RTE_FLOW_ACTION_TYPE_METER, &conf), flow_action(RTE_FLOW_ACTION_TYPE_DROP)});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ENOTSUP);
  }
}

TEST_CASE("sim meters: flush removes rules, meters and profiles; the backend face locks") {
  vfs::ManualClock clock;
  FlowTableOptions topt;
  topt.clock = &clock;
  auto made = FlowTable::make({kMeterUp, kMeterVf0, kMeterVf1}, topt);
  REQUIRE(made.ok());
  std::mutex mu;
  SimFlowBackend nic(mu, *made.value(), ESwitchOptions{});
  FlowBackend& b = nic;
  REQUIRE(b.add_meter_profile(1, kProfile).ok());
  REQUIRE(b.create_meter(3, 1).ok());
  install_metered(*made.value(), 3);
  TestFrame f(frame_of(64));
  CHECK(made.value()->classify(kMeterSimVf0, f.buffer()).kind == Verdict::Kind::forward);
  auto st = b.read_meter_stats(3);
  REQUIRE(st.ok());
  CHECK(st.value().conform_packets == 1);
  CHECK(st.value().conform_bytes == 64);
  REQUIRE(b.flush().ok());
  CHECK(made.value()->size() == 0);
  CHECK(b.read_meter_stats(3).error().code == ENOENT);
  CHECK(b.add_meter_profile(1, kProfile).ok());
}

TEST_CASE("flow backend: a NIC without meters answers ENOTSUP by default") {
  class NoMeters final : public FlowBackend {
   public:
    std::string_view name() const override { return "plain"; }
    FlowStatus validate(const rte_flow_attr&, const rte_flow_item*,
                        const rte_flow_action*) override {
      return Unit{};
    }
    FlowResult<FlowHandle> create(const rte_flow_attr&, const rte_flow_item*,
                                  const rte_flow_action*) override {
      return FlowHandle{1};
    }
    FlowStatus destroy(FlowHandle) override { return Unit{}; }
    FlowResult<FlowCounters> query_count(FlowHandle) override { return FlowCounters{}; }
    FlowStatus flush() override { return Unit{}; }
  } nic;
  auto r = nic.add_meter_profile(1, kProfile);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ENOTSUP);
  CHECK(r.error().message.find("plain") != std::string::npos);
  CHECK(nic.create_meter(1, 1).error().code == ENOTSUP);
  CHECK(nic.read_meter_stats(1).error().code == ENOTSUP);
  CHECK(check_meter_profile(4, MeterProfile{0, 1, 1}).error().code == EINVAL);
  CHECK(check_meter_profile(4, kProfile).ok());
}
