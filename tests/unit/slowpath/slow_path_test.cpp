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

std::vector<uint8_t> arp_request(const test::Mac& src) {
  return FrameBuilder()
      .eth(test::kBroadcast, src)
      .type(kArp)
      .arp(1, src, 0x0a000001, {}, 0x0a000002)
      .done();
}
std::vector<uint8_t> unicast(const test::Mac& dst, const test::Mac& src) {
  return FrameBuilder()
      .eth(dst, src)
      .type(0x0800)
      .ipv4(17, 0x0a000001, 0x0a000002)
      .udp(1, 2, 8)
      .close_ipv4()
      .done();
}
uint16_t outer_vid(const std::vector<uint8_t>& f) {
  return static_cast<uint16_t>(((f[14] << 8) | f[15]) & 0x0fff);
}
bool is_tagged(const std::vector<uint8_t>& f) {
  return f.size() > 14 && f[12] == 0x81 && f[13] == 0x00;
}

}  // namespace

TEST_CASE(
    "a broadcast floods within its VLAN only, tagged toward the uplink, and teaches the NIC") {
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
  // port rules (tagged drop, priority tags, the empty input chain) + ingress, hairpin
  // guard and forward for MAC A
  CHECK(b.rules_of_veth(1) == 8);
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
  b.inject(1, FrameBuilder()
                  .eth(test::kBroadcast, test::kMacA)
                  .tag(0x8100, 20)
                  .type(kArp)
                  .arp(1, test::kMacA, 1, {}, 2)
                  .done());         // a VM tagging on an access port
  b.inject(1, {0x01, 0x02, 0x03});  // runt
  b.inject(0, arp_request(kMacC));  // untagged on the uplink
  b.inject(0, FrameBuilder()
                  .eth(test::kBroadcast, kMacC)
                  .tag(0x8100, 30)
                  .type(kArp)
                  .arp(1, kMacC, 1, {}, 2)
                  .done());  // VLAN 30 does not exist
  CHECK(b.slow->poll_once() == 4);
  for (int i = 0; i < 4; ++i) CHECK(b.sent(i).empty());
  CHECK(b.drops(slowpath::DropReason::vlan) == 3);
  CHECK(b.drops(slowpath::DropReason::malformed) == 1);
  CHECK(b.slow->fdb_size() == 0);
}

TEST_CASE("the uplink's VLAN 20 reaches only VLAN 20's vEthernet, untagged") {
  Bench b;
  b.inject(0, FrameBuilder()
                  .eth(test::kBroadcast, kMacC)
                  .tag(0x8100, 20)
                  .type(kArp)
                  .arp(1, kMacC, 1, {}, 2)
                  .done());
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
  REQUIRE(b.rules_of_veth(1) == 8);
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
  REQUIRE(b.rules_of_veth(1) == 8);
  b.clock.advance_s(299);
  b.slow->poll_once();
  CHECK(b.slow->fdb_size() == 1);
  b.clock.advance_s(2);
  b.slow->poll_once();
  CHECK(b.slow->fdb_size() == 0);
  CHECK(b.slow->counters().aged.load() == 1);
  CHECK(b.rules_of_veth(1) == 5);  // only the port's own rules are left
}

namespace {
// An IPv4 ACL with one entry, then the implicit deny.
vsm::ResolvedAcl one_entry_acl(const char* name, bool permit, int proto) {
  vsm::ResolvedAcl acl;
  acl.name = name;
  acl.family = vsm::AclFamily::ipv4;
  vsm::ResolvedAce e;
  e.seq = 10;
  e.permit = permit;
  e.protocol = proto;
  acl.entries.push_back(e);
  return acl;
}
std::vector<uint8_t> udp_frame(const test::Mac& dst, const test::Mac& src, uint32_t sip,
                               uint16_t sport = 1, uint16_t dport = 2) {
  return FrameBuilder()
      .eth(dst, src)
      .type(0x0800)
      .ipv4(17, sip, 0x0a000002)
      .udp(sport, dport, 8)
      .close_ipv4()
      .done();
}
}  // namespace

