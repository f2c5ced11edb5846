// tests/bench/ring_switch.h owns the in-process vfswitch that the first-packet and
// fallback benches drive: the parts vfswitchd composes (slowpath/daemon/vfswitchd_main.cpp)
// — the sim's rule table behind its FlowBackend (drivers/sim/sim_flow_backend.h), the
// offload worker, the slow path and ESwitchDataplane, which turns a vsm::DataplaneConfig
// into policy exactly as the daemon does — on representors that are net_ring ethdevs whose
// rings the bench chooses. There are no wires and no sim datapath thread: the bench
// plays the sim's "hardware" itself (or, with every rule refused, wires the rings so that
// what leaves one port comes back in on another). Nothing here is timed.
#pragma once

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include <array>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "drivers/forwarding_flow_backend.h"
#include "drivers/rx_wakeup.h"
#include "drivers/sim/sim_flow_backend.h"
#include "drivers/sim/sim_flow_table.h"
#include "offload/offload_engine.h"
#include "slowpath/daemon/eswitch_dataplane.h"
#include "slowpath/eal.h"
#include "slowpath/slow_path.h"

namespace vfs::bench {

inline constexpr unsigned kRingSlots = 1024;  // as net_ring's own rings and the sim's

// A ring as net_ring makes its own: single producer, single consumer, 1024 slots.
inline Result<rte_ring*> make_ring(const std::string& name) {
  rte_ring* r = rte_ring_create(name.c_str(), kRingSlots, static_cast<int>(rte_socket_id()),
                                RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (!r) return make_error(rte_errno, "ring {}: {}", name, rte_strerror(rte_errno));
  return r;
}

// A started net_ring ethdev receiving from rx and sending into tx.
inline Result<uint16_t> make_ring_port(const std::string& name, rte_ring* rx, rte_ring* tx,
                                       rte_mempool* pool) {
  const int id = rte_eth_from_rings(name.c_str(), &rx, 1, &tx, 1, rte_socket_id());
  if (id < 0) return make_error(rte_errno, "ethdev {}: {}", name, rte_strerror(rte_errno));
  const auto port = static_cast<uint16_t>(id);
  rte_eth_conf conf{};
  if (int rc = rte_eth_dev_configure(port, 1, 1, &conf); rc < 0)
    return make_error(-rc, "ethdev {}: configure: {}", name, rte_strerror(-rc));
  if (int rc = rte_eth_rx_queue_setup(port, 0, kRingSlots, 0, nullptr, pool); rc < 0)
    return make_error(-rc, "ethdev {}: rx queue: {}", name, rte_strerror(-rc));
  if (int rc = rte_eth_tx_queue_setup(port, 0, kRingSlots, 0, nullptr); rc < 0)
    return make_error(-rc, "ethdev {}: tx queue: {}", name, rte_strerror(-rc));
  if (int rc = rte_eth_dev_start(port); rc < 0)
    return make_error(-rc, "ethdev {}: start: {}", name, rte_strerror(-rc));
  return port;
}

// Told of every rule the NIC accepted, right after create() returned (so the rule is in
// the sim's table): the first-packet bench's clock for "rule active". Called on the
// offload worker's thread; must not block.
class CreateObserver {
 public:
  virtual void created(const rte_flow_item* pattern) = 0;

 protected:
  ~CreateObserver() = default;
};

// The sim's FlowBackend with a CreateObserver on create(); everything else passes through.
class ObservedFlowBackend final : public drivers::ForwardingFlowBackend {
 public:
  ObservedFlowBackend(drivers::FlowBackend& nic, CreateObserver& obs)
      : ForwardingFlowBackend(nic), obs_(obs) {}
  drivers::FlowResult<drivers::FlowHandle> create(const rte_flow_attr& a, const rte_flow_item* p,
                                                  const rte_flow_action* x) override {
    auto r = inner().create(a, p, x);
    if (r.ok()) obs_.created(p);
    return r;
  }

 private:
  CreateObserver& obs_;
};

// Representor i's rings (i = sim port: 0 uplink, 1 + k VF k), seen from the slow path.
struct RepresentorRings {
  rte_ring* rx = nullptr;  // frames that reach the slow path on this representor
  rte_ring* tx = nullptr;  // frames the slow path sends to this port
};

struct RingSwitchOptions {
  std::vector<RepresentorRings> rings;  // uplink first, then the VFs
  uint32_t sim_capacity = 65536;        // 0: the NIC refuses every rule (ENOSPC)
  bool doorbell = true;                 // the sim's RxWakeup: the slow path sleeps on it
  CreateObserver* observer = nullptr;   // told of each rule the NIC accepted
};

class RingSwitch {
 public:
  static Result<std::unique_ptr<RingSwitch>> make(const RingSwitchOptions& opt) {
    auto pool = slowpath::packet_pool();
    if (!pool.ok()) return pool.error();
    std::unique_ptr<RingSwitch> s(new RingSwitch(pool.value()));
    std::vector<uint16_t> ethdevs;
    for (size_t i = 0; i < opt.rings.size(); ++i) {
      const std::string name = i == 0 ? "bench_rep_up" : "bench_rep_vf" + std::to_string(i - 1);
      auto id = make_ring_port(name, opt.rings[i].rx, opt.rings[i].tx, s->pool_);
      if (!id.ok()) return id.error();
      drivers::PortInfo p;
      p.ethdev_port = id.value();
      p.role = i == 0 ? drivers::PortRole::uplink : drivers::PortRole::vf;
      p.vf_index = static_cast<int>(i) - 1;
      p.name = name;
      s->ports_.push_back(p);
      ethdevs.push_back(id.value());
    }
    drivers::sim::FlowTableOptions fo;
    fo.capacity = opt.sim_capacity;
    auto table = drivers::sim::FlowTable::make(ethdevs, fo);
    if (!table) return table.error();
    s->table_ = std::move(table.value());
    drivers::ESwitchOptions eo;
    eo.sim_capacity = opt.sim_capacity;
    s->backend_ = std::make_unique<drivers::sim::SimFlowBackend>(s->table_mu_, *s->table_, eo);
    drivers::FlowBackend* nic = s->backend_.get();
    if (opt.observer) {
      s->observed_ = std::make_unique<ObservedFlowBackend>(*s->backend_, *opt.observer);
      nic = s->observed_.get();
    }
    s->engine_ = std::make_unique<offload::OffloadEngine>(*nic, s->clock_, s->policy_);
    if (auto r = s->engine_->start(); !r.ok()) return r.error();
    s->slow_ = std::make_unique<slowpath::SlowPath>(s->ports_, s->pool_, s->policy_, *s->engine_,
                                                    s->clock_, slowpath::SlowPathOptions{},
                                                    opt.doorbell ? &s->wakeup_ : nullptr);
    s->dataplane_ = std::make_unique<daemon::ESwitchDataplane>(s->ports_, s->policy_, *s->engine_,
                                                               *s->slow_, nullptr, true);
    return s;
  }

  ~RingSwitch() {
    dataplane_.reset();
    if (slow_) slow_->stop();
    if (engine_) engine_->stop();
  }

  const std::vector<drivers::PortInfo>& ports() const { return ports_; }
  rte_mempool* pool() const { return pool_; }
  drivers::RxWakeup& wakeup() { return wakeup_; }
  slowpath::SlowPath& slow() { return *slow_; }
  offload::OffloadEngine& engine() { return *engine_; }
  daemon::ESwitchDataplane& dataplane() { return *dataplane_; }
  // The sim's table and the mutex its datapath holds per burst.
  drivers::sim::FlowTable& table() { return *table_; }
  std::mutex& table_mu() { return table_mu_; }

 private:
  explicit RingSwitch(rte_mempool* pool) : pool_(pool) {}

  rte_mempool* pool_;
  std::vector<drivers::PortInfo> ports_;
  std::mutex table_mu_;
  std::unique_ptr<drivers::sim::FlowTable> table_;
  std::unique_ptr<drivers::sim::SimFlowBackend> backend_;
  std::unique_ptr<ObservedFlowBackend> observed_;
  drivers::RxWakeup wakeup_;
  MonotonicClock clock_;
  offload::PolicyChannel policy_;
  std::unique_ptr<offload::OffloadEngine> engine_;
  std::unique_ptr<slowpath::SlowPath> slow_;
  std::unique_ptr<daemon::ESwitchDataplane> dataplane_;
};

// A 64-byte IPv4/UDP frame (no FCS), untagged: what dpdk-testpmd's txonly mode sends by
// default (198.18.0.1:9 -> 198.18.0.2:9), so that both sides of a comparison carry it.
inline constexpr uint32_t kFrameLen = 64;
using Mac6 = std::array<uint8_t, 6>;
inline std::array<uint8_t, kFrameLen> udp_frame(const Mac6& src, const Mac6& dst) {
  std::array<uint8_t, kFrameLen> f{};
  std::memcpy(f.data(), dst.data(), 6);
  std::memcpy(f.data() + 6, src.data(), 6);
  f[12] = 0x08;  // IPv4
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  const uint16_t ip_len = kFrameLen - 14;
  ip[2] = ip_len >> 8;
  ip[3] = ip_len & 0xff;
  ip[8] = 64;  // TTL
  ip[9] = 17;  // UDP
  const uint8_t saddr[4] = {198, 18, 0, 1}, daddr[4] = {198, 18, 0, 2};
  std::memcpy(ip + 12, saddr, 4);
  std::memcpy(ip + 16, daddr, 4);
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  const auto csum = static_cast<uint16_t>(~sum);
  ip[10] = csum >> 8;
  ip[11] = csum & 0xff;
  uint8_t* udp = ip + 20;
  udp[1] = 9;  // source port
  udp[3] = 9;  // destination port
  const uint16_t udp_len = ip_len - 20;
  udp[4] = udp_len >> 8;
  udp[5] = udp_len & 0xff;
  return f;
}

// An mbuf from pool holding frame, or nullptr when the pool is empty.
inline rte_mbuf* frame_mbuf(rte_mempool* pool, const uint8_t* frame, uint32_t len) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (!m) return nullptr;
  char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(len));
  if (!d) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memcpy(d, frame, len);
  return m;
}

