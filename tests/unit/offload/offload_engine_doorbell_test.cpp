// The offload worker's doorbell (offload/offload_engine.h, drivers/rx_wakeup.h): a learned
// MAC posted while the worker sleeps, or while it is on its way to sleep, is installed at
// once. The worker's idle wake-up is set to ten minutes, so a lost wake-up shows as a
// rule that never comes within the tests' deadlines. Nothing here calls drain() or
// resync_and_wait() after the posts: those ring the doorbell themselves.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "offload/offload_engine.h"
#include "rule_table_support.h"

using namespace vfs;
using namespace vfs::test;

namespace {

using WallClock = std::chrono::steady_clock;
constexpr auto kDeadline = std::chrono::seconds(10);
constexpr uint32_t kVm1Veth = 3;

std::shared_ptr<const offload::PolicySnapshot> one_veth_policy() {
  auto s = std::make_shared<offload::PolicySnapshot>();
  s->generation = 1;
  s->vlans.set(10);
  s->ports.resize(kVf1 + 1);
  s->ports[kUp] = offload::uplink_port_policy();
  s->ports[kVf0] = offload::access_port_policy(kVm1Veth, 10, "vEthernet3 (vm1)");
  return s;
}

struct SleepyEngine {
  SleepyEngine() {
    offload::OffloadOptions o;
    o.idle_wake_ms = 600'000;
    o.counter_poll_ns = 600'000'000'000ULL;
    engine = std::make_unique<offload::OffloadEngine>(*nic.nic, clock, channel, o);
    REQUIRE(engine->start().ok());
    channel.publish(one_veth_policy());
    REQUIRE(engine->resync_and_wait().ok());
  }
  ~SleepyEngine() { engine->stop(); }

  // Awaits the worker arming its doorbell (it goes to sleep next, or already sleeps).
  bool await_armed() const {
    const auto until = WallClock::now() + kDeadline;
    while (!engine->worker_armed())
      if (WallClock::now() > until)
        return false;
      else
        std::this_thread::yield();
    return true;
  }
  bool post(uint8_t m) {
    offload::FdbEvent ev;
    ev.entry = offload::LearnedMac{10, mac(m), kVf0};
    return engine->post(ev);
  }
  size_t rules_for(uint8_t first, uint8_t last) const {
    size_t n = 0;
    for (const auto& r : engine->rules())
      if (r.spec.match.eth_src && r.spec.group == offload::kGroupIngress)
        for (unsigned m = first; m <= last; ++m) n += *r.spec.match.eth_src == mac(uint8_t(m));
    return n;
  }
  // Awaits at least `want` ingress rules admitting the MACs first..last.
  bool await_rules(uint8_t first, uint8_t last, size_t want) const {
    const auto until = WallClock::now() + kDeadline;
    while (rules_for(first, last) < want)
      if (WallClock::now() > until)
        return false;
      else
        std::this_thread::yield();
    return true;
  }

  SimNic nic;
  MonotonicClock clock;
  offload::PolicyChannel channel;
  std::unique_ptr<offload::OffloadEngine> engine;
};

}  // namespace

TEST_CASE("a MAC posted after the offload worker armed its doorbell wakes it") {
  SleepyEngine e;
  for (uint8_t m = 1; m <= 20; ++m) {
    CAPTURE(m);
    REQUIRE(e.await_armed());
    REQUIRE(e.rules_for(m, m) == 0);
    REQUIRE(e.post(m));
    REQUIRE(e.await_rules(m, m, 1));
  }
}

TEST_CASE("MACs posted while the offload worker is on its way to sleep are not lost") {
  SleepyEngine e;
  // The second MAC of each pair follows the first by 0 to ~40 us: while the worker
  // installs the first, checks for more work, arms its doorbell, re-checks or sleeps. It
  // must be installed without any other post or ring to follow it.
  for (unsigned m = 1; m + 1 <= 240; m += 2) {
    CAPTURE(m);
    REQUIRE(e.post(uint8_t(m)));
    const auto gap = std::chrono::nanoseconds((m * 7919u) % 40'000u);
    for (auto until = WallClock::now() + gap; WallClock::now() < until;) {
    }
    REQUIRE(e.post(uint8_t(m + 1)));
    REQUIRE(e.await_rules(uint8_t(m), uint8_t(m + 1), 2));
  }
  CHECK(e.rules_for(1, 240) >= 240);
}

TEST_CASE("stop wakes a sleeping offload worker") {
  SleepyEngine e;
  REQUIRE(e.await_armed());
  const auto t0 = WallClock::now();
  e.engine->stop();
  CHECK(WallClock::now() - t0 < std::chrono::seconds(5));  // its idle wake-up is ten minutes
}
