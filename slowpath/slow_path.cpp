#include "slowpath/slow_path.h"

#include <poll.h>
#include <time.h>

#include <algorithm>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_lcore.h>

#include "base/log.h"
#include "slowpath/mac_address.h"
#include "slowpath/packet_parser.h"

namespace vfs::slowpath {
namespace {
constexpr uint64_t kHousekeepingNs = 250'000'000ULL;

template <class A>
void bump(A& a, uint64_t n = 1) {
  a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);  // single writer
}

offload::Mac to_mac(const uint8_t* p) {
  offload::Mac m;
  std::copy(p, p + 6, m.begin());
  return m;
}
}  // namespace

SlowPath::SlowPath(std::vector<drivers::PortInfo> ports, rte_mempool* pool,
                   const offload::PolicyChannel& policy, offload::OffloadEngine& offload,
                   const Clock& clock, SlowPathOptions opt, drivers::RxWakeup* wakeup)
    : ports_(std::move(ports)),
      pool_(pool),
      policy_ch_(policy),
      offload_(offload),
      clock_(clock),
      opt_(opt),
      policy_(policy.load()),
      fdb_(opt.fdb_capacity),
      wakeup_(wakeup && wakeup->valid() ? wakeup : nullptr) {
  for (const auto& p : ports_) max_port_ = std::max<size_t>(max_port_, p.ethdev_port + 1);
  tx_.resize(max_port_);
  port_counters_ = std::make_unique<PortCounters[]>(max_port_);
}

SlowPath::~SlowPath() { stop(); }

void SlowPath::start() {
  running_.store(true);
  thread_ = std::thread([this] { run(); });
}

const PortCounters* SlowPath::port_counters(uint16_t port) const {
  return port < max_port_ ? &port_counters_[port] : nullptr;
}

void SlowPath::run() {
  rte_thread_register();
  uint32_t sleep_us = 0;
  unsigned idle_passes = 0;
  while (running_.load(std::memory_order_relaxed)) {
    if (poll_once() > 0) {
      idle_passes = 0;
      sleep_us = 0;
      continue;
    }
    // Spin a little (latency under load), then sleep so an idle switch costs no CPU.
    if (++idle_passes < 64) continue;
    if (wakeup_) {
      wakeup_->arm();
      if (poll_once() == 0 && running_.load(std::memory_order_relaxed)) {
        pollfd p{wakeup_->fd(), POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(opt_.housekeeping_wake_ms));
      }
      wakeup_->disarm();
      continue;
    }
    sleep_us = sleep_us == 0 ? 1 : std::min(sleep_us * 2, opt_.max_idle_sleep_us);
    timespec ts{0, static_cast<long>(sleep_us) * 1000};
    nanosleep(&ts, nullptr);
  }
  rte_thread_unregister();
}

void SlowPath::stop() {
  running_.store(false);
  if (wakeup_) wakeup_->ring();
  if (thread_.joinable()) thread_.join();
}

