#include "drivers/sim/sim_datapath.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "base/log.h"

namespace vfs::drivers::sim {
namespace {

constexpr uint16_t kBurst = 32;
// Idle back-off: spin briefly, then sleep 1, 2, 4 ... up to 1000 us; after about 30 ms
// without traffic, sleep 4 ms. A wake-up costs 2-20 us of CPU (bare metal to VM), so the
// deep sleep keeps an idle sim near 0.5% of a core even on a VM; the first frame after a
// quiet spell waits up to 4 ms.
constexpr unsigned kSpinPolls = 64;
constexpr unsigned kShortSleepUs = 1000;
constexpr unsigned kShortSleeps = 40;  // 10 growing sleeps (~1 ms in all), then 30 of 1 ms
constexpr unsigned kDeepSleepUs = 4000;

// One burst's frames for one destination: at most kBurst frames x kMaxOutputs copies.
struct Stage {
  std::array<rte_mbuf*, kBurst * kMaxOutputs> m{};
  uint16_t n = 0;
};

// The thread's working state, allocated once when it starts.
class Worker {
 public:
  Worker(std::vector<SimPort>& ports, FlowTable& table, std::mutex& mu, rte_mempool* pool)
      : ports_(ports), table_(table), mu_(mu), pool_(pool), stages_(2 * ports.size()) {
    touched_.reserve(stages_.size());
  }

  // One pass over every wire and representor; false if there was nothing to do.
  bool poll() {
    bool work = false;
    const uint16_t n = static_cast<uint16_t>(ports_.size());
    for (uint16_t i = 0; i < n; ++i) {
      const uint16_t got = rte_eth_rx_burst(ports_[i].wire_port, 0, burst_.data(), kBurst);
      if (got == 0) continue;
      work = true;
      stats_[SimCounter::wire_rx] += got;
      {
        std::lock_guard<std::mutex> g(mu_);
        for (uint16_t k = 0; k < got; ++k) handle(i, burst_[k]);
      }
      flush();
    }
    for (uint16_t i = 0; i < n; ++i) {
      const unsigned got = rte_ring_dequeue_burst(
          ports_[i].rep_tx, reinterpret_cast<void**>(burst_.data()), kBurst, nullptr);
      if (got == 0) continue;
      work = true;
      stats_[SimCounter::representor_tx] += got;
      to_wire(i, burst_.data(), static_cast<uint16_t>(got));
    }
    return work;
  }

  const SimStats& stats() const { return stats_; }

 private:
  void handle(uint16_t in, rte_mbuf* m) {
    // net_af_packet puts a tag the kernel stripped back into the frame but leaves the
    // RX_VLAN flags set; the frame is what travelled on the wire, nothing was stripped.
    m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED);
    m->vlan_tci = 0;
    if (!rte_pktmbuf_is_contiguous(m) && rte_pktmbuf_linearize(m) != 0) {
      drop(m, SimCounter::drop_multi_segment);
      return;
    }
    uint8_t* start = rte_pktmbuf_mtod(m, uint8_t*);
    PacketBuffer pkt{start, m->data_len, rte_pktmbuf_headroom(m)};
    const Verdict v = table_.classify(in, pkt);
    switch (v.kind) {
      case Verdict::Kind::miss:
        ++stats_[SimCounter::miss];
        stage(Destination{Destination::Kind::representor, in}, m);
        return;
      case Verdict::Kind::drop:
        drop(m, v.drop_reason);
        return;
      case Verdict::Kind::forward:
        break;
    }
    m->data_off = static_cast<uint16_t>(m->data_off + (pkt.data - start));
    m->data_len = static_cast<uint16_t>(pkt.len);
    m->pkt_len = pkt.len;
    // Copies first: sending the original may free it.
    for (uint8_t o = 1; o < v.n_out; ++o) {
      rte_mbuf* c = rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX);
      if (!c) {
        ++stats_[SimCounter::drop_copy_failed];
        continue;
      }
      stage(v.out[o], c);
    }
    if (v.n_out > 0)
      stage(v.out[0], m);
    else
      drop(m, SimCounter::drop_rule);
  }

