#include "slowpath/slow_path.h"

#include <poll.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_lcore.h>

#include "base/log.h"
#include "offload/acl_match.h"
#include "offload/frame_layout.h"
#include "offload/rule_compiler.h"
#include "slowpath/mac_address.h"
#include "slowpath/packet_parser.h"
#include "slowpath/srtcm.h"

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

size_t port_span(const std::vector<drivers::PortInfo>& ports) {
  size_t n = 0;
  for (const auto& p : ports) n = std::max<size_t>(n, p.ethdev_port + 1);
  return n;
}

bool zero_ip(const Ip4& ip) { return ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] == 0; }
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
      dhcp_table_(port_span(ports_)),
      verdict_cache_(opt.verdict_cache_entries),
      dhcp_events_(opt.dhcp_event_ring),
      wakeup_(wakeup && wakeup->valid() ? wakeup : nullptr) {
  for (const auto& p : ports_) max_port_ = std::max<size_t>(max_port_, p.ethdev_port + 1);
  tx_.resize(max_port_);
  port_counters_ = std::make_unique<PortCounters[]>(max_port_);
  acl_counters_ = std::make_unique<AclCounters[]>(max_port_);
  policers_ = std::make_unique<std::array<SoftPolicer, 2>[]>(max_port_);
  storm_ = std::make_unique<std::array<SoftPolicer, 3>[]>(max_port_);
  macs_on_port_.assign(max_port_, 0);
  errdisabled_ = std::make_unique<std::atomic<bool>[]>(max_port_);
  runs_ = std::make_unique<FlowRun[]>(max_port_);
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
    // While spinning, let whatever else is runnable on this CPU go first: the offload
    // worker, which vfswitchd places on the same CPU, has the rule for a MAC just learned
    // to install, and a spin that keeps the CPU only delays it.
    if (++idle_passes < 64) {
      sched_yield();
      continue;
    }
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
  retire_acl_counts();
  verdict_cache_.invalidate();
  policy_ = policy_ch_.load();
  policy_gen_ = policy_->generation;
  {
    std::lock_guard<std::mutex> g(acl_mu_);
    acl_policy_ = policy_;
  }
  // Forget what the new policy no longer admits, and say so to the offload engine.
  const auto& pol = *policy_;
  fdb_.remove_if(
      [&](uint16_t vid, const uint8_t*, uint16_t port) { return !offload::admits(pol, port, vid); },
      [&](uint16_t vid, const uint8_t* mac, uint16_t port) { forget(vid, mac, port); });
  for (size_t port = 0; port < max_port_; ++port) {
    const offload::PortPolicy* pp = pol.port(static_cast<uint16_t>(port));
    if (!pp || !pp->bound || !pp->forwarding || !pp->cfg.port_security.enabled)
      errdisabled_[port].store(false, std::memory_order_relaxed);
  }
  fdb_size_.store(fdb_.size(), std::memory_order_relaxed);
  clear_unsnooped_leases();
  for (size_t port = 0; port < max_port_; ++port) {
    const offload::PortPolicy* pp = pol.port(static_cast<uint16_t>(port));
    const bool live = pp && pp->bound && pp->forwarding;
    for (int dir = 0; dir < 2; ++dir) {
      const auto* want = live ? (dir == 0 ? &pp->cfg.police_in : &pp->cfg.police_out) : nullptr;
      const bool on = want && want->has_value();
      SoftPolicer& sp = policers_[port][static_cast<size_t>(dir)];
      configure(sp, on, on ? (*want)->cir_bytes_per_s : 0, on ? (*want)->cbs_bytes : 0,
                live ? pp->label + (dir == 0 ? " police input" : " police output") : "");
      // A policer the port wants but could not have (detached, not forwarding) passes
      // nothing: police() fails closed on it.
      sp.wanted = pp && (dir == 0 ? pp->cfg.police_in : pp->cfg.police_out).has_value();
    }
    // Storm levels are percentages of the port's speed (10 Gb/s when the port says none);
    // the burst is 10 ms of that rate.
    rte_eth_link link{};
    uint64_t mbps = 10000;
    if (rte_eth_link_get_nowait(static_cast<uint16_t>(port), &link) == 0 && link.link_speed > 0 &&
        link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN)
      mbps = link.link_speed;
    const double levels[3] = {live ? pp->cfg.storm.broadcast : -1,
                              live ? pp->cfg.storm.multicast : -1,
                              live ? pp->cfg.storm.unicast : -1};
    for (size_t c = 0; c < 3; ++c) {
      const bool on = levels[c] >= 0;
      const uint64_t rate =
          on ? static_cast<uint64_t>(levels[c] / 100.0 * static_cast<double>(mbps) * 125000.0) : 0;
      configure(storm_[port][c], on, rate, std::max<uint64_t>(rate / 100, 64),
                live ? pp->label + " storm-control" : "");
    }
  }
  loaded_gen_.store(policy_gen_, std::memory_order_release);
}