bool SlowPath::wait_for_policy(uint64_t gen, uint64_t timeout_ms) const {
  if (!thread_.joinable()) return true;  // driven by poll_once() directly (tests)
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (loaded_gen_.load(std::memory_order_acquire) < gen) {
    if (wakeup_) wakeup_->ring();
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

void SlowPath::refresh_policy() {
  uint64_t g = policy_ch_.generation();
  if (g == policy_gen_) return;
  policy_ = policy_ch_.load();
  policy_gen_ = policy_->generation;
  // Forget what the new policy no longer admits, and say so to the offload engine.
  const auto& pol = *policy_;
  fdb_.remove_if(
      [&](uint16_t vid, const uint8_t*, uint16_t port) { return !offload::admits(pol, port, vid); },
      [&](uint16_t vid, const uint8_t* mac, uint16_t port) {
        if (!offload_.post({offload::FdbEvent::removed, {vid, to_mac(mac), port}}))
          bump(counters_.offload_ring_full);
      });
  fdb_size_.store(fdb_.size(), std::memory_order_relaxed);
  loaded_gen_.store(policy_gen_, std::memory_order_release);
}

unsigned SlowPath::poll_once() {
  refresh_policy();
  unsigned handled = 0;
  rte_mbuf* burst[kBurst];
  for (const auto& p : ports_) {
    uint16_t n = rte_eth_rx_burst(p.ethdev_port, 0, burst, kBurst);
    for (uint16_t i = 0; i < n; ++i) handle(burst[i], p.ethdev_port);
    handled += n;
  }
  if (handled) flush_tx();
  offload::MacActivity a;
  const uint64_t now = clock_.now_ns();
  while (offload_.take_activity(a)) fdb_.touch(a.vid, a.mac.data(), now);
  if (now >= next_housekeeping_ns_) {
    next_housekeeping_ns_ = now + kHousekeepingNs;
    housekeeping();
  }
  return handled;
}

void SlowPath::housekeeping() {
  size_t n = fdb_.age(clock_.now_ns(), opt_.mac_aging_ns, [&](uint16_t vid, const uint8_t* mac, uint16_t port) {
    if (!offload_.post({offload::FdbEvent::removed, {vid, to_mac(mac), port}})) bump(counters_.offload_ring_full);
  });
  if (n) bump(counters_.aged, n);
  fdb_size_.store(fdb_.size(), std::memory_order_relaxed);
}

void SlowPath::drop(rte_mbuf* m, uint16_t port, DropReason r) {
  bump(counters_.drops[static_cast<size_t>(r)]);
  if (port < max_port_) bump(port_counters_[port].drops[static_cast<size_t>(r)]);
  rte_pktmbuf_free(m);
}

void SlowPath::handle(rte_mbuf* m, uint16_t in_port) {
  bump(counters_.exception_packets);
  PortCounters& pc = port_counters_[in_port];
  bump(pc.rx_packets);
  bump(pc.rx_bytes, rte_pktmbuf_pkt_len(m));

  if (m->nb_segs != 1) return drop(m, in_port, DropReason::malformed);
  ParsedPacket pkt;
  if (parse_packet(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), &pkt) != ParseStatus::ok)
    return drop(m, in_port, DropReason::malformed);

  const offload::PortPolicy* pp = policy_->port(in_port);
  if (!pp || !pp->bound) return drop(m, in_port, DropReason::no_policy);
  if (!pp->forwarding) return drop(m, in_port, DropReason::port_disabled);

  uint16_t vid;
  bool tagged;
  if (pp->kind == offload::PortKind::vf) {
    if (pkt.vlan_count != 0) return drop(m, in_port, DropReason::vlan);
    vid = pp->access_vlan;
    tagged = false;
  } else {
    if (pkt.vlan_count != 1 || pkt.vlans[0].tpid != RTE_ETHER_TYPE_VLAN) return drop(m, in_port, DropReason::vlan);
    vid = pkt.vlans[0].vid;
    tagged = true;
  }
  if (!offload::admits(*policy_, in_port, vid)) return drop(m, in_port, DropReason::vlan);

  if (!is_multicast(pkt.src)) {
    const LearnOutcome outcome = fdb_.learn(vid, pkt.src, in_port, clock_.now_ns());
    switch (outcome) {
      case LearnOutcome::refreshed: break;
      case LearnOutcome::learned:
      case LearnOutcome::moved: {
        bump(outcome == LearnOutcome::moved ? counters_.moved : counters_.learned);
        if (!offload_.post({offload::FdbEvent::learned, {vid, to_mac(pkt.src), in_port}}))
          bump(counters_.offload_ring_full);
        fdb_size_.store(fdb_.size(), std::memory_order_relaxed);
        break;
      }
      case LearnOutcome::table_full: bump(counters_.fdb_full); break;
    }
  }

  int out = is_multicast(pkt.dst) ? -1 : fdb_.lookup(vid, pkt.dst);
  if (out < 0) return flood(m, in_port, vid, tagged);
  if (out == in_port) return drop(m, in_port, DropReason::same_port);
  bump(counters_.forwarded);
  send(m, static_cast<uint16_t>(out), vid, tagged);
}

void SlowPath::flood(rte_mbuf* m, uint16_t in_port, uint16_t vid, bool tagged) {
  bump(counters_.flooded);
  int last = -1;
  for (const auto& p : ports_) {
    if (p.ethdev_port == in_port || !offload::admits(*policy_, p.ethdev_port, vid)) continue;
    if (last >= 0) {
      rte_mbuf* c = rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX);
      if (!c) {
        drop(m, in_port, DropReason::no_buffer);
        return;
      }
      send(c, static_cast<uint16_t>(last), vid, tagged);
    }
    last = p.ethdev_port;
  }
  if (last < 0) {
    rte_pktmbuf_free(m);  // nobody else in the VLAN: not a drop, just nowhere to go
    return;
  }
  send(m, static_cast<uint16_t>(last), vid, tagged);
}

void SlowPath::send(rte_mbuf* m, uint16_t out_port, uint16_t vid, bool tagged) {
  const offload::PortPolicy* op = policy_->port(out_port);
  const bool want_tag = op && op->kind == offload::PortKind::uplink;
  if (want_tag && !tagged) {
    m->vlan_tci = vid;
    if (rte_vlan_insert(&m) != 0) return drop(m, out_port, DropReason::no_buffer);
  } else if (!want_tag && tagged) {
    if (rte_vlan_strip(m) != 0) return drop(m, out_port, DropReason::malformed);
    m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED);
  }
  TxQueue& q = tx_[out_port];
  if (q.n == q.pkts.size()) {
    flush_tx();
  }
  q.pkts[q.n++] = m;
}

void SlowPath::flush_tx() {
  for (size_t port = 0; port < tx_.size(); ++port) {
    TxQueue& q = tx_[port];
    if (q.n == 0) continue;
    uint16_t sent = rte_eth_tx_burst(static_cast<uint16_t>(port), 0, q.pkts.data(), q.n);
    PortCounters& pc = port_counters_[port];
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < sent; ++i) bytes += rte_pktmbuf_pkt_len(q.pkts[i]);
    bump(pc.tx_packets, sent);
    bump(pc.tx_bytes, bytes);
    for (uint16_t i = sent; i < q.n; ++i) drop(q.pkts[i], static_cast<uint16_t>(port), DropReason::tx_full);
    q.n = 0;
  }
}

nlohmann::json SlowPath::counters_json() const {
  auto rd = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  nlohmann::json drops = nlohmann::json::object();
  for (size_t i = 0; i < kDropReasonCount; ++i) drops[kDropReasons[i].name] = rd(counters_.drops[i]);
  nlohmann::json j = {{"exception_packets", rd(counters_.exception_packets)},
                      {"forwarded", rd(counters_.forwarded)},
                      {"flooded", rd(counters_.flooded)},
                      {"learned", rd(counters_.learned)},
                      {"moved", rd(counters_.moved)},
                      {"aged", rd(counters_.aged)},
                      {"fdb_entries", fdb_size()},
                      {"fdb_full", rd(counters_.fdb_full)},
                      {"offload_ring_full", rd(counters_.offload_ring_full)},
                      {"dropped", drops}};
  return j;
}

}  // namespace vfs::slowpath
