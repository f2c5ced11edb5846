// The verdict cache inside the slow path (slowpath/verdict_cache.h): the frames of one
// flow after the first are decided from the cache, yet every frame still bumps its ACL
// entries' statistics, and a new policy applies from the next frame on. (Lease changes:
// slow_path_test.cpp's DHCP snooping cases send the same flow before and after the ACK.)
#include <doctest/doctest.h>

#include <unistd.h>

#include <memory>
#include <mutex>
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

// Three representors: uplink, vf0 and vf1 in VLAN 10.
struct CacheBench {
  rte_mempool* pool = nullptr;
  std::vector<rte_ring*> to_sp, from_sp;
  std::vector<uint16_t> ids;
  std::vector<drivers::PortInfo> ports;
  ManualClock clock;
  offload::PolicyChannel policy;
  std::mutex nic_mu;
  std::unique_ptr<drivers::sim::FlowTable> table;
  std::unique_ptr<drivers::sim::SimFlowBackend> nic;
  std::unique_ptr<offload::OffloadEngine> engine;
  std::unique_ptr<slowpath::SlowPath> slow;
  uint64_t gen = 0;

  CacheBench() {
    slowpath::EalOptions eal;
    eal.file_prefix = "unit-slowpath-" + std::to_string(getpid());
    eal.memory_mb = 256;
    REQUIRE(slowpath::eal_init(eal).ok());
    auto p = slowpath::packet_pool();
    REQUIRE(p.ok());
    pool = p.value();
    static int instance = 0;
    ++instance;
    for (int i = 0; i < 3; ++i) {
      const std::string base = "vcb" + std::to_string(instance) + "_" + std::to_string(i);
      rte_ring* rx = rte_ring_create((base + "rx").c_str(), 1024, SOCKET_ID_ANY,
                                     RING_F_SP_ENQ | RING_F_SC_DEQ);
      rte_ring* tx = rte_ring_create((base + "tx").c_str(), 1024, SOCKET_ID_ANY,
                                     RING_F_SP_ENQ | RING_F_SC_DEQ);
      REQUIRE(rx);
      REQUIRE(tx);
      const int id = rte_eth_from_rings(base.c_str(), &rx, 1, &tx, 1, SOCKET_ID_ANY);
      REQUIRE(id >= 0);
      const auto port = static_cast<uint16_t>(id);
      rte_eth_conf conf{};
      REQUIRE(rte_eth_dev_configure(port, 1, 1, &conf) == 0);
      REQUIRE(rte_eth_rx_queue_setup(port, 0, 1024, 0, nullptr, pool) == 0);
      REQUIRE(rte_eth_tx_queue_setup(port, 0, 1024, 0, nullptr) == 0);
      REQUIRE(rte_eth_dev_start(port) == 0);
      to_sp.push_back(rx);
      from_sp.push_back(tx);
      ids.push_back(port);
      drivers::PortInfo pi;
      pi.ethdev_port = port;
      pi.role = i == 0 ? drivers::PortRole::uplink : drivers::PortRole::vf;
      pi.vf_index = i - 1;
      pi.name = base;
      ports.push_back(pi);
    }
    auto t = drivers::sim::FlowTable::make(ids, {});
    REQUIRE(t.ok());
    table = std::move(t.value());
    nic = std::make_unique<drivers::sim::SimFlowBackend>(nic_mu, *table, drivers::ESwitchOptions{});
    engine = std::make_unique<offload::OffloadEngine>(*nic, clock, policy);
    REQUIRE(engine->start().ok());
    publish([](offload::PolicySnapshot&) {});
    slow = std::make_unique<slowpath::SlowPath>(ports, pool, policy, *engine, clock);
  }
  ~CacheBench() {
    slow.reset();
    engine.reset();
    for (size_t i = 0; i < ids.size(); ++i) {
      (void)rte_eth_dev_stop(ids[i]);
      (void)rte_eth_dev_close(ids[i]);
      rte_ring_free(to_sp[i]);
      rte_ring_free(from_sp[i]);
    }
  }

  template <class F>
  void publish(F&& edit) {
    auto s = std::make_shared<offload::PolicySnapshot>();
    s->generation = ++gen;
    s->vlans.set(10);
    size_t maxp = 0;
    for (uint16_t id : ids) maxp = std::max<size_t>(maxp, id + 1u);
    s->ports.resize(maxp);
    s->ports[ids[0]] = offload::uplink_port_policy();
    s->ports[ids[1]] = offload::access_port_policy(1, 10, "vEthernet1");
    s->ports[ids[2]] = offload::access_port_policy(2, 10, "vEthernet2");
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
    REQUIRE(rte_ring_enqueue(to_sp[static_cast<size_t>(idx)], m) == 0);
  }