unsigned SlowPath::poll_once() {
  refresh_policy();
  unsigned handled = 0;
  rte_mbuf* burst[kBurst];
  // One clock reading per pass and one TSC reading per burst: the frames of a burst
  // arrived together, and a clock read per frame was a sixth of the slow path's time.
  const uint64_t now = clock_.now_ns();
  now_ns_ = now;
  for (const auto& p : ports_) {
    uint16_t n = rte_eth_rx_burst(p.ethdev_port, 0, burst, kBurst);
    if (n == 0) continue;
    burst_tsc_ = rte_rdtsc();
    // The frames of the port's run that come next (from `from` on) follow it: replayed.
    FlowRun& run = runs_[p.ethdev_port];
    auto follow_run = [&](uint16_t from) {
      uint16_t j = from;
      while (j < n && follows(run, burst[j])) ++j;
      if (j > from) replay(p.ethdev_port, burst + from, static_cast<uint16_t>(j - from));
      return j;
    };
    uint16_t i = 0;
    // The port's last run goes on into this burst: its source's learning is refreshed as
    // its leader's was.
    if (current(run, p.ethdev_port)) {
      i = follow_run(0);
      if (i > 0) fdb_.touch(run.vid, run.src, now);
    }
    while (i < n) {
      run.valid = false;
      handle(burst[i], p.ethdev_port, i + 1 < n ? burst[i + 1] : nullptr);
      i = run.valid ? follow_run(static_cast<uint16_t>(i + 1)) : static_cast<uint16_t>(i + 1);
    }
    handled += n;
  }
  if (handled) flush_tx();
  offload::MacActivity a;
  while (offload_.take_activity(a)) fdb_.touch(a.vid, a.mac.data(), now);
  if (now >= next_housekeeping_ns_) {
    next_housekeeping_ns_ = now + kHousekeepingNs;
    housekeeping();
  }
  return handled;
}

void SlowPath::housekeeping() {
  size_t n =
      fdb_.age(clock_.now_ns(), opt_.mac_aging_ns,
               [&](uint16_t vid, const uint8_t* mac, uint16_t port) { forget(vid, mac, port); });
  if (n) bump(counters_.aged, n);
  fdb_size_.store(fdb_.size(), std::memory_order_relaxed);
  const size_t expired =
      dhcp_table_.expire(clock_.now_ns(), [&](uint16_t port, const DhcpBinding& b) {
        post_unbound(DhcpBindingEvent::expired, port, b);
      });
  if (expired) {
    leases_changed();
    bump(dhcp_counters_.expired, expired);
    dhcp_size_.store(dhcp_table_.size(), std::memory_order_relaxed);
  }
}

void SlowPath::drop(rte_mbuf* m, uint16_t port, DropReason r) {
  bump(counters_.drops[static_cast<size_t>(r)]);
  if (port < max_port_) bump(port_counters_[port].drops[static_cast<size_t>(r)]);
  rte_pktmbuf_free(m);
}

