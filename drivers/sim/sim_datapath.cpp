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

// One burst's frames for one destination: at most kBurst frames x (outputs + mirrors).
struct Stage {
  std::array<rte_mbuf*, kBurst*(kMaxOutputs + kMaxMirrors)> m{};
  uint16_t n = 0;
};

// The thread's working state, allocated once when it starts.
class Worker {
 public:
  Worker(std::vector<SimPort>& ports, FlowTable& table, VfPorts& vfs, std::mutex& mu,
         rte_mempool* pool, RxWakeup& rx_wakeup)
      : ports_(ports),
        table_(table),
        vfs_(vfs),
        mu_(mu),
        pool_(pool),
        rx_wakeup_(rx_wakeup),
        stages_(2 * ports.size()) {
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
    if (in > 0) {  // what VF in - 1's port enforces on what the VF sends
      PacketBuffer vp{start, m->data_len, rte_pktmbuf_headroom(m)};
      if (const SimCounter c = vfs_.from_vf(in - 1, vp); c != SimCounter::count_) {
        drop(m, c);
        return;
      }
      reframe(m, start, vp);
      start = vp.data;
    }
    const uint32_t orig_len = m->data_len;
    PacketBuffer pkt{start, orig_len, rte_pktmbuf_headroom(m)};
    const Verdict v = table_.classify(in, pkt);
    // The copies' heads live in the table until the next classify: copy them now.
    for (uint8_t k = 0; k < v.n_mirror; ++k) mirror(v.mirror[k], start, orig_len);
    stats_[SimCounter::drop_mirror] += v.mirrors_lost;
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

  void mirror(const Mirror& mi, const uint8_t* orig, uint32_t orig_len) {
    const uint32_t len = mirror_length(mi, orig_len);
    rte_mbuf* c = rte_pktmbuf_alloc(pool_);
    if (!c || len > rte_pktmbuf_tailroom(c)) {
      rte_pktmbuf_free(c);
      ++stats_[SimCounter::drop_mirror];
      return;
    }
    copy_mirror(mi, orig, orig_len, rte_pktmbuf_mtod(c, uint8_t*));
    c->data_len = static_cast<uint16_t>(len);
    c->pkt_len = len;
    ++stats_[SimCounter::mirror];
    stage(mi.to, c);
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
        if (sent) rx_wakeup_.notify();  // the slow path may be asleep on it
        for (unsigned k = sent; k < s.n; ++k) drop(s.m[k], SimCounter::drop_representor_full);
      }
      s.n = 0;
    }
    touched_.clear();
  }

  void to_wire(uint16_t port, rte_mbuf** m, uint16_t n) {
    if (port > 0) n = to_vf(port - 1, m, n);
    if (n == 0) return;
    const uint16_t sent = rte_eth_tx_burst(ports_[port].wire_port, 0, m, n);
    stats_[SimCounter::wire_tx] += sent;
    for (uint16_t k = sent; k < n; ++k) drop(m[k], SimCounter::drop_wire_full);
    if (port > 0) {
      std::lock_guard<std::mutex> g(mu_);
      for (uint16_t k = 0; k < n; ++k) {
        if (k < sent)
          vfs_.delivered(port - 1, notes_[k].len, notes_[k].cast);
        else
          vfs_.lost(port - 1);
      }
    }
  }

  // What VF vf's port enforces on frames for its wire: drops some, strips its port VLAN.
  // Keeps the rest at the front of m and notes what the VF counts once they are sent.
  uint16_t to_vf(int vf, rte_mbuf** m, uint16_t n) {
    uint16_t kept = 0;
    std::lock_guard<std::mutex> g(mu_);
    for (uint16_t k = 0; k < n; ++k) {
      rte_mbuf* b = m[k];
      uint8_t* start = rte_pktmbuf_mtod(b, uint8_t*);
      PacketBuffer pkt{start, b->data_len, rte_pktmbuf_headroom(b)};
      if (const SimCounter c = vfs_.to_vf(vf, pkt); c != SimCounter::count_) {
        drop(b, c);
        continue;
      }
      reframe(b, start, pkt);
      notes_[kept] = Note{pkt.len, VfPorts::cast_of(pkt.data, pkt.len)};
      m[kept++] = b;
    }
    return kept;
  }

  // The mbuf's first segment now holds pkt (which started at start).
  static void reframe(rte_mbuf* m, const uint8_t* start, const PacketBuffer& pkt) {
    const uint32_t old_len = m->data_len;
    m->data_off = static_cast<uint16_t>(m->data_off + (pkt.data - start));
    m->data_len = static_cast<uint16_t>(pkt.len);
    m->pkt_len = m->pkt_len - old_len + pkt.len;
  }

  void drop(rte_mbuf* m, SimCounter why) {
    ++stats_[why];
    rte_pktmbuf_free(m);
  }

  struct Note {
    uint32_t len;
    VfPorts::Cast cast;
  };

  std::vector<SimPort>& ports_;
  FlowTable& table_;
  VfPorts& vfs_;
  std::mutex& mu_;
  rte_mempool* pool_;
  RxWakeup& rx_wakeup_;
  std::vector<Stage> stages_;  // wires 0..n-1, then representors n..2n-1
  std::vector<uint16_t> touched_;
  std::array<rte_mbuf*, kBurst> burst_{};
  std::array<Note, kBurst*(kMaxOutputs + kMaxMirrors)> notes_{};
  SimStats stats_;
};

}  // namespace

Datapath::Datapath(SimPorts& ports, FlowTable& table, VfPorts& vfs, std::mutex& table_mu,
                   rte_mempool* pool)
    : ports_(ports), table_(table), vfs_(vfs), table_mu_(table_mu), pool_(pool) {}

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
  Worker w(ports_.ports(), table_, vfs_, table_mu_, pool_, rx_wakeup_);
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