TEST_CASE(
    "input and output ACLs: first match decides, the implicit deny drops, entries are counted") {
  Bench b;
  b.inject(1, arp_request(test::kMacA));  // A on vf0, B on vf1: both VLAN 10
  b.inject(2, arp_request(test::kMacB));
  b.slow->poll_once();
  for (int i = 0; i < 4; ++i) b.sent(i);
  b.publish([&](offload::PolicySnapshot& s) {
    s.ports[b.rp[1].port].cfg.ip_acl_in = one_entry_acl("in", true, 17);  // UDP only
    s.ports[b.rp[2].port].cfg.ip_acl_out =
        one_entry_acl("out", false, 6);  // no TCP, then implicit deny
  });
  b.inject(1, udp_frame(test::kMacB, test::kMacA, 0x0a000001));
  b.slow->poll_once();
  CHECK(b.sent(2).empty());  // permitted in, then denied by vf1's output ACL (implicit deny)
  CHECK(b.slow->port_counters(b.rp[2].port)
            ->drops[static_cast<size_t>(slowpath::DropReason::acl)]
            .load() == 1);
  b.inject(1, FrameBuilder()
                  .eth(test::kMacB, test::kMacA)
                  .type(0x0800)
                  .ipv4(1, 1, 2)
                  .icmp(8, 0)
                  .close_ipv4()
                  .done());
  b.slow->poll_once();
  CHECK(b.slow->port_counters(b.rp[1].port)
            ->drops[static_cast<size_t>(slowpath::DropReason::acl)]
            .load() == 1);
  b.inject(1, arp_request(test::kMacA));  // not IPv4: an IP ACL does not apply
  b.slow->poll_once();
  CHECK(b.sent(2).size() == 1);
  const auto counts = b.slow->acl_entries_json();
  CHECK(counts["ip:in"]["10"].get<uint64_t>() == 1);  // the UDP frame
  CHECK(counts["ip:in"]["0"].get<uint64_t>() == 1);   // the ICMP echo
  CHECK(counts["ip:out"]["0"].get<uint64_t>() == 1);
  CHECK(counts["ip:out"]["10"].get<uint64_t>() == 0);
}

TEST_CASE(
    "port security: beyond maximum a new MAC is refused; shutdown mode err-disables the port") {
  Bench b;
  // Each publish states the whole policy.
  auto secure = [&](vsm::ViolationMode mode) {
    b.publish([&](offload::PolicySnapshot& s) {
      auto& ps = s.ports[b.rp[1].port].cfg.port_security;
      ps.enabled = true;
      ps.maximum = 1;
      ps.violation = mode;
    });
  };
  secure(vsm::ViolationMode::restrict);
  b.inject(1, arp_request(test::kMacA));
  b.inject(1, arp_request(kMacC));  // a second MAC on a port allowed one
  b.slow->poll_once();
  CHECK(b.sent(2).size() == 1);
  CHECK(b.drops(slowpath::DropReason::port_security) == 1);
  CHECK(b.slow->fdb_size() == 1);
  CHECK_FALSE(b.slow->errdisabled(b.rp[1].port));
  secure(vsm::ViolationMode::shutdown);
  b.inject(1, arp_request(kMacC));
  b.inject(1, arp_request(test::kMacA));  // even the secured MAC: the port is down
  b.slow->poll_once();
  CHECK(b.slow->errdisabled(b.rp[1].port));
  CHECK(b.sent(2).empty());
  CHECK(b.drops(slowpath::DropReason::port_security) == 3);
  CHECK(b.rules_of_veth(1) ==
        7);  // its learned MAC's rules left the NIC (port + 2 DHCP guards stay)
  // An administrative shutdown recovers it (NX-OS: shutdown / no shutdown).
  b.publish([&](offload::PolicySnapshot& s) { s.ports[b.rp[1].port].forwarding = false; });
  b.slow->poll_once();
  secure(vsm::ViolationMode::shutdown);
  b.slow->poll_once();
  CHECK_FALSE(b.slow->errdisabled(b.rp[1].port));
}