void SlowPath::handle(rte_mbuf* m, uint16_t in_port, const rte_mbuf* next) {
  bump(counters_.exception_packets);
  PortCounters& pc = port_counters_[in_port];
  bump(pc.rx_packets);
  bump(pc.rx_bytes, rte_pktmbuf_pkt_len(m));

  if (m->nb_segs != 1) return drop(m, in_port, DropReason::malformed);
  const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t len = rte_pktmbuf_data_len(m);
  // Policy reads the frame as the NIC's rules do (offload/frame_layout.h), so that both
  // reach the same verdict; the parser only vets what learning relies on.
  const offload::FrameLayout l = offload::frame_layout(data, len);
  // The flow's verdicts, from the cache when an earlier frame of it was evaluated under
  // the same policy and leases (slowpath/verdict_cache.h).
  bool fresh = false;
  CachedVerdict& cv = verdict_cache_.ingress(*policy_, in_port, l, data, len, &dhcp_table_, &fresh);
  if (fresh) cv.in_counters = acl_hit_counters(in_port, cv.in);
  const offload::IngressVerdict& in = cv.in;
  const bool admitted = in.admit || in.reason == DropReason::acl;  // past VLAN admission
  for (uint8_t i = 0; i < in.n_hits; ++i)
    if (cv.in_counters[i]) bump(*cv.in_counters[i]);
  if (admitted && errdisabled(in_port)) return drop(m, in_port, DropReason::port_security);
  // The FDB answers the flow's last frame got hold while the FDB has not changed since
  // (cv.fdb_valid only for an admitted frame): its source was secured and learned here, so
  // port security would pass it again and learning would only refresh it.
  const bool fdb_known = cv.fdb_valid && cv.fdb_version == fdb_.version();
  if (fdb_known) {
    if (cv.src_learned) fdb_.touch(cv.src, now_ns_);
  } else if (admitted && !is_multicast(data + 6)) {
    const int known = fdb_.lookup(in.vid, data + 6);  // one probe for both
    if (!secure_source(in_port, in.vid, data + 6, known))
      return drop(m, in_port, DropReason::port_security);
    learn(in_port, in.vid, data + 6, known);
  }
  if (!in.admit) return drop(m, in_port, in.reason);
  snoop_dhcp(in_port, in.vid, l, data, len);  // then forwarded as any frame
  if (!police(in_port, true, rte_pktmbuf_pkt_len(m))) return drop(m, in_port, DropReason::police);

  int out = fdb_known ? cv.dst_port : is_multicast(data) ? -1 : fdb_.lookup(in.vid, data);
  if (!fdb_known && verdict_cache_.cached(cv)) remember_fdb(cv, in_port, in.vid, data, out);
  // rx SPAN copies what passed the port's input policy and goes somewhere, once, as the VM
  // sent it — where the rules copy it too (offload/rule_compiler.h, group 50 + port).
  const auto& span_rx = policy_->ports[in_port].mirror_rx;
  if (out < 0) {
    if (!storm_allows(in_port, data, len)) return drop(m, in_port, DropReason::storm);
    mirror(m, span_rx);
    return flood(m, in_port, l, in);
  }
  if (out == in_port) return drop(m, in_port, DropReason::same_port);
  mirror(m, span_rx);
  const offload::EgressVerdict& eg =
      verdict_cache_.egress(cv, *policy_, static_cast<uint16_t>(out), l, data, len, &fresh);
  if (fresh) cv.eg_counters = acl_hit_counters(static_cast<uint16_t>(out), eg);
  for (uint8_t i = 0; i < eg.n_hits; ++i)
    if (cv.eg_counters[i]) bump(*cv.eg_counters[i]);
  if (!eg.deliver) return drop(m, static_cast<uint16_t>(out), eg.reason);
  if (!police(static_cast<uint16_t>(out), false, rte_pktmbuf_pkt_len(m)))
    return drop(m, static_cast<uint16_t>(out), DropReason::police);
  bump(counters_.forwarded);
  // A run is worth its template only when the next frame looks like this one (same
  // length, MAC addresses and L4 ports: what tells flows apart), or when the burst ends
  // (the next may start with this flow). send() may retag m: the template is taken now.
  FlowRun& run = runs_[in_port];
  if (opt_.flow_runs && (!next || looks_alike(next, l, data, len)) && verdict_cache_.cached(cv) &&
      run.flow.build(l, data, len)) {
    run.valid = true;
    run.out_port = static_cast<uint16_t>(out);
    run.vid = in.vid;
    run.tagged = in.tagged;
    run.want_tag = !eg.untag;
    run.in_hits = in.n_hits;
    run.eg_hits = eg.n_hits;
    run.in_counters = cv.in_counters;
    run.eg_counters = cv.eg_counters;
    run.len = len;
    std::memcpy(run.src, data + 6, 6);
    run.policy_gen = policy_gen_;
    run.cache_epoch = verdict_cache_.epoch();
    run.fdb_version = fdb_.version();
  }
  send(m, static_cast<uint16_t>(out), in.vid, in.tagged, !eg.untag);
}

void SlowPath::remember_fdb(CachedVerdict& cv, uint16_t in_port, uint16_t vid, const uint8_t* data,
                            int out) {
  cv.src_learned = !is_multicast(data + 6);
  if (cv.src_learned) {
    const auto src = fdb_.ref(vid, data + 6);
    if (!src || src->port != in_port) return;  // not learned (a full FDB): asked again
    cv.src = *src;
  }
  cv.dst_port = out;
  cv.fdb_version = fdb_.version();
  cv.fdb_valid = true;
}

bool SlowPath::looks_alike(const rte_mbuf* next, const offload::FrameLayout& l, const uint8_t* data,
                           uint32_t len) {
  if (next->nb_segs != 1 || rte_pktmbuf_data_len(next) != len) return false;
  const uint8_t* n = rte_pktmbuf_mtod(next, const uint8_t*);
  // Word loads, not memcmp: a call per frame for 12 and 4 bytes cost more than the compare.
  auto word = [](const uint8_t* p, size_t bytes) {
    uint64_t v = 0;
    std::memcpy(&v, p, bytes);
    return v;
  };
  if ((word(n, 8) ^ word(data, 8)) | (word(n + 8, 4) ^ word(data + 8, 4))) return false;
  if (!l.l4) return true;
  // TCP/UDP ports; ICMP type and code (its checksum changes from frame to frame).
  const size_t l4 = l.ip_proto == kIpProtoTcp || l.ip_proto == kIpProtoUdp ? 4 : 2;
  return l4 == 4 ? word(n + l.l4_off, 4) == word(data + l.l4_off, 4)
                 : word(n + l.l4_off, 2) == word(data + l.l4_off, 2);
}

