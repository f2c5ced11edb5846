// The slow path against real DPDK ring ethdevs standing for representors, with the
// offload engine installing into the sim's rule table (no wires): forwarding, flooding
// within the VLAN, VLAN admission, learning -> rules, aging by a moved clock, and policy
// changes that take ports away.
#include <doctest/doctest.h>

#include <unistd.h>

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "drivers/sim/sim_flow_backend.h"
#include "frame_builder.h"
#include "offload/offload_engine.h"
#include "slowpath/eal.h"
#include "slowpath/slow_path.h"

using namespace vfs;
using test::FrameBuilder;

namespace {

constexpr uint16_t kArp = 0x0806;
const test::Mac kMacC = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0c};

struct RingPort {
  rte_ring* to_slowpath = nullptr;    // what the "NIC" delivers (representor rx)
  rte_ring* from_slowpath = nullptr;  // what the slow path sends (representor tx)
  uint16_t port = 0;
};

// Four representors: uplink, vf0, vf1 (VLAN 10), vf2 (VLAN 20).
struct Bench {
  rte_mempool* pool = nullptr;
  std::vector<RingPort> rp;
  std::vector<drivers::PortInfo> ports;
  ManualClock clock;
  offload::PolicyChannel policy;
  std::mutex nic_mu;
  std::unique_ptr<drivers::sim::FlowTable> table;
  std::unique_ptr<drivers::sim::SimFlowBackend> nic;
  std::unique_ptr<offload::OffloadEngine> engine;
  std::unique_ptr<slowpath::SlowPath> slow;
  uint64_t gen = 0;