  void stage(const Destination& d, rte_mbuf* m) {
    const size_t idx = d.kind == Destination::Kind::wire ? d.port : ports_.size() + d.port;
    Stage& s = stages_[idx];
    if (s.n == 0) touched_.push_back(static_cast<uint16_t>(idx));
    if (d.kind == Destination::Kind::representor) m->port = ports_[d.port].rep_port;
    s.m[s.n++] = m;
  }

  void flush() {
    const size_t n = ports_.size();
    for (uint16_t idx : touched_) {
      Stage& s = stages_[idx];
      if (idx < n) {
        to_wire(idx, s.m.data(), s.n);
      } else {
        rte_ring* r = ports_[idx - n].rep_rx;
        const unsigned sent =
            rte_ring_enqueue_burst(r, reinterpret_cast<void**>(s.m.data()), s.n, nullptr);
        stats_[SimCounter::to_representor] += sent;
        for (unsigned k = sent; k < s.n; ++k) drop(s.m[k], SimCounter::drop_representor_full);
      }
      s.n = 0;
    }
    touched_.clear();
  }

  void to_wire(uint16_t port, rte_mbuf** m, uint16_t n) {
    const uint16_t sent = rte_eth_tx_burst(ports_[port].wire_port, 0, m, n);
    stats_[SimCounter::wire_tx] += sent;
    for (uint16_t k = sent; k < n; ++k) drop(m[k], SimCounter::drop_wire_full);
  }

  void drop(rte_mbuf* m, SimCounter why) {
    ++stats_[why];
    rte_pktmbuf_free(m);
  }

  std::vector<SimPort>& ports_;
  FlowTable& table_;
  std::mutex& mu_;
  rte_mempool* pool_;
  std::vector<Stage> stages_;  // wires 0..n-1, then representors n..2n-1
  std::vector<uint16_t> touched_;
  std::array<rte_mbuf*, kBurst> burst_{};
  SimStats stats_;
};

}  // namespace

Datapath::Datapath(SimPorts& ports, FlowTable& table, std::mutex& table_mu, rte_mempool* pool)
    : ports_(ports), table_(table), table_mu_(table_mu), pool_(pool) {}

Datapath::~Datapath() { stop(); }

Result<void> Datapath::start() {
  if (running_.load()) return ok();
  for (const SimPort& p : ports_.ports())
    if (!p.wire_open) return make_error(EINVAL, "sim datapath: wire {} is not open", p.wire_dev);
  running_.store(true);
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    running_.store(false);
    return make_error(e.code().value(), "sim datapath: cannot start its thread: {}", e.what());
  }
  return ok();
}

void Datapath::stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();
}

SimStats Datapath::stats() const {
  SimStats s;
  for (size_t i = 0; i < s.value.size(); ++i)
    s.value[i] = counters_[i].load(std::memory_order_relaxed);
  return s;
}

void Datapath::run() {
  // An lcore id gives the thread its own mempool cache.
  const bool registered = rte_thread_register() == 0;
  if (!registered) log::warn("sim", "datapath thread has no lcore id: {}", rte_strerror(rte_errno));
  Worker w(ports_.ports(), table_, table_mu_, pool_);
  unsigned idle = 0;
  while (running_.load(std::memory_order_relaxed)) {
    if (w.poll()) {
      idle = 0;
      for (size_t i = 0; i < counters_.size(); ++i)
        counters_[i].store(w.stats().value[i], std::memory_order_relaxed);
      continue;
    }
    if (++idle <= kSpinPolls) {
      rte_pause();
      continue;
    }
    const unsigned sleeps = idle - kSpinPolls;
    const unsigned us = sleeps > kShortSleeps
                            ? kDeepSleepUs
                            : std::min(1u << std::min(sleeps - 1, 10u), kShortSleepUs);
    std::this_thread::sleep_for(std::chrono::microseconds(us));
  }
  if (registered) rte_thread_unregister();
}

}  // namespace vfs::drivers::sim