void SlowPath::replay(uint16_t in_port, rte_mbuf* const* pkts, uint16_t n) {
  const FlowRun& r = runs_[in_port];
  bump(counters_.exception_packets, n);
  PortCounters& pc = port_counters_[in_port];
  bump(pc.rx_packets, n);
  bump(pc.rx_bytes, uint64_t{r.len} * n);
  for (uint8_t i = 0; i < r.in_hits; ++i)
    if (r.in_counters[i]) bump(*r.in_counters[i], n);
  const uint32_t in_ok = police_run(in_port, true, r.len, n);
  for (uint32_t i = in_ok; i < n; ++i) drop(pkts[i], in_port, DropReason::police);
  for (uint8_t i = 0; i < r.eg_hits; ++i)
    if (r.eg_counters[i]) bump(*r.eg_counters[i], in_ok);
  const uint32_t out_ok = police_run(r.out_port, false, r.len, in_ok);
  bump(counters_.forwarded, out_ok);
  bump(counters_.batched, out_ok);
  const auto& span_rx = policy_->ports[in_port].mirror_rx;
  const offload::PortPolicy* op = policy_->port(r.out_port);
  if (span_rx.empty() && !r.tagged && !r.want_tag && (!op || op->mirror_tx.empty())) {
    TxQueue& q = tx_[r.out_port];
    if (q.n + out_ok > q.pkts.size()) flush_tx();  // out_ok <= kBurst: then it fits
    std::copy(pkts, pkts + out_ok, q.pkts.begin() + q.n);
    q.n = static_cast<uint16_t>(q.n + out_ok);
    q.bytes += uint64_t{r.len} * out_ok;
  } else {
    // Frame by frame, as handle() does: each frame's SPAN copies go out just before it.
    for (uint32_t i = 0; i < out_ok; ++i) {
      mirror(pkts[i], span_rx);
      send(pkts[i], r.out_port, r.vid, r.tagged, r.want_tag);
    }
    for (uint32_t i = out_ok; i < in_ok; ++i) mirror(pkts[i], span_rx);
  }
  for (uint32_t i = out_ok; i < in_ok; ++i) drop(pkts[i], r.out_port, DropReason::police);
}

void SlowPath::flood(rte_mbuf* m, uint16_t in_port, const offload::FrameLayout& l,
                     const offload::IngressVerdict& in) {
  bump(counters_.flooded);
  const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t len = rte_pktmbuf_data_len(m);
  int last = -1;
  bool last_tag = false;
  for (const auto& p : ports_) {
    if (p.ethdev_port == in_port || !offload::admits(*policy_, p.ethdev_port, in.vid)) continue;
    const offload::EgressVerdict eg =
        offload::evaluate_egress(*policy_, p.ethdev_port, in.vid, l, data, len);
    count_acl_hits(p.ethdev_port, eg);
    if (!eg.deliver) {
      bump(port_counters_[p.ethdev_port].drops[static_cast<size_t>(eg.reason)]);
      continue;
    }
    if (!police(p.ethdev_port, false, len)) {
      bump(port_counters_[p.ethdev_port].drops[static_cast<size_t>(DropReason::police)]);
      continue;
    }
    if (last >= 0) {
      rte_mbuf* c = rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX);
      if (!c) {
        drop(m, in_port, DropReason::no_buffer);
        return;
      }
      send(c, static_cast<uint16_t>(last), in.vid, in.tagged, last_tag);
    }
    last = p.ethdev_port;
    last_tag = !eg.untag;
  }
  if (last < 0) {
    rte_pktmbuf_free(m);  // nobody else in the VLAN: not a drop, just nowhere to go
    return;
  }
  send(m, static_cast<uint16_t>(last), in.vid, in.tagged, last_tag);
}

void SlowPath::forget(uint16_t vid, const uint8_t* mac, uint16_t port) {
  if (port < max_port_ && macs_on_port_[port] > 0) --macs_on_port_[port];
  if (!offload_.post({offload::FdbEvent::removed, {vid, to_mac(mac), port}}))
    bump(counters_.offload_ring_full);
}

void SlowPath::learn(uint16_t port, uint16_t vid, const uint8_t* mac, int before) {
  const LearnOutcome outcome = fdb_.learn(vid, mac, port, now_ns_);
  switch (outcome) {
    case LearnOutcome::refreshed:
      return;
    case LearnOutcome::learned:
    case LearnOutcome::moved:
      bump(outcome == LearnOutcome::moved ? counters_.moved : counters_.learned);
      if (before >= 0 && static_cast<size_t>(before) < max_port_ && macs_on_port_[before] > 0)
        --macs_on_port_[before];
      ++macs_on_port_[port];
      if (!offload_.post({offload::FdbEvent::learned, {vid, to_mac(mac), port}}))
        bump(counters_.offload_ring_full);
      fdb_size_.store(fdb_.size(), std::memory_order_relaxed);
      return;
    case LearnOutcome::table_full:
      bump(counters_.fdb_full);
      return;
  }
}

