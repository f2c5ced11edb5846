// tests/unit/slowpath/slow_path_bench.h: the slow path against real DPDK ring ethdevs
// standing for representors (uplink, vf0 and vf1 in VLAN 10, vf2 in VLAN 20), with the
// offload engine installing into the sim's rule table; for the slow path's tests. Not in
// an anonymous namespace: the ring names count instances across the binary's files.
#pragma once

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
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

namespace vfs::test {

struct RingPort {
  rte_ring* to_slowpath = nullptr;    // what the "NIC" delivers (representor rx)
  rte_ring* from_slowpath = nullptr;  // what the slow path sends (representor tx)
  uint16_t port = 0;
};

// Four representors: uplink, vf0, vf1 (VLAN 10), vf2 (VLAN 20).
struct SlowPathBench {
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

  // flow_runs: SlowPathOptions::flow_runs.
  // flow_runs, verdict_cache_entries: SlowPathOptions' (false, 0: every frame decided
  // from scratch, the reference the fast paths are held to).
  explicit SlowPathBench(bool flow_runs = true, size_t verdict_cache_entries = 4096) {
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
      r.to_slowpath = rte_ring_create((base + "rx").c_str(), 1024, SOCKET_ID_ANY,
                                      RING_F_SP_ENQ | RING_F_SC_DEQ);
      r.from_slowpath = rte_ring_create((base + "tx").c_str(), 1024, SOCKET_ID_ANY,
                                        RING_F_SP_ENQ | RING_F_SC_DEQ);
      REQUIRE(r.to_slowpath);
      REQUIRE(r.from_slowpath);
      int id =
          rte_eth_from_rings(base.c_str(), &r.to_slowpath, 1, &r.from_slowpath, 1, SOCKET_ID_ANY);
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
    so.flow_runs = flow_runs;
    so.verdict_cache_entries = verdict_cache_entries;
    slow = std::make_unique<slowpath::SlowPath>(ports, pool, policy, *engine, clock, so);
  }
  ~SlowPathBench() {
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
    s->ports[rp[0].port] = offload::uplink_port_policy();
    s->ports[rp[1].port] = offload::access_port_policy(1, 10, "vEthernet1");
    s->ports[rp[2].port] = offload::access_port_policy(2, 10, "vEthernet2");
    s->ports[rp[3].port] = offload::access_port_policy(3, 20, "vEthernet3");
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

inline std::vector<uint8_t> arp_request(const test::Mac& src) {
  return FrameBuilder()
      .eth(test::kBroadcast, src)
      .type(0x0806)
      .arp(1, src, 0x0a000001, {}, 0x0a000002)
      .done();
}

}  // namespace vfs::test
