// The offload engine's fallback end to end (worker thread, compiler, rule table, sim):
// rules the sim has no room for stay in software with its reason, and are retried into
// hardware as soon as capacity returns (another vEthernet unbound) — with no timer.
#include <doctest/doctest.h>

#include <memory>

#include "offload/offload_engine.h"
#include "rule_table_support.h"

using namespace vfs;
using namespace vfs::test;

namespace {

constexpr uint32_t kVeth1 = 3, kVeth2 = 4;

std::shared_ptr<const offload::PolicySnapshot> policy(uint64_t gen, bool vm1, bool vm2) {
  auto s = std::make_shared<offload::PolicySnapshot>();
  s->generation = gen;
  s->vlans.set(10);
  s->ports.resize(kVf1 + 1);
  s->ports[kUp] = offload::uplink_port_policy();
  if (vm1) s->ports[kVf0] = offload::access_port_policy(kVeth1, 10, "vEthernet3 (vm1)");
  if (vm2) s->ports[kVf1] = offload::access_port_policy(kVeth2, 10, "vEthernet4 (vm2)");
  return s;
}

struct Engine {
  explicit Engine(uint32_t capacity)
      : nic([&] {
          drivers::ESwitchOptions o;
          o.sim_capacity = capacity;
          return o;
        }()) {
    engine = std::make_unique<offload::OffloadEngine>(*nic.nic, clock, channel);
    REQUIRE(engine->start().ok());
  }
  ~Engine() { engine->stop(); }
  void apply(uint64_t gen, bool vm1, bool vm2) {
    channel.publish(policy(gen, vm1, vm2));
    REQUIRE(engine->resync_and_wait().ok());
  }
  void learn(uint16_t port, uint8_t m) {
    offload::FdbEvent ev;
    ev.entry = offload::LearnedMac{10, mac(m), port};
    REQUIRE(engine->post(ev));
    engine->drain();
  }
  size_t count(uint32_t veth, offload::RuleState st) const {
    size_t n = 0;
    for (const auto& r : engine->rules()) n += r.veth == veth && r.state == st;
    return n;
  }
  size_t count(uint32_t veth) const {
    size_t n = 0;
    for (const auto& r : engine->rules()) n += r.veth == veth;
    return n;
  }

  SimNic nic;
  MonotonicClock clock;
  offload::PolicyChannel channel;
  std::unique_ptr<offload::OffloadEngine> engine;
};

}  // namespace

TEST_CASE("rules refused for capacity go to hardware when another vEthernet's rules leave") {
  // What vm2 alone needs, measured on a roomy NIC.
  size_t vm2_alone = 0;
  {
    Engine roomy(1000);
    roomy.apply(1, false, true);
    roomy.learn(kVf1, 0x02);
    vm2_alone = roomy.count(kVeth2);
    REQUIRE(vm2_alone > 0);
    REQUIRE(roomy.count(kVeth2, offload::RuleState::hw) == vm2_alone);
  }

  Engine e(static_cast<uint32_t>(vm2_alone));
  e.apply(1, true, false);
  e.learn(kVf0, 0x01);
  REQUIRE(e.count(kVeth1, offload::RuleState::hw) > 0);
  e.apply(2, true, true);
  e.learn(kVf1, 0x02);
  REQUIRE(e.count(kVeth2, offload::RuleState::sw) > 0);
  bool full = false;
  for (const auto& r : e.engine->rules())
    if (r.veth == kVeth2 && r.state == offload::RuleState::sw)
      full = full || (r.nic_errno == ENOSPC && r.reason.find("full") != std::string::npos);
  CHECK(full);

  // vm1 leaves: its rules are destroyed, vm2's refused ones are retried at once.
  e.apply(3, false, true);
  CHECK(e.count(kVeth1) == 0);
  CHECK(e.count(kVeth2) == vm2_alone);
  CHECK(e.count(kVeth2, offload::RuleState::hw) == vm2_alone);
  CHECK(e.nic.table->size() == vm2_alone);
}