bool SlowPath::secure_source(uint16_t port, uint16_t vid, const uint8_t* mac, int known) {
  const offload::PortPolicy* pp = policy_->port(port);
  if (!pp || pp->kind != offload::PortKind::vf || !pp->cfg.port_security.enabled) return true;
  const auto& ps = pp->cfg.port_security;
  if (known == port) return true;  // already secured here
  for (const auto& s : ps.static_macs)
    if (std::equal(s.begin(), s.end(), mac)) return true;
  if (macs_on_port_[port] < ps.maximum) return true;
  // Violation. protect: drop; restrict: drop (both counted); shutdown: err-disable the
  // port, forgetting its MACs so that its rules leave the NIC too.
  if (ps.violation == vsm::ViolationMode::shutdown && !errdisabled_[port].exchange(true)) {
    log::warn("slowpath", "{}: port-security violation by {} in VLAN {}: err-disabled", pp->label,
              offload::mac_str(to_mac(mac)), vid);
    fdb_.remove_port(port, [&](uint16_t v, const uint8_t* m, uint16_t p) { forget(v, m, p); });
    fdb_size_.store(fdb_.size(), std::memory_order_relaxed);
  }
  return false;
}

void SlowPath::snoop_dhcp(uint16_t in_port, uint16_t vid, const offload::FrameLayout& l,
                          const uint8_t* data, uint32_t len) {
  if (!l.ip || l.v6 || !l.l4 || l.ip_proto != 17) return;
  const uint16_t sport = offload::be16(data + l.l4_off);
  const uint16_t dport = offload::be16(data + l.l4_off + 2);
  auto dhcp = [](uint16_t port) { return port == kDhcpServerPort || port == kDhcpClientPort; };
  if (!dhcp(sport) || !dhcp(dport)) return;  // most frames: before the policy lookup
  const offload::PortPolicy* pp = policy_->port(in_port);
  const bool trusted = pp->kind == offload::PortKind::uplink;
  if (trusted ? (sport != kDhcpServerPort || dport != kDhcpClientPort)
              : (sport != kDhcpClientPort || dport != kDhcpServerPort ||
                 !offload::snoops_dhcp(pp->cfg)))
    return;
  bump(trusted ? dhcp_counters_.server_messages : dhcp_counters_.client_messages);
  const uint8_t* payload = nullptr;
  size_t plen = 0;
  bool bad = false;
  DhcpMessage msg;
  if (!dhcp_payload(data, len, l.l3_off, sport, dport, &payload, &plen, &bad) ||
      parse_dhcp(payload, plen, &msg) != DhcpParse::ok) {
    bump(dhcp_counters_.malformed);
    return;
  }
  if (trusted)
    snoop_server(msg, vid);
  else
    snoop_client(msg, in_port, vid, data + 6);
}

void SlowPath::snoop_server(const DhcpMessage& msg, uint16_t vid) {
  if (msg.type != DhcpType::ack && msg.type != DhcpType::nak) return;
  bump(msg.type == DhcpType::ack ? dhcp_counters_.acks : dhcp_counters_.naks);
  // The client's vEthernet: where its MAC was learned in the VLAN (its DHCPREQUEST came
  // through here, the rules send every client message to the slow path).
  const int port = fdb_.lookup(vid, msg.chaddr.data());
  const offload::PortPolicy* pp = port >= 0 ? policy_->port(static_cast<uint16_t>(port)) : nullptr;
  if (!pp || pp->kind != offload::PortKind::vf || !pp->bound || !offload::snoops_dhcp(pp->cfg) ||
      !offload::admits(*policy_, static_cast<uint16_t>(port), vid)) {
    bump(dhcp_counters_.unknown_client);
    return;
  }
  const auto p = static_cast<uint16_t>(port);
  if (msg.type == DhcpType::nak) {
    DhcpBinding gone;
    if (dhcp_table_.unbind(p, vid, msg.chaddr, nullptr, &gone)) {
      bump(dhcp_counters_.unbound);
      leases_changed();
    }
    DhcpBindingEvent ev;
    ev.kind = DhcpBindingEvent::unbound;
    ev.cause = DhcpBindingEvent::nak;
    ev.veth = pp->veth;
    ev.port = p;
    ev.vid = vid;
    ev.mac = msg.chaddr;
    ev.any_ip = true;  // a restarted daemon may know the lease only from its control plane
    post_dhcp(ev);
    dhcp_size_.store(dhcp_table_.size(), std::memory_order_relaxed);
    return;
  }
  if (zero_ip(msg.yiaddr) || !msg.has_lease) {  // an ACK to DHCPINFORM binds nothing
    if (!msg.has_lease && !zero_ip(msg.yiaddr)) bump(dhcp_counters_.malformed);
    return;
  }
  DhcpBinding old;
  const auto outcome = dhcp_table_.bind(p, pp->veth, vid, msg.chaddr, msg.yiaddr, msg.lease_s,
                                        clock_.now_ns(), &old);
  leases_changed();
  if (outcome == DhcpBindingTable::BindOutcome::full ||
      outcome == DhcpBindingTable::BindOutcome::bad_port) {
    bump(dhcp_counters_.table_full);
    return;
  }
  if (outcome == DhcpBindingTable::BindOutcome::replaced)
    post_unbound(DhcpBindingEvent::replaced, p, old);
  DhcpBindingEvent ev;
  ev.kind = DhcpBindingEvent::bound;
  ev.cause = DhcpBindingEvent::ack;
  ev.veth = pp->veth;
  ev.port = p;
  ev.vid = vid;
  ev.mac = msg.chaddr;
  ev.ip = msg.yiaddr;
  ev.lease_s = msg.lease_s;
  if (!post_dhcp(ev)) {
    // The control plane would never hear of it: the hardware would keep dropping what
    // the slow path admits. Refuse the lease instead; the client asks again at renewal.
    dhcp_table_.unbind(p, vid, msg.chaddr, &msg.yiaddr, nullptr);
  } else if (outcome != DhcpBindingTable::BindOutcome::refreshed) {
    bump(dhcp_counters_.bound);
  }
  dhcp_size_.store(dhcp_table_.size(), std::memory_order_relaxed);
}