  Bench() {
    slowpath::EalOptions eal;
    eal.file_prefix = "unit-slowpath-" + std::to_string(getpid());
    eal.memory_mb = 256;
    REQUIRE(slowpath::eal_init(eal).ok());
    auto p = slowpath::packet_pool();
    REQUIRE(p.ok());
    pool = p.value();
    static int instance = 0;
    ++instance;
    for (int i = 0; i < 4; ++i) {
      RingPort r;
      std::string base = "sp" + std::to_string(instance) + "_" + std::to_string(i);
      r.to_slowpath = rte_ring_create((base + "rx").c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      r.from_slowpath = rte_ring_create((base + "tx").c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      REQUIRE(r.to_slowpath);
      REQUIRE(r.from_slowpath);
      int id = rte_eth_from_rings(base.c_str(), &r.to_slowpath, 1, &r.from_slowpath, 1, SOCKET_ID_ANY);
      REQUIRE(id >= 0);
      r.port = static_cast<uint16_t>(id);
      rte_eth_conf conf{};
      REQUIRE(rte_eth_dev_configure(r.port, 1, 1, &conf) == 0);
      REQUIRE(rte_eth_rx_queue_setup(r.port, 0, 1024, 0, nullptr, pool) == 0);
      REQUIRE(rte_eth_tx_queue_setup(r.port, 0, 1024, 0, nullptr) == 0);
      REQUIRE(rte_eth_dev_start(r.port) == 0);
      rp.push_back(r);
      drivers::PortInfo pi;
      pi.ethdev_port = r.port;
      pi.role = i == 0 ? drivers::PortRole::uplink : drivers::PortRole::vf;
      pi.vf_index = i - 1;
      pi.name = base;
      ports.push_back(pi);
    }
    std::vector<uint16_t> ids;
    for (const auto& r : rp) ids.push_back(r.port);
    auto t = drivers::sim::FlowTable::make(ids, {});
    REQUIRE(t.ok());
    table = std::move(t.value());
    nic = std::make_unique<drivers::sim::SimFlowBackend>(nic_mu, *table, drivers::ESwitchOptions{});
    engine = std::make_unique<offload::OffloadEngine>(*nic, clock, policy);
    REQUIRE(engine->start().ok());
    publish([](offload::PolicySnapshot&) {});
    slowpath::SlowPathOptions so;
    so.mac_aging_ns = 300'000'000'000ULL;
    slow = std::make_unique<slowpath::SlowPath>(ports, pool, policy, *engine, clock, so);
  }
  ~Bench() {
    slow.reset();
    engine.reset();
    for (auto& r : rp) {
      (void)rte_eth_dev_stop(r.port);
      (void)rte_eth_dev_close(r.port);
      rte_ring_free(r.to_slowpath);
      rte_ring_free(r.from_slowpath);
    }
  }

  template <class F>
  void publish(F&& edit) {
    auto s = std::make_shared<offload::PolicySnapshot>();
    s->generation = ++gen;
    s->vlans.set(10);
    s->vlans.set(20);
    size_t maxp = 0;
    for (auto& r : rp) maxp = std::max<size_t>(maxp, r.port + 1);
    s->ports.resize(maxp);
    s->ports[rp[0].port] = {offload::PortKind::uplink, true, true, 0, 0, "uplink"};
    s->ports[rp[1].port] = {offload::PortKind::vf, true, true, 1, 10, "vEthernet1"};
    s->ports[rp[2].port] = {offload::PortKind::vf, true, true, 2, 10, "vEthernet2"};
    s->ports[rp[3].port] = {offload::PortKind::vf, true, true, 3, 20, "vEthernet3"};
    edit(*s);
    policy.publish(s);
    REQUIRE(engine->resync_and_wait().ok());
  }

  void inject(int idx, const std::vector<uint8_t>& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    REQUIRE(m);
    char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
    REQUIRE(d);
    std::copy(frame.begin(), frame.end(), d);
    REQUIRE(rte_ring_enqueue(rp[idx].to_slowpath, m) == 0);
  }

  // Everything the slow path sent on representor idx since the last call.
  std::vector<std::vector<uint8_t>> sent(int idx) {
    std::vector<std::vector<uint8_t>> out;
    void* obj;
    while (rte_ring_dequeue(rp[idx].from_slowpath, &obj) == 0) {
      auto* m = static_cast<rte_mbuf*>(obj);
      auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
      out.emplace_back(p, p + rte_pktmbuf_data_len(m));
      rte_pktmbuf_free(m);
    }
    return out;
  }

  size_t rules_of_veth(uint32_t veth) {
    engine->drain();
    size_t n = 0;
    for (const auto& r : engine->rules()) n += r.veth == veth;
    return n;
  }
  uint64_t drops(slowpath::DropReason r) {
    return slow->counters().drops[static_cast<size_t>(r)].load();
  }
};

std::vector<uint8_t> arp_request(const test::Mac& src) {
  return FrameBuilder().eth(test::kBroadcast, src).type(kArp).arp(1, src, 0x0a000001, {}, 0x0a000002).done();
}
std::vector<uint8_t> unicast(const test::Mac& dst, const test::Mac& src) {
  return FrameBuilder().eth(dst, src).type(0x0800).ipv4(17, 0x0a000001, 0x0a000002).udp(1, 2, 8).close_ipv4().done();
}
uint16_t outer_vid(const std::vector<uint8_t>& f) { return static_cast<uint16_t>(((f[14] << 8) | f[15]) & 0x0fff); }
bool is_tagged(const std::vector<uint8_t>& f) { return f.size() > 14 && f[12] == 0x81 && f[13] == 0x00; }

}  // namespace

TEST_CASE("a broadcast floods within its VLAN only, tagged toward the uplink, and teaches the NIC") {
  Bench b;
  b.inject(1, arp_request(test::kMacA));
  CHECK(b.slow->poll_once() == 1);
  auto to_vf1 = b.sent(2);
  auto to_up = b.sent(0);
  REQUIRE(to_vf1.size() == 1);
  CHECK_FALSE(is_tagged(to_vf1[0]));
  REQUIRE(to_up.size() == 1);
  REQUIRE(is_tagged(to_up[0]));
  CHECK(outer_vid(to_up[0]) == 10);
  CHECK(b.sent(3).empty());  // VLAN 20
  CHECK(b.sent(1).empty());  // never back to the source
  CHECK(b.slow->counters().flooded.load() == 1);
  CHECK(b.slow->fdb_size() == 1);
  // port rule (tagged drop) + ingress, hairpin guard and forward for MAC A
  CHECK(b.rules_of_veth(1) == 4);
  for (const auto& r : b.engine->rules()) CHECK(r.state == offload::RuleState::hw);
}

TEST_CASE("known unicast goes to one port; a MAC in another VLAN is not reachable") {
  Bench b;
  b.inject(1, arp_request(test::kMacA));  // A on vf0, VLAN 10
  b.inject(3, arp_request(kMacC));        // C on vf2, VLAN 20
  b.slow->poll_once();
  for (int i = 0; i < 4; ++i) b.sent(i);
  b.inject(2, unicast(test::kMacA, test::kMacB));
  b.slow->poll_once();
  CHECK(b.sent(1).size() == 1);
  CHECK(b.sent(0).empty());
  CHECK(b.sent(3).empty());
  // vf1 -> C: C is known only in VLAN 20, so in VLAN 10 it is unknown: flooded in VLAN 10.
  b.inject(2, unicast(kMacC, test::kMacB));
  b.slow->poll_once();
  CHECK(b.sent(3).empty());
  CHECK(b.sent(1).size() == 1);
}

TEST_CASE("frames the policy does not admit are dropped and counted by reason") {
  Bench b;
  b.inject(1, FrameBuilder().eth(test::kBroadcast, test::kMacA).tag(0x8100, 20).type(kArp)
                  .arp(1, test::kMacA, 1, {}, 2).done());  // a VM tagging on an access port
  b.inject(1, {0x01, 0x02, 0x03});                          // runt
  b.inject(0, arp_request(kMacC));                          // untagged on the uplink
  b.inject(0, FrameBuilder().eth(test::kBroadcast, kMacC).tag(0x8100, 30).type(kArp)
                  .arp(1, kMacC, 1, {}, 2).done());         // VLAN 30 does not exist
  CHECK(b.slow->poll_once() == 4);
  for (int i = 0; i < 4; ++i) CHECK(b.sent(i).empty());
  CHECK(b.drops(slowpath::DropReason::vlan) == 3);
  CHECK(b.drops(slowpath::DropReason::malformed) == 1);
  CHECK(b.slow->fdb_size() == 0);
}

TEST_CASE("the uplink's VLAN 20 reaches only VLAN 20's vEthernet, untagged") {
  Bench b;
  b.inject(0, FrameBuilder().eth(test::kBroadcast, kMacC).tag(0x8100, 20).type(kArp)
                  .arp(1, kMacC, 1, {}, 2).done());
  b.slow->poll_once();
  auto to_vf2 = b.sent(3);
  REQUIRE(to_vf2.size() == 1);
  CHECK_FALSE(is_tagged(to_vf2[0]));
  CHECK(b.sent(1).empty());
  CHECK(b.sent(2).empty());
}

TEST_CASE("an unbound VF forwards nothing (fail closed) and its MACs and rules go away") {
  Bench b;
  b.inject(1, arp_request(test::kMacA));
  b.slow->poll_once();
  REQUIRE(b.rules_of_veth(1) == 4);
  for (int i = 0; i < 4; ++i) b.sent(i);
  b.publish([&](offload::PolicySnapshot& s) { s.ports[b.rp[1].port].bound = false; });
  CHECK(b.rules_of_veth(1) == 0);
  b.inject(1, arp_request(test::kMacA));
  b.slow->poll_once();
  for (int i = 0; i < 4; ++i) CHECK(b.sent(i).empty());
  CHECK(b.drops(slowpath::DropReason::no_policy) == 1);
  CHECK(b.slow->fdb_size() == 0);
  CHECK(b.rules_of_veth(1) == 0);
}

TEST_CASE("a learned MAC ages out when neither the slow path nor the NIC sees it") {
  Bench b;
  b.inject(1, arp_request(test::kMacA));
  b.slow->poll_once();
  REQUIRE(b.rules_of_veth(1) == 4);
  b.clock.advance_s(299);
  b.slow->poll_once();
  CHECK(b.slow->fdb_size() == 1);
  b.clock.advance_s(2);
  b.slow->poll_once();
  CHECK(b.slow->fdb_size() == 0);
  CHECK(b.slow->counters().aged.load() == 1);
  CHECK(b.rules_of_veth(1) == 1);  // only the port's own rule is left
}