TEST_CASE("IP source guard: only bound sources pass; DHCP server replies from a VM are dropped") {
  Bench b;
  b.publish([&](offload::PolicySnapshot& s) {
    auto& cfg = s.ports[b.rp[1].port].cfg;
    cfg.ip_verify_source = true;
    vsm::SourceBinding sb;
    sb.ip = {10, 0, 0, 1};
    sb.mac = test::kMacA;
    sb.vlan = 10;
    cfg.source_bindings.push_back(sb);
  });
  b.inject(1, udp_frame(test::kBroadcast, test::kMacA, 0x0a000001));          // bound
  b.inject(1, udp_frame(test::kBroadcast, test::kMacA, 0x0a000009));          // spoofed IP
  b.inject(1, udp_frame(test::kBroadcast, kMacC, 0x0a000001));                // spoofed MAC
  b.inject(1, udp_frame(test::kBroadcast, test::kMacA, 0x0a000001, 67, 68));  // DHCP offer
  b.inject(1, FrameBuilder()
                  .eth(test::kBroadcast, test::kMacA)
                  .type(kArp)
                  .arp(1, test::kMacA, 0x0a000009, {}, 0x0a000002)
                  .done());  // ARP for a foreign IP
  b.slow->poll_once();
  CHECK(b.sent(2).size() == 1);
  CHECK(b.drops(slowpath::DropReason::ip_source_guard) == 2);
  CHECK(b.drops(slowpath::DropReason::dhcp_snooping) == 1);
  CHECK(b.drops(slowpath::DropReason::arp_nd_inspection) == 1);
}

TEST_CASE("storm control: broadcasts over the level are dropped, known unicast is not") {
  Bench b;
  b.inject(2, arp_request(test::kMacB));
  b.slow->poll_once();
  b.sent(1);
  b.publish([&](offload::PolicySnapshot& s) { s.ports[b.rp[1].port].cfg.storm.broadcast = 0; });
  b.inject(1, arp_request(test::kMacA));
  b.inject(1, unicast(test::kMacB, test::kMacA));
  b.slow->poll_once();
  CHECK(b.drops(slowpath::DropReason::storm) == 1);
  CHECK(b.sent(2).size() == 1);  // the unicast
}

TEST_CASE(
    "police: within the burst frames pass, past it they are dropped and counted as violations") {
  Bench b;
  b.inject(2, arp_request(test::kMacB));
  b.slow->poll_once();
  b.sent(1);
  b.publish([&](offload::PolicySnapshot& s) {
    vsm::ResolvedPolicer p;
    p.cir_bytes_per_s = 1000;  // refills 1 byte per ms: nothing measurable within this test
    p.cbs_bytes = 300;
    s.ports[b.rp[1].port].cfg.police_in = p;
  });
  for (int i = 0; i < 8; ++i) b.inject(1, unicast(test::kMacB, test::kMacA));  // 60-byte frames
  b.slow->poll_once();
  const auto* pc = b.slow->port_counters(b.rp[1].port);
  CHECK(pc->police_conform_packets[0].load() + pc->police_violate_packets[0].load() == 8);
  CHECK(pc->police_conform_packets[0].load() >= 4);  // 300 bytes of burst: five 60-byte frames
  CHECK(pc->police_conform_packets[0].load() <= 6);
  CHECK(b.sent(2).size() == pc->police_conform_packets[0].load());
  CHECK(b.drops(slowpath::DropReason::police) == pc->police_violate_packets[0].load());
}

TEST_CASE("SPAN: what a source sends is copied once, as sent; what it receives, as delivered") {
  Bench b;
  b.inject(2, arp_request(test::kMacB));  // B on vf1
  b.slow->poll_once();
  for (int i = 0; i < 4; ++i) b.sent(i);
  b.publish([&](offload::PolicySnapshot& s) {
    s.ports[b.rp[1].port].mirror_rx = {
        b.rp[3].port};  // vf0 rx -> vf2 (another VLAN: SPAN ignores it)
    s.ports[b.rp[2].port].mirror_tx = {b.rp[3].port};  // vf1 tx -> vf2
  });
  const auto frame = unicast(test::kMacB, test::kMacA);
  b.inject(1, frame);
  b.slow->poll_once();
  REQUIRE(b.sent(2).size() == 1);
  const auto copies = b.sent(3);
  REQUIRE(copies.size() == 2);  // vf0's rx copy and vf1's tx copy
  CHECK(copies[0] == frame);
  CHECK(copies[1] == frame);
  b.inject(1, arp_request(test::kMacA));  // flooded to vf1 and the uplink: one rx copy
  b.slow->poll_once();
  CHECK(b.sent(3).size() == 2);  // rx copy + vf1's tx copy
}