void SlowPath::snoop_client(const DhcpMessage& msg, uint16_t port, uint16_t vid,
                            const uint8_t* src) {
  if (msg.type != DhcpType::release && msg.type != DhcpType::decline) return;
  if (!std::equal(msg.chaddr.begin(), msg.chaddr.end(), src)) {
    bump(dhcp_counters_.chaddr_mismatch);  // NX-OS "MAC address verification"
    return;
  }
  const bool release = msg.type == DhcpType::release;
  bump(release ? dhcp_counters_.releases : dhcp_counters_.declines);
  const Ip4 ip = release || !msg.has_requested_ip ? msg.ciaddr : msg.requested_ip;
  if (zero_ip(ip)) {
    bump(dhcp_counters_.malformed);
    return;
  }
  if (dhcp_table_.unbind(port, vid, msg.chaddr, &ip, nullptr)) {
    bump(dhcp_counters_.unbound);
    leases_changed();
  }
  DhcpBindingEvent ev;
  ev.kind = DhcpBindingEvent::unbound;
  ev.cause = release ? DhcpBindingEvent::release : DhcpBindingEvent::decline;
  ev.veth = policy_->ports[port].veth;
  ev.port = port;
  ev.vid = vid;
  ev.mac = msg.chaddr;
  ev.ip = ip;
  post_dhcp(ev);
  dhcp_size_.store(dhcp_table_.size(), std::memory_order_relaxed);
}

bool SlowPath::post_dhcp(const DhcpBindingEvent& ev) {
  if (dhcp_events_.push(ev)) return true;
  bump(dhcp_counters_.event_ring_full);
  return false;
}

void SlowPath::post_unbound(DhcpBindingEvent::Cause cause, uint16_t port, const DhcpBinding& b) {
  DhcpBindingEvent ev;
  ev.kind = DhcpBindingEvent::unbound;
  ev.cause = cause;
  ev.veth = b.veth;
  ev.port = port;
  ev.vid = b.vid;
  ev.mac = b.mac;
  ev.ip = b.ip;
  post_dhcp(ev);
}

// Detach, or a profile without port security and `ip verify source`, ends the port's
// leases (the control plane drops them from its bindings too).
void SlowPath::clear_unsnooped_leases() {
  if (dhcp_table_.size() == 0) return;
  for (size_t port = 0; port < max_port_; ++port) {
    const auto p = static_cast<uint16_t>(port);
    const offload::PortPolicy* pp = policy_->port(p);
    const bool snoops =
        pp && pp->bound && pp->kind == offload::PortKind::vf && offload::snoops_dhcp(pp->cfg);
    // A lease learned for another vEthernet on this VF is not this one's.
    if (snoops && dhcp_table_.port_holds_only(p, pp->veth)) continue;
    const size_t n = dhcp_table_.clear_port(p, [&](uint16_t q, const DhcpBinding& b) {
      post_unbound(DhcpBindingEvent::port_cleared, q, b);
    });
    if (n) {
      bump(dhcp_counters_.unbound, n);
      leases_changed();
    }
  }
  dhcp_size_.store(dhcp_table_.size(), std::memory_order_relaxed);
}

void SlowPath::configure(SoftPolicer& sp, bool want, uint64_t cir, uint64_t cbs,
                         const std::string& what) {
  if (!want) {
    sp = SoftPolicer{};
    return;
  }
  if (sp.on && sp.cir == cir && sp.cbs == cbs) return;
  sp.cir = cir;
  sp.cbs = cbs;
  sp.on = true;
  if (cir == 0) return;  // level 0: nothing of that kind passes
  rte_meter_srtcm_params prm{cir, std::max<uint64_t>(cbs, 1), 0};
  if (rte_meter_srtcm_profile_config(&sp.profile, &prm) != 0 ||
      rte_meter_srtcm_config(&sp.meter, &sp.profile) != 0) {
    log::error("slowpath", "{}: cannot configure a meter of {} B/s, burst {} B: nothing passes it",
               what, cir, cbs);
    sp.cir = 0;
  }
}

bool SlowPath::storm_allows(uint16_t port, const uint8_t* dst, uint32_t len) {
  const bool bcast = std::all_of(dst, dst + 6, [](uint8_t b) { return b == 0xff; });
  SoftPolicer& sp = storm_[port][bcast ? 0 : is_multicast(dst) ? 1 : 2];
  if (!sp.on) return true;
  return sp.cir > 0 && srtcm_check(sp.meter, sp.profile, burst_tsc_, len) != RTE_COLOR_RED;
}

