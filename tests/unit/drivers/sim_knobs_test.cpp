// The sim's "smaller, slower, flakier NIC" knobs as vfswitchd sets them: the text form of
// --sim-unsupported, and what the backend answers under each knob (ENOTSUP naming the
// item or action, METER refused for rte_mtr too, ENOSPC past capacity, injected failures
// with the chosen errno, insertion latency).
#include <doctest/doctest.h>

#include <chrono>
#include <mutex>

#include "drivers/eswitch.h"
#include "drivers/sim/sim_flow_backend.h"
#include "drivers/sim/sim_flow_table.h"
#include "drivers/sim/sim_knobs.h"
#include "sim_rule_builder.h"

using namespace vfs;
using namespace vfs::drivers;
using namespace vfs::test;

namespace {

constexpr uint16_t kKnobsUp = 30, kKnobsVf0 = 31, kKnobsVf1 = 32;

// The sim's rule memory with the options' knobs, behind its backend.
struct Nic {
  explicit Nic(const ESwitchOptions& o) : opt(o) {
    sim::FlowTableOptions topt;
    topt.capacity = opt.sim_capacity;
    topt.unsupported = opt.sim_unsupported;
    auto t = sim::FlowTable::make({kKnobsUp, kKnobsVf0, kKnobsVf1}, topt);
    REQUIRE(t.ok());
    table = std::move(t.value());
    backend = std::make_unique<sim::SimFlowBackend>(mu, *table, opt);
  }
  ESwitchOptions opt;
  std::mutex mu;
  std::unique_ptr<sim::FlowTable> table;
  std::unique_ptr<sim::SimFlowBackend> backend;
};

// transfer / represented_port VF0 / eth / end -> [push 0x8100 ->] represented_port VF1.
FlowResult<FlowHandle> create_forward(FlowBackend& b, bool push_vlan) {
  rte_flow_item_ethdev port{kKnobsVf0};
  rte_flow_action_ethdev out{kKnobsVf1};
  rte_flow_action_of_push_vlan push{RTE_BE16(0x8100)};
  rte_flow_action_of_set_vlan_vid vid{RTE_BE16(10)};
  std::vector<rte_flow_item> items = {flow_item(RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &port),
                                      flow_item(RTE_FLOW_ITEM_TYPE_ETH),
                                      flow_item(RTE_FLOW_ITEM_TYPE_END)};
  std::vector<rte_flow_action> acts = {flow_action(RTE_FLOW_ACTION_TYPE_COUNT)};
  if (push_vlan) {
    acts.push_back(flow_action(RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN, &push));
    acts.push_back(flow_action(RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID, &vid));
  }
  acts.push_back(flow_action(RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &out));
  acts.push_back(flow_action(RTE_FLOW_ACTION_TYPE_END));
  return b.create(transfer_attr(), items.data(), acts.data());
}

}  // namespace

TEST_CASE("--sim-unsupported takes testpmd / rte_flow names in any case") {
  auto n = sim::parse_sim_unsupported("ipv6,Meter, of_push_vlan ,sample,represented_port,ipv6");
  REQUIRE(n.ok());
  CHECK(n.value() ==
        std::vector<std::string>{"IPV6", "METER", "OF_PUSH_VLAN", "SAMPLE", "REPRESENTED_PORT"});
  auto empty = sim::parse_sim_unsupported("");
  REQUIRE(empty.ok());
  CHECK(empty.value().empty());
}

TEST_CASE("--sim-unsupported refuses unknown and empty names, naming the word") {
  auto bad = sim::parse_sim_unsupported("ipv6,ipv7,meter");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == EINVAL);
  CHECK(bad.error().message.find("'ipv7'") != std::string::npos);
  auto trailing = sim::parse_sim_unsupported("ipv6,");
  REQUIRE_FALSE(trailing.ok());
  CHECK(trailing.error().message.find("empty name") != std::string::npos);
  auto end = sim::parse_sim_unsupported("end");
  REQUIRE_FALSE(end.ok());
  CHECK(end.error().message.find("END and VOID") != std::string::npos);
}

TEST_CASE("an unsupported action is refused with ENOTSUP naming it; the rest still works") {
  ESwitchOptions opt;
  opt.sim_unsupported = sim::parse_sim_unsupported("of_push_vlan").value();
  Nic nic(opt);
  auto pushed = create_forward(*nic.backend, true);
  REQUIRE_FALSE(pushed.ok());
  check_flow_error(pushed.error(), ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, "OF_PUSH_VLAN");
  CHECK(create_forward(*nic.backend, false).ok());
  CHECK(nic.table->size() == 1);
}

TEST_CASE("a sim without METER refuses rte_mtr calls with ENOTSUP too") {
  ESwitchOptions opt;
  opt.sim_unsupported = {"meter"};
  Nic nic(opt);
  auto p = nic.backend->add_meter_profile(1, MeterProfile{1000, 1000, 0});
  REQUIRE_FALSE(p.ok());
  check_flow_error(p.error(), ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, "METER");
  CHECK_FALSE(nic.backend->create_meter(1, 1).ok());
  CHECK(nic.backend->read_meter_stats(1).error().code == ENOTSUP);

  Nic with_meters(ESwitchOptions{});
  CHECK(with_meters.backend->add_meter_profile(1, MeterProfile{1000, 1000, 0}).ok());
  CHECK(with_meters.backend->create_meter(1, 1).ok());
}

TEST_CASE(
    "past --sim-capacity the sim answers ENOSPC, and takes rules again once one is destroyed") {
  ESwitchOptions opt;
  opt.sim_capacity = 1;
  Nic nic(opt);
  auto first = create_forward(*nic.backend, false);
  REQUIRE(first.ok());
  auto second = create_forward(*nic.backend, true);
  REQUIRE_FALSE(second.ok());
  check_flow_error(second.error(), ENOSPC, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, "full");
  REQUIRE(nic.backend->destroy(first.value()).ok());
  CHECK(create_forward(*nic.backend, true).ok());

  ESwitchOptions none;
  none.sim_capacity = 0;
  Nic empty(none);
  CHECK(create_forward(*empty.backend, false).error().code == ENOSPC);
}

TEST_CASE("--sim-fail-rate refuses creates with the chosen errno and says it was injected") {
  ESwitchOptions opt;
  opt.sim_fail_rate = 1.0;
  opt.sim_fail_errno = ETIMEDOUT;
  Nic nic(opt);
  auto r = create_forward(*nic.backend, false);
  REQUIRE_FALSE(r.ok());
  check_flow_error(r.error(), ETIMEDOUT, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, "--sim-fail-rate 1");
  CHECK(nic.table->size() == 0);

  ESwitchOptions half;
  half.sim_fail_rate = 0.5;
  Nic some(half);
  int refused = 0;
  for (int i = 0; i < 200; ++i) {
    auto c = create_forward(*some.backend, false);
    if (!c.ok()) {
      CHECK(c.error().code == EBUSY);
      ++refused;
    } else {
      REQUIRE(some.backend->destroy(c.value()).ok());
    }
  }
  CHECK(refused > 50);
  CHECK(refused < 150);
}

TEST_CASE("--sim-insert-latency-us delays every create, not destroy") {
  ESwitchOptions opt;
  opt.sim_insert_latency_us = 3000;
  Nic nic(opt);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = create_forward(*nic.backend, false);
  const auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE(r.ok());
  CHECK(took >= std::chrono::microseconds(3000));
}
