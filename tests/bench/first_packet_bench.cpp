// tests/bench/first_packet_bench.cpp (vfs-bench-first-packet) prints how long a new flow
// stays in software: from the moment its first frame enters the sim eSwitch until the
// rule that switches it is in the sim's table (p50 / p99 / max; target p99 < 50 us), and
// how many frames of the flow the slow path handles meanwhile at a stated per-flow packet
// rate. Figures only; nothing is asserted.
//
// What runs: vfswitchd's parts as the daemon composes them (tests/bench/ring_switch.h):
// the sim's rule table behind its FlowBackend, the offload worker thread, the slow-path
// thread sleeping on the sim's doorbell, ESwitchDataplane applying the policy. The bench's
// main thread plays the sim's datapath thread (drivers/sim/sim_datapath.cpp), without
// wires: it classifies each frame against the sim's table under the table's mutex, hands
// a miss to the VF's representor ring and rings the doorbell, and drains what the slow
// path sends. EAL's `-l 0` pins every thread to one CPU, as it does in vfswitchd.
//
// The flows: two vEthernets in access VLAN 10, each with an input and an output IPv4 ACL
// of --aces entries. The destination MAC D lives on VF 1 (learned before the clock
// starts); flow i is a new source MAC S_i on VF 0 sending UDP to D, so its first frame
// misses (unknown source), the slow path learns S_i and forwards the frame, and the
// offload worker installs S_i's rules. New flows start at --flow-rate per second:
//   t0     = when the first frame entered the sim (the bench's clock, just before the
//            frame's classification, which misses);
//   t_rule = when the sim accepted the rule that admits S_i (group 0, ETH src S_i): the
//            bench wraps the sim's FlowBackend (ring_switch.h, ObservedFlowBackend) and
//            reads the clock when create() returns, on the offload worker's thread. No
//            timestamp is taken inside the product. That this rule is the one that
//            switches the flow is checked: once it is in, a frame of the flow must be
//            forwarded by the sim's table (counted otherwise);
//   frames in software = frames a flow sending one frame every 1/--pps from t0 sends
//            before t_rule: they miss in the NIC. The bench feeds exactly those to the
//            representor, so the slow path handles them.
#include <sched.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "base/log.h"
#include "tests/bench/ring_switch.h"

using namespace vfs;

namespace {

constexpr uint16_t kVlan = 10;
constexpr uint16_t kSrcPort = 1;  // sim port of VF 0
constexpr uint16_t kDstPort = 2;  // sim port of VF 1
constexpr uint64_t kGiveUpNs = 1'000'000'000ULL;

struct Options {
  uint32_t flows = 2000;
  uint32_t warmup = 200;
  double flow_rate = 5000;  // new flows per second
  double pps = 100000;      // frames per second of each flow while it is in software
  uint32_t aces = 100;
  bool all_cpus = false;  // undo EAL's pinning before the threads start (not as vfswitchd)
};

struct Flow {
  std::array<uint8_t, bench::kFrameLen> frame{};
  uint64_t t0 = 0;
  uint64_t next_send = 0;
  uint32_t sw_frames = 0;
};

// The flows' source MACs carry their index: 02:10:00 + 24 bits.
bench::Mac6 source_mac(uint32_t i) {
  return {0x02,
          0x10,
          0x00,
          static_cast<uint8_t>(i >> 16),
          static_cast<uint8_t>(i >> 8),
          static_cast<uint8_t>(i)};
}

// t_rule of each flow, written on the offload worker's thread.
class RuleClock final : public bench::CreateObserver {
 public:
  explicit RuleClock(uint32_t flows) : t_(flows) {}
  void created(const rte_flow_item* pattern) override {
    for (const rte_flow_item* it = pattern; it && it->type != RTE_FLOW_ITEM_TYPE_END; ++it) {
      if (it->type != RTE_FLOW_ITEM_TYPE_ETH || !it->spec || !it->mask) continue;
      const auto* spec = static_cast<const rte_flow_item_eth*>(it->spec);
      const auto* mask = static_cast<const rte_flow_item_eth*>(it->mask);
      const uint8_t* s = spec->hdr.src_addr.addr_bytes;
      const uint8_t* m = mask->hdr.src_addr.addr_bytes;
      if (!std::all_of(m, m + 6, [](uint8_t b) { return b == 0xff; })) continue;
      if (s[0] != 0x02 || s[1] != 0x10 || s[2] != 0x00) continue;
      const uint32_t i =
          static_cast<uint32_t>(s[3]) << 16 | static_cast<uint32_t>(s[4]) << 8 | s[5];
      uint64_t none = 0;
      if (i < t_.size()) t_[i].compare_exchange_strong(none, now(), std::memory_order_release);
    }
  }
  uint64_t at(uint32_t i) const { return t_[i].load(std::memory_order_acquire); }