uint32_t SlowPath::police_run(uint16_t port, bool input, uint32_t len, uint32_t n) {
  if (n == 0 || port >= max_port_) return n;
  SoftPolicer& sp = policers_[port][input ? 0 : 1];
  if (!sp.wanted) return n;
  PortCounters& pc = port_counters_[port];
  const size_t d = input ? 0 : 1;
  uint32_t ok = 0;
  // Fail closed: a policer that could not be configured passes nothing.
  if (sp.on && sp.cir > 0 && len > 0 &&
      srtcm_check(sp.meter, sp.profile, burst_tsc_, len) != RTE_COLOR_RED) {
    ok = 1;
    // The first frame brought the buckets up to this burst's TSC; at the same TSC the
    // meter adds nothing, so the next frames are green while C holds len bytes, then
    // yellow while E does, then red: rte_meter's own arithmetic, once instead of n times.
    if (n > 1) {
      const uint64_t rest = uint64_t{n - 1} * len;
      const uint64_t green = sp.meter.tc >= rest ? n - 1 : sp.meter.tc / len;
      sp.meter.tc -= green * len;
      const uint64_t yellow = std::min<uint64_t>(n - 1 - green, sp.meter.te / len);
      sp.meter.te -= yellow * len;
      ok = static_cast<uint32_t>(1 + green + yellow);
    }
  }
  if (ok) {
    bump(pc.police_conform_packets[d], ok);
    bump(pc.police_conform_bytes[d], uint64_t{len} * ok);
  }
  if (ok < n) {
    bump(pc.police_violate_packets[d], n - ok);
    bump(pc.police_violate_bytes[d], uint64_t{len} * (n - ok));
  }
  return ok;
}

template <typename V>
void SlowPath::count_acl_hits(uint16_t port, const V& v) {
  const AceCounters c = acl_hit_counters(port, v);
  for (uint8_t i = 0; i < v.n_hits; ++i)
    if (c[i]) bump(*c[i]);
}

template <typename V>
AceCounters SlowPath::acl_hit_counters(uint16_t port, const V& v) {
  AceCounters out{};
  if (port >= max_port_ || v.n_hits == 0) return out;
  const offload::PortPolicy* pp = policy_->port(port);
  if (!pp) return out;
  for (uint8_t i = 0; i < v.n_hits; ++i) {
    const int slot = offload::acl_slot(pp->cfg, v.hits[i].acl);
    if (slot < 0) continue;
    const auto& entries = v.hits[i].acl->entries;
    size_t idx = entries.size();  // the implicit deny
    if (v.hits[i].seq != 0) {
      auto it =
          std::lower_bound(entries.begin(), entries.end(), v.hits[i].seq,
                           [](const vsm::ResolvedAce& e, uint32_t seq) { return e.seq < seq; });
      idx = static_cast<size_t>(it - entries.begin());
    }
    out[i] = &acl_counters_[port].slot[static_cast<size_t>(slot)][std::min(idx, kAceCounters - 1)];
  }
  return out;
}

namespace {
// Calls f(key, seq, counter) for every ACL entry counter of every port under policy.
template <typename F>
void for_each_acl_counter(const offload::PolicySnapshot& policy, size_t max_port,
                          AclCounters* counters, F&& f) {
  for (uint16_t port = 0; port < std::min(policy.ports.size(), max_port); ++port) {
    const auto& cfg = policy.ports[port].cfg;
    for (int slot = 0; slot < static_cast<int>(kAclSlots); ++slot) {
      const vsm::ResolvedAcl* acl = offload::acl_in_slot(cfg, slot);
      if (!acl) continue;
      const std::string key = offload::acl_key(*acl);
      auto& counts = counters[port].slot[static_cast<size_t>(slot)];
      for (size_t i = 0; i <= acl->entries.size() && i < kAceCounters; ++i) {
        // Entries past the last counter share it; it is reported under the first.
        const uint32_t seq = i < acl->entries.size() ? acl->entries[i].seq : 0;
        f(key, seq, counts[i]);
      }
    }
  }
}
}  // namespace

void SlowPath::retire_acl_counts() {
  std::lock_guard<std::mutex> g(acl_mu_);
  if (!acl_policy_) return;
  for_each_acl_counter(*acl_policy_, max_port_, acl_counters_.get(),
                       [&](const std::string& key, uint32_t seq, std::atomic<uint64_t>& c) {
                         const uint64_t n = c.exchange(0, std::memory_order_relaxed);
                         if (n) acl_retired_[key][seq] += n;
                       });
}

nlohmann::json SlowPath::acl_entries_json() const {
  std::lock_guard<std::mutex> g(acl_mu_);
  auto all = acl_retired_;
  if (acl_policy_)
    for_each_acl_counter(*acl_policy_, max_port_, acl_counters_.get(),
                         [&](const std::string& key, uint32_t seq, const std::atomic<uint64_t>& c) {
                           all[key][seq] += c.load(std::memory_order_relaxed);
                         });
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, seqs] : all) {
    nlohmann::json per = nlohmann::json::object();
    for (const auto& [seq, n] : seqs) per[std::to_string(seq)] = n;
    out[key] = per;
  }
  return out;
}