  size_t sent(int idx) {
    size_t n = 0;
    void* obj;
    while (rte_ring_dequeue(from_sp[static_cast<size_t>(idx)], &obj) == 0) {
      rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
      ++n;
    }
    return n;
  }
};

// UDP A -> B, sport -> 2, with the given IPv4 ID (outside the cache key).
std::vector<uint8_t> udp(uint16_t sport, uint16_t ip_id) {
  auto f = FrameBuilder()
               .eth(test::kMacB, test::kMacA)
               .type(0x0800)
               .ipv4(17, 0x0a000001, 0x0a000002)
               .udp(sport, 2, 8)
               .close_ipv4()
               .done();
  f[18] = static_cast<uint8_t>(ip_id >> 8);
  f[19] = static_cast<uint8_t>(ip_id);
  return f;
}

vsm::ResolvedAcl udp_sport_acl(const char* name, uint16_t sport, bool permit) {
  vsm::ResolvedAcl acl;
  acl.name = name;
  acl.family = vsm::AclFamily::ipv4;
  vsm::ResolvedAce e;
  e.seq = 10;
  e.permit = permit;
  e.protocol = 17;
  e.src_port.op = vsm::PortMatch::Op::eq;
  e.src_port.lo = sport;
  acl.entries.push_back(e);
  return acl;
}

std::vector<uint8_t> arp_from(const test::Mac& src) {
  return FrameBuilder()
      .eth(test::kBroadcast, src)
      .type(0x0806)
      .arp(1, src, 0x0a000001, {}, 0x0a000002)
      .done();
}

}  // namespace

TEST_CASE("slow path: a cached flow still counts every frame per ACL entry; a new policy applies") {
  CacheBench b;
  b.publish([&](offload::PolicySnapshot& s) {
    s.ports[b.ids[1]].cfg.ip_acl_in = udp_sport_acl("in", 1, true);
    s.ports[b.ids[2]].cfg.ip_acl_out = udp_sport_acl("out", 1, true);
  });
  b.inject(1, arp_from(test::kMacA));
  b.inject(2, arp_from(test::kMacB));
  b.slow->poll_once();
  for (int i = 0; i < 3; ++i) b.sent(i);

  const auto& vc = b.slow->verdict_cache_stats();
  const uint64_t hits0 = vc.hits.load(), misses0 = vc.misses.load();
  for (uint16_t i = 0; i < 20; ++i) b.inject(1, udp(1, i));
  b.slow->poll_once();
  CHECK(b.sent(2) == 20);
  CHECK(vc.misses.load() == misses0 + 1);  // one flow
  CHECK(vc.hits.load() == hits0 + 19);
  auto counts = b.slow->acl_entries_json();
  CHECK(counts["ip:in"]["10"].get<uint64_t>() == 20);
  CHECK(counts["ip:out"]["10"].get<uint64_t>() == 20);

  // Another source port: the implicit deny, counted per frame as well.
  for (uint16_t i = 0; i < 5; ++i) b.inject(1, udp(3, i));
  b.slow->poll_once();
  CHECK(b.sent(2) == 0);
  counts = b.slow->acl_entries_json();
  CHECK(counts["ip:in"]["0"].get<uint64_t>() == 5);
  CHECK(b.slow->counters_json()["dropped"]["acl"].get<uint64_t>() == 5);

  // The cached flow meets the new policy at once: its input ACL now denies it.
  b.publish([&](offload::PolicySnapshot& s) {
    s.ports[b.ids[1]].cfg.ip_acl_in = udp_sport_acl("in2", 1, false);
    s.ports[b.ids[2]].cfg.ip_acl_out = udp_sport_acl("out", 1, true);
  });
  for (uint16_t i = 0; i < 4; ++i) b.inject(1, udp(1, static_cast<uint16_t>(100 + i)));
  b.slow->poll_once();
  CHECK(b.sent(2) == 0);
  counts = b.slow->acl_entries_json();
  CHECK(counts["ip:in2"]["10"].get<uint64_t>() == 4);
  CHECK(counts["ip:in"]["10"].get<uint64_t>() == 20);  // retired, kept
  CHECK(vc.invalidations.load() >= 2);
}