 private:
  static uint64_t now() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
  }
  std::vector<std::atomic<uint64_t>> t_;
};

// The sim datapath's side of a frame: classification under the table's mutex, misses to
// the representor of the port the frame came in on.
class SimSide {
 public:
  SimSide(bench::RingSwitch& sw, std::vector<bench::RepresentorRings> rings)
      : sw_(sw), rings_(std::move(rings)) {}

  std::mutex& mu() { return sw_.table_mu(); }

  // Whether the table forwards frame (entering on sim port in) in hardware. Holds the
  // table's mutex; the frame is classified in a scratch copy, as edits move it.
  bool forwards_locked(uint16_t in, const uint8_t* frame) {
    std::memcpy(scratch_ + kHeadroom, frame, bench::kFrameLen);
    drivers::sim::PacketBuffer pkt{scratch_ + kHeadroom, bench::kFrameLen, kHeadroom};
    return sw_.table().classify(in, pkt).kind == drivers::sim::Verdict::Kind::forward;
  }

  // A frame that missed goes to the representor of its port; false if the pool or the
  // ring is full (the sim counts that as a drop).
  bool to_representor(uint16_t in, const uint8_t* frame) {
    rte_mbuf* m = bench::frame_mbuf(sw_.pool(), frame, bench::kFrameLen);
    if (!m) return false;
    if (rte_ring_enqueue(rings_[in].rx, m) != 0) {
      rte_pktmbuf_free(m);
      return false;
    }
    sw_.wakeup().notify();
    return true;
  }

  // What the slow path sent leaves on the wires: freed here.
  void drain() {
    void* burst[32];
    for (auto& r : rings_) {
      unsigned n;
      while ((n = rte_ring_dequeue_burst(r.tx, burst, 32, nullptr)) > 0)
        for (unsigned i = 0; i < n; ++i) rte_pktmbuf_free(static_cast<rte_mbuf*>(burst[i]));
    }
  }

 private:
  static constexpr uint32_t kHeadroom = 64;
  bench::RingSwitch& sw_;
  std::vector<bench::RepresentorRings> rings_;
  alignas(64) uint8_t scratch_[kHeadroom + bench::kFrameLen]{};
};

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

void sleep_ns(uint64_t ns) {
  timespec ts{static_cast<time_t>(ns / 1'000'000'000ULL), static_cast<long>(ns % 1'000'000'000ULL)};
  nanosleep(&ts, nullptr);
}

template <typename T>
T percentile(std::vector<T> v, double p) {
  if (v.empty()) return T{};
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size()) + 0.999999);
  return v[std::min(v.size(), std::max<size_t>(i, 1)) - 1];
}

constexpr bench::Mac6 kDst = {0x02, 0x20, 0x00, 0x00, 0x00, 0x01};

vsm::DataplaneConfig policy(uint32_t aces) {
  vsm::DataplaneConfig cfg;
  cfg.vlans = {kVlan};
  for (uint32_t k = 0; k < 2; ++k) {
    vsm::ResolvedVeth v;
    v.number = k + 1;
    v.vf = static_cast<int>(k);
    v.vm = "bench" + std::to_string(k);
    v.profile = "bench";
    v.access_vlan = kVlan;
    v.forwarding = true;
    if (aces >= 2) {
      v.ip_acl_in = bench::late_match_acl("bench-in", aces);
      v.ip_acl_out = bench::late_match_acl("bench-out", aces);
    }
    cfg.veths.push_back(v);
  }
  return cfg;
}

struct RunResult {
  std::vector<uint64_t> latency_ns;  // t_rule - t0
  std::vector<uint32_t> sw_frames;
  uint32_t never = 0;         // no rule within kGiveUpNs
  uint32_t not_switched = 0;  // rule in, yet the table did not forward the flow's frame
  uint32_t lost = 0;          // frames the representor could not take
};