void SlowPath::mirror(rte_mbuf* m, const std::vector<uint16_t>& to) {
  for (uint16_t port : to) {
    if (port >= max_port_) continue;
    rte_mbuf* c = rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX);
    if (!c) {
      bump(port_counters_[port].drops[static_cast<size_t>(DropReason::no_buffer)]);
      continue;
    }
    enqueue(c, port);
  }
}

void SlowPath::send(rte_mbuf* m, uint16_t out_port, uint16_t vid, bool tagged, bool want_tag) {
  if (want_tag && !tagged) {
    m->vlan_tci = vid;
    if (rte_vlan_insert(&m) != 0) return drop(m, out_port, DropReason::no_buffer);
  } else if (want_tag) {
    // A priority-tagged frame from an access port leaves with its VLAN's VID.
    auto* vh =
        reinterpret_cast<rte_vlan_hdr*>(rte_pktmbuf_mtod(m, uint8_t*) + 2 * RTE_ETHER_ADDR_LEN + 2);
    const uint16_t tci = rte_be_to_cpu_16(vh->vlan_tci);
    if ((tci & 0x0fff) != vid)
      vh->vlan_tci = rte_cpu_to_be_16(static_cast<uint16_t>((tci & 0xf000) | vid));
  } else if (tagged) {
    if (rte_vlan_strip(m) != 0) return drop(m, out_port, DropReason::malformed);
    m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED);
  }
  const offload::PortPolicy* op = policy_->port(out_port);
  if (op) mirror(m, op->mirror_tx);
  enqueue(m, out_port);
}

void SlowPath::enqueue(rte_mbuf* m, uint16_t out_port) {
  TxQueue& q = tx_[out_port];
  if (q.n == q.pkts.size()) flush_tx();
  q.pkts[q.n++] = m;
  q.bytes += rte_pktmbuf_pkt_len(m);
}

void SlowPath::flush_tx() {
  for (size_t port = 0; port < tx_.size(); ++port) {
    TxQueue& q = tx_[port];
    if (q.n == 0) continue;
    uint16_t sent = rte_eth_tx_burst(static_cast<uint16_t>(port), 0, q.pkts.data(), q.n);
    PortCounters& pc = port_counters_[port];
    uint64_t bytes = q.bytes;
    for (uint16_t i = sent; i < q.n; ++i) {
      bytes -= rte_pktmbuf_pkt_len(q.pkts[i]);
      drop(q.pkts[i], static_cast<uint16_t>(port), DropReason::tx_full);
    }
    bump(pc.tx_packets, sent);
    bump(pc.tx_bytes, bytes);
    q.n = 0;
    q.bytes = 0;
  }
}

nlohmann::json SlowPath::counters_json() const {
  auto rd = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  nlohmann::json drops = nlohmann::json::object();
  for (size_t i = 0; i < kDropReasonCount; ++i)
    drops[kDropReasons[i].name] = rd(counters_.drops[i]);
  nlohmann::json j = {{"exception_packets", rd(counters_.exception_packets)},
                      {"forwarded", rd(counters_.forwarded)},
                      {"batched", rd(counters_.batched)},
                      {"flooded", rd(counters_.flooded)},
                      {"learned", rd(counters_.learned)},
                      {"moved", rd(counters_.moved)},
                      {"aged", rd(counters_.aged)},
                      {"fdb_entries", fdb_size()},
                      {"fdb_full", rd(counters_.fdb_full)},
                      {"offload_ring_full", rd(counters_.offload_ring_full)},
                      {"dropped", drops}};
  const DhcpSnoopingCounters& dc = dhcp_counters_;
  j["dhcp_snooping"] = {{"server_messages", rd(dc.server_messages)},
                        {"client_messages", rd(dc.client_messages)},
                        {"acks", rd(dc.acks)},
                        {"naks", rd(dc.naks)},
                        {"releases", rd(dc.releases)},
                        {"declines", rd(dc.declines)},
                        {"bound", rd(dc.bound)},
                        {"unbound", rd(dc.unbound)},
                        {"expired", rd(dc.expired)},
                        {"malformed", rd(dc.malformed)},
                        {"unknown_client", rd(dc.unknown_client)},
                        {"chaddr_mismatch", rd(dc.chaddr_mismatch)},
                        {"table_full", rd(dc.table_full)},
                        {"event_ring_full", rd(dc.event_ring_full)},
                        {"bindings", dhcp_bindings()}};
  const VerdictCacheStats& vc = verdict_cache_.stats();
  j["verdict_cache"] = {{"hits", rd(vc.hits)},
                        {"misses", rd(vc.misses)},
                        {"bypassed", rd(vc.bypassed)},
                        {"evictions", rd(vc.evictions)},
                        {"invalidations", rd(vc.invalidations)},
                        {"capacity", verdict_cache_.capacity()}};
  return j;
}

}  // namespace vfs::slowpath