// An IPv4 ACL of `entries` entries (>= 2) that the frames of udp_frame() reach only at
// entry entries - 1 (a permit), after entries of every kind of mismatch: source prefix,
// protocol, destination port. The last entry denies everything.
inline vsm::ResolvedAcl late_match_acl(const std::string& name, uint32_t entries) {
  vsm::ResolvedAcl acl;
  acl.name = name;
  acl.family = vsm::AclFamily::ipv4;
  acl.statistics_per_entry = true;
  for (uint32_t i = 0; i + 2 < entries; ++i) {
    vsm::ResolvedAce e;
    e.seq = 10 * (i + 1);
    e.permit = i % 2 == 0;
    switch (i % 3) {
      case 0:  // another source prefix
        e.protocol = 17;
        e.src.addr = {10, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 0};
        e.src.mask = {255, 255, 255, 0};
        break;
      case 1:  // another protocol
        e.protocol = 6;
        e.dst_port = {vsm::PortMatch::Op::eq, static_cast<uint16_t>(9), 0};
        break;
      default:  // another destination port
        e.protocol = 17;
        e.src.addr = {198, 18, 0, 0};
        e.src.mask = {255, 254, 0, 0};
        e.dst_port = {vsm::PortMatch::Op::eq, static_cast<uint16_t>(1000 + i), 0};
        break;
    }
    acl.entries.push_back(e);
  }
  vsm::ResolvedAce hit;
  hit.seq = 10 * (entries - 1);
  hit.permit = true;
  hit.protocol = 17;
  hit.src.addr = {198, 18, 0, 0};
  hit.src.mask = {255, 254, 0, 0};
  hit.dst_port = {vsm::PortMatch::Op::eq, 9, 0};
  acl.entries.push_back(hit);
  vsm::ResolvedAce deny;
  deny.seq = 10 * entries;
  deny.permit = false;
  acl.entries.push_back(deny);
  return acl;
}

// CPU time a thread of this or another process has run, in ns (/proc/PID/task/TID/schedstat):
// the same reading for the slow path's thread and for dpdk-testpmd's forwarding lcore.
inline uint64_t thread_cpu_ns(int pid, int tid) {
  const std::string path =
      "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/schedstat";
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return 0;
  unsigned long long ns = 0;
  if (std::fscanf(f, "%llu", &ns) != 1) ns = 0;
  std::fclose(f);
  return ns;
}

}  // namespace vfs::bench