// Runs flows [first, first + n): see the header comment.
RunResult run_flows(SimSide& sim, const RuleClock& rules, uint32_t first, uint32_t n,
                    const Options& opt) {
  RunResult res;
  std::vector<Flow> flows(n);
  for (uint32_t i = 0; i < n; ++i) flows[i].frame = bench::udp_frame(source_mac(first + i), kDst);
  const auto new_every = static_cast<uint64_t>(1e9 / opt.flow_rate);
  const auto send_every = static_cast<uint64_t>(1e9 / opt.pps);
  std::vector<uint32_t> pending;
  pending.reserve(n);
  uint32_t started = 0, finished = 0;
  uint64_t next_new = now_ns();
  auto feed = [&](Flow& f, uint64_t until) {  // the frames sent before `until` missed
    for (; f.next_send < until; f.next_send += send_every) {
      res.lost += !sim.to_representor(kSrcPort, f.frame.data());
      ++f.sw_frames;
    }
  };
  while (finished < n) {
    uint64_t now = now_ns();
    if (started < n && now >= next_new) {
      Flow& f = flows[started];
      f.t0 = f.next_send = now_ns();
      bool hw;
      {
        std::lock_guard<std::mutex> g(sim.mu());
        hw = sim.forwards_locked(kSrcPort, f.frame.data());
      }
      if (hw) ++res.not_switched;  // a new MAC cannot be in hardware yet
      feed(f, f.t0 + 1);
      pending.push_back(started);
      ++started;
      next_new += new_every;
    }
    now = now_ns();
    for (uint32_t& i : pending) {
      Flow& f = flows[i];
      const uint64_t t_rule = rules.at(first + i);
      if (t_rule == 0) {
        if (now - f.t0 > kGiveUpNs) {
          ++res.never;
          i = UINT32_MAX;
        } else {
          feed(f, now);
        }
        continue;
      }
      feed(f, t_rule);
      bool hw;
      {
        std::lock_guard<std::mutex> g(sim.mu());
        hw = sim.forwards_locked(kSrcPort, f.frame.data());
      }
      res.not_switched += !hw;
      res.latency_ns.push_back(t_rule - f.t0);
      res.sw_frames.push_back(f.sw_frames);
      i = UINT32_MAX;
    }
    const size_t before = pending.size();
    pending.erase(std::remove(pending.begin(), pending.end(), UINT32_MAX), pending.end());
    finished += static_cast<uint32_t>(before - pending.size());
    sim.drain();
    if (pending.empty()) {
      now = now_ns();
      if (started < n && next_new > now + 20'000) sleep_ns(next_new - now - 10'000);
    } else {
      sched_yield();  // the slow path and the offload worker share this CPU
    }
  }
  return res;
}

}  // namespace

int main(int argc, char** argv) {
  log::set_level(log::Level::warn);
  Options opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--flows")
      opt.flows = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    else if (k == "--warmup")
      opt.warmup = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    else if (k == "--flow-rate")
      opt.flow_rate = std::strtod(v, nullptr);
    else if (k == "--pps")
      opt.pps = std::strtod(v, nullptr);
    else if (k == "--aces")
      opt.aces = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    else if (k == "--all-cpus")
      opt.all_cpus = std::strcmp(v, "yes") == 0;
    else {
      std::fprintf(stderr,
                   "usage: vfs-bench-first-packet [--flows N] [--warmup N] [--flow-rate F/s] "
                   "[--pps R] [--aces A] [--all-cpus yes|no]\n");
      return 2;
    }
  }
  if (opt.flows == 0 || !(opt.flow_rate > 0) || !(opt.pps > 0)) {
    std::fprintf(stderr, "vfs-bench-first-packet: --flows, --flow-rate and --pps must be > 0\n");
    return 2;
  }
  auto fail = [](const Error& e) {
    std::fprintf(stderr, "vfs-bench-first-packet: %s\n", e.message.c_str());
    return 1;
  };
  slowpath::EalOptions eal;
  eal.file_prefix = "vfs-bench-fp-" + std::to_string(::getpid());
  if (auto r = slowpath::eal_init(eal); !r.ok()) return fail(r.error());
  if (opt.all_cpus) {
    cpu_set_t all;
    CPU_ZERO(&all);
    for (long c = 0; c < ::sysconf(_SC_NPROCESSORS_ONLN); ++c) CPU_SET(static_cast<int>(c), &all);
    sched_setaffinity(0, sizeof(all), &all);
  }
  // Who is on the sim's side of each representor: the bench.
  std::vector<bench::RepresentorRings> rings;
  for (int i = 0; i < 3; ++i) {
    auto rx = bench::make_ring("fp_rx" + std::to_string(i));
    auto tx = bench::make_ring("fp_tx" + std::to_string(i));
    if (!rx.ok()) return fail(rx.error());
    if (!tx.ok()) return fail(tx.error());
    rings.push_back({rx.value(), tx.value()});
  }
  RuleClock rule_clock(opt.warmup + opt.flows);
  bench::RingSwitchOptions so;
  so.rings = rings;
  so.observer = &rule_clock;
  auto made = bench::RingSwitch::make(so);
  if (!made.ok()) return fail(made.error());
  bench::RingSwitch& sw = *made.value();
  sw.slow().start();
  if (auto r = sw.dataplane().apply(policy(opt.aces)); !r.ok()) return fail(r.error());
  ::prctl(PR_SET_TIMERSLACK, 1000UL);  // sleeps between new flows end on time
  SimSide sim(sw, rings);

  // D on VF 1: one broadcast from it, learned and offloaded before the clock starts.
  const auto hello = bench::udp_frame(kDst, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  sim.to_representor(kDstPort, hello.data());
  for (int i = 0; i < 2000 && sw.slow().counters().learned.load() == 0; ++i) sleep_ns(1'000'000);
  if (sw.slow().counters().learned.load() == 0)
    return fail(make_error(ETIMEDOUT, "the slow path did not learn {} within 2 s", "D"));
  sw.engine().drain();
  sim.drain();

  if (opt.warmup) run_flows(sim, rule_clock, 0, opt.warmup, opt);
  const uint64_t exc0 = sw.slow().counters().exception_packets.load();
  size_t rules0;
  {
    std::lock_guard<std::mutex> g(sw.table_mu());
    rules0 = sw.table().size();
  }
  const RunResult res = run_flows(sim, rule_clock, opt.warmup, opt.flows, opt);
  sw.engine().drain();
  size_t rules1;
  {
    std::lock_guard<std::mutex> g(sw.table_mu());
    rules1 = sw.table().size();
  }
  const uint64_t exc1 = sw.slow().counters().exception_packets.load();

  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  sched_getaffinity(0, sizeof(cpus), &cpus);
  std::string cpu_list;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &cpus)) cpu_list += (cpu_list.empty() ? "" : ",") + std::to_string(c);

  uint64_t sw_total = 0;
  for (uint32_t s : res.sw_frames) sw_total += s;
  const double n = static_cast<double>(std::max<size_t>(res.latency_ns.size(), 1));
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1e3; };
  std::printf(
      "first packet: %u new source MACs on vEthernet1 -> a known MAC on vEthernet2, VLAN %u, "
      "%u-entry ACLs in and out; %.0f new flows/s, each at %.0f pps; threads on CPU %s\n",
      opt.flows, kVlan, opt.aces, opt.flow_rate, opt.pps, cpu_list.c_str());
  std::printf(
      "first packet: entered the sim -> its rule in the sim's table: p50 %.1f us, p99 %.1f us, "
      "max %.1f us (target p99 < 50 us)\n",
      us(percentile(res.latency_ns, 0.50)), us(percentile(res.latency_ns, 0.99)),
      us(percentile(res.latency_ns, 1.0)));
  std::printf(
      "first packet: frames per flow handled in software at %.0f pps per flow: mean %.2f, p99 %u, "
      "max %u (slow path exceptions +%llu); rules per flow %.2f; no rule within 1 s: %u; rule in "
      "but not forwarding: %u; frames lost: %u\n",
      opt.pps, static_cast<double>(sw_total) / n, percentile(res.sw_frames, 0.99),
      percentile(res.sw_frames, 1.0), static_cast<unsigned long long>(exc1 - exc0),
      static_cast<double>(rules1 - rules0) / static_cast<double>(opt.flows), res.never,
      res.not_switched, res.lost);
  sw.slow().stop();
  made.value().reset();
  std::error_code ec;
  std::filesystem::remove_all("/var/run/dpdk/" + eal.file_prefix, ec);
  return 0;
}
