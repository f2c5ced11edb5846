// tests/bench/fallback_forwarding_bench.cpp (vfs-bench-fallback) prints the rate at which
// the slow path forwards when the NIC refuses every rule, with a full policy on both
// ports, side by side with dpdk-testpmd's mac forwarding on the same kind of ports, fed the
// same way, and their ratio (target >= 0.8x). Figures only; nothing is asserted.
//
// vfswitch side: vfswitchd's parts as the daemon composes them (tests/bench/ring_switch.h)
// with the sim's table at capacity 0, so every rule is refused (ENOSPC) and stays in
// software: every frame is the slow path's. Two vEthernets (VF 0, VF 1) in access VLAN 10,
// each with an input and an output IPv4 ACL of --aces entries that the traffic matches
// only at the next-to-last entry, port security (maximum 1, the VM's MAC static, restrict),
// `police` in and out at 100 Gb/s (far above the rate reached), storm control (broadcast and
// multicast 1 %, unknown unicast 5 %; known unicast never reaches it).
//
// The set-up, identical on both sides:
//  - ports: two net_ring ethdevs, 1024-slot single-producer/single-consumer rings;
//  - traffic: 64-byte IPv4/UDP frames 198.18.0.1:9 -> 198.18.0.2:9, one burst of 32 per
//    port injected once (--flows N: the slow path's frames take N source ports in turn,
//    9, 10, ..., so that no two frames in a row are of one flow: the slow path then
//    decides every frame on its own, its worst case; testpmd's cost does not depend on
//    flows) (testpmd: `start tx_first` with --txpkts=64 --tx-ip --tx-udp), then
//    a closed loop: every frame forwarded comes back in. testpmd's net_ring ports are
//    loopbacks (a port receives what it sends); the slow path's rings are crossed (what it
//    sends to VF 1 comes back in from VF 0), so a frame's source MAC stays on the port it
//    was learned on, as port security requires. Either way a forwarded frame costs one
//    ring dequeue and one ring enqueue, and nothing feeds traffic during the measurement;
//  - one forwarding thread (the slow path's own, started by SlowPath::start; testpmd's
//    single forwarding lcore, --nb-cores=1), pinned to the same CPU (--cpu), bursts of 32;
//  - after --warm seconds, --seconds of measurement: frames sent by the two ports (the slow
//    path's per-port tx counters; testpmd's `show port stats all` TX-packets) divided by the
//    forwarding thread's CPU time over the same window (/proc/PID/task/TID/schedstat), so
//    that other load on the shared machine does not bias the ratio; the per-wall-second
//    rate and the thread's share of the CPU are printed too.
// The slow path also polls the (idle) uplink representor on every pass, as it always does.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/log.h"
#include "tests/bench/ring_switch.h"

using namespace vfs;

namespace {

constexpr uint16_t kVlan = 10;
constexpr unsigned kBurstPerPort = 32;
constexpr bench::Mac6 kMacA = {0x02, 0x00, 0x00, 0x00, 0x0a, 0x01};  // the VM on VF 0
constexpr bench::Mac6 kMacB = {0x02, 0x00, 0x00, 0x00, 0x0b, 0x01};  // the VM on VF 1

struct Options {
  double seconds = 3;
  double warm = 0.5;
  uint32_t aces = 100;
  int cpu = -1;  // default: the last CPU
  std::string testpmd = "dpdk-testpmd";
  uint32_t capacity = 0;  // the sim's: 0 refuses every rule (the figure); more to compare
  uint32_t flows = 1;     // per port, interleaved
};

struct Rate {
  uint64_t frames = 0;
  uint64_t cpu_ns = 0;
  uint64_t wall_ns = 0;
  double per_cpu_s() const {
    return cpu_ns ? static_cast<double>(frames) * 1e9 / static_cast<double>(cpu_ns) : 0;
  }
  double per_wall_s() const {
    return wall_ns ? static_cast<double>(frames) * 1e9 / static_cast<double>(wall_ns) : 0;
  }
  double cpu_share() const {
    return wall_ns ? static_cast<double>(cpu_ns) / static_cast<double>(wall_ns) : 0;
  }
};

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

void sleep_s(double s) {
  const auto ns = static_cast<uint64_t>(s * 1e9);
  timespec ts{static_cast<time_t>(ns / 1'000'000'000ULL), static_cast<long>(ns % 1'000'000'000ULL)};
  nanosleep(&ts, nullptr);
}

std::set<int> tasks(int pid) {
  std::set<int> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') out.insert(std::atoi(e->d_name));
    closedir(d);
  }
  return out;
}

std::string task_name(int pid, int tid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/comm");
  std::string s;
  std::getline(f, s);
  return s;
}

bool pin(int tid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(tid, sizeof(set), &set) == 0;
}

vsm::ResolvedVeth full_policy_veth(uint32_t number, int vf, const bench::Mac6& mac, uint32_t aces) {
  vsm::ResolvedVeth v;
  v.number = number;
  v.vf = vf;
  v.vm = "bench" + std::to_string(vf);
  v.profile = "full";
  v.access_vlan = kVlan;
  v.forwarding = true;
  v.ip_acl_in = bench::late_match_acl("bench-in", aces);
  v.ip_acl_out = bench::late_match_acl("bench-out", aces);
  // 100 Gb/s, 10 ms of burst: metered on every frame, never limiting (10 Gb/s is 19.5 Mpps
  // of 64-byte frames, which the slow path now exceeds).
  v.police_in = vsm::ResolvedPolicer{"bench-police", 12'500'000'000ULL, 125'000'000ULL};
  v.police_out = v.police_in;
  v.port_security.enabled = true;
  v.port_security.maximum = 1;
  v.port_security.static_macs = {mac};
  v.port_security.violation = vsm::ViolationMode::restrict;
  v.storm = vsm::StormControl{1.0, 1.0, 5.0};
  return v;
}

// --- vfswitch's slow path -------------------------------------------------------------

struct SlowPathRun {
  Rate rate;
  size_t rules = 0, rules_sw = 0;
  uint64_t drops = 0;
  uint64_t cache_hits = 0, cache_misses = 0, cache_bypassed = 0;  // slowpath/verdict_cache.h
  uint64_t forwarded = 0, batched = 0;  // decided with the frame before them (flow runs)
};

Result<SlowPathRun> run_slow_path(const Options& opt) {
  SlowPathRun out;
  // VF 0 receives from r0 and sends into r1, VF 1 the other way round: what the slow
  // path sends to one VF comes back in from the other. The uplink's tx ring is a sink.
  auto r0 = bench::make_ring("fb_vf0_in");
  auto r1 = bench::make_ring("fb_vf1_in");
  auto up_rx = bench::make_ring("fb_up_rx");
  auto up_tx = bench::make_ring("fb_up_tx");
  for (auto* r : {&r0, &r1, &up_rx, &up_tx})
    if (!r->ok()) return r->error();
  bench::RingSwitchOptions so;
  so.rings = {{up_rx.value(), up_tx.value()}, {r0.value(), r1.value()}, {r1.value(), r0.value()}};
  so.sim_capacity = opt.capacity;  // 0: the NIC refuses every rule (ENOSPC)
  auto made = bench::RingSwitch::make(so);
  if (!made.ok()) return made.error();
  bench::RingSwitch& sw = *made.value();
  vsm::DataplaneConfig cfg;
  cfg.vlans = {kVlan};
  cfg.veths = {full_policy_veth(1, 0, kMacA, opt.aces), full_policy_veth(2, 1, kMacB, opt.aces)};
  if (auto r = sw.dataplane().apply(cfg); !r.ok()) return r.error();
  for (const auto& e : sw.engine().rules()) {
    ++out.rules;
    out.rules_sw += e.state != offload::RuleState::hw;
  }

  // Learning first, on this thread (the rings have one producer and one consumer each,
  // so nothing else may touch them while the slow path's thread runs): B, then A.
  const auto ab = bench::udp_frame(kMacA, kMacB);
  const auto ba = bench::udp_frame(kMacB, kMacA);
  // Frame i of n leaves from source port 9 + (i + 1) % flows (the learning frame is i 0).
  auto inject = [&](rte_ring* r, std::array<uint8_t, bench::kFrameLen> f,
                    unsigned n) -> Result<void> {
    for (unsigned i = 0; i < n; ++i) {
      f[14 + 20 + 1] = static_cast<uint8_t>(9 + (i + 1) % opt.flows);
      rte_mbuf* m = bench::frame_mbuf(sw.pool(), f.data(), bench::kFrameLen);
      if (!m || rte_ring_enqueue(r, m) != 0)
        return make_error(ENOBUFS, "cannot inject frame {}", i);
    }
    return ok();
  };
  auto drain_uplink = [&] {
    void* m = nullptr;
    while (rte_ring_dequeue(up_tx.value(), &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  };
  if (auto r = inject(r1.value(), ba, 1); !r.ok()) return r.error();
  sw.slow().poll_once();  // B learned on VF 1; A unknown: flooded (back in from VF 1)
  if (auto r = inject(r0.value(), ab, 1); !r.ok()) return r.error();
  for (int i = 0; i < 4; ++i) sw.slow().poll_once();
  drain_uplink();
  if (sw.slow().counters().learned.load() != 2)
    return make_error(EPROTO, "the slow path learned {} MACs, not A and B",
                      sw.slow().counters().learned.load());
  if (auto r = inject(r0.value(), ab, kBurstPerPort - 1); !r.ok()) return r.error();
  if (auto r = inject(r1.value(), ba, kBurstPerPort - 1); !r.ok()) return r.error();

  const std::set<int> before = tasks(::getpid());
  sw.slow().start();
  int tid = -1;
  for (int i = 0; i < 1000 && tid < 0; ++i) {
    for (int t : tasks(::getpid()))
      if (!before.count(t)) tid = t;
    if (tid < 0) sleep_s(0.001);
  }
  if (tid < 0) return make_error(ESRCH, "cannot find the slow path's thread");
  if (!pin(tid, opt.cpu))
    return make_error(errno, "cannot pin the slow path's thread to CPU {}", opt.cpu);
  sw.wakeup().ring();

  auto sent = [&] {
    uint64_t n = 0;
    for (const auto& p : sw.ports())
      if (const auto* c = sw.slow().port_counters(p.ethdev_port)) n += c->tx_packets.load();
    return n;
  };
  sleep_s(opt.warm);
  const uint64_t c0 = bench::thread_cpu_ns(::getpid(), tid), f0 = sent(), w0 = now_ns();
  sleep_s(opt.seconds);
  const uint64_t c1 = bench::thread_cpu_ns(::getpid(), tid), f1 = sent(), w1 = now_ns();
  sw.slow().stop();
  out.rate = {f1 - f0, c1 - c0, w1 - w0};
  for (const auto& d : sw.slow().counters().drops) out.drops += d.load();
  const auto& vc = sw.slow().verdict_cache_stats();
  out.cache_hits = vc.hits.load();
  out.cache_misses = vc.misses.load();
  out.cache_bypassed = vc.bypassed.load();
  out.forwarded = sw.slow().counters().forwarded.load();
  out.batched = sw.slow().counters().batched.load();
  drain_uplink();
  return out;
}

// --- dpdk-testpmd ----------------------------------------------------------------------

class Testpmd {
 public:
  // Closing its stdin ends testpmd's command line, and testpmd with it; a testpmd that
  // does not exit within 5 s is killed.
  ~Testpmd() {
    if (in_ >= 0) ::close(in_);
    if (pid_ > 0) {
      for (int i = 0; i < 100 && ::waitpid(pid_, nullptr, WNOHANG) != pid_; ++i) {
        if (i == 50) ::kill(pid_, SIGTERM);
        sleep_s(0.1);
      }
      if (::kill(pid_, 0) == 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
    }
    if (!log_.empty()) ::unlink(log_.c_str());
    if (!prefix_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all("/var/run/dpdk/" + prefix_, ec);
    }
  }

  Result<void> spawn(const Options& opt) {
    log_ = "/tmp/vfs-bench-testpmd-" + std::to_string(::getpid()) + ".log";
    prefix_ = "vfs-bench-tp-" + std::to_string(::getpid());
    const std::string lcores = "0," + std::to_string(opt.cpu);
    std::vector<std::string> args = {"stdbuf",
                                     "-oL",
                                     opt.testpmd,
                                     "-l",
                                     opt.cpu == 0 ? "0" : lcores,
                                     "--no-huge",
                                     "-m",
                                     "512",
                                     "--no-pci",
                                     "--file-prefix",
                                     prefix_,
                                     "--log-level=error",
                                     "--no-telemetry",
                                     "--vdev",
                                     "net_ring0",
                                     "--vdev",
                                     "net_ring1",
                                     "--",
                                     "-i",
                                     "--forward-mode=mac",
                                     "--nb-cores=1",
                                     "--rxq=1",
                                     "--txq=1",
                                     "--burst=32",
                                     "--txpkts=64",
                                     "--total-num-mbufs=16384",
                                     "--tx-ip=198.18.0.1,198.18.0.2",
                                     "--tx-udp=9,9",
                                     "--eth-peer=0,02:00:00:00:0b:01",
                                     "--eth-peer=1,02:00:00:00:0a:01"};
    if (opt.cpu == 0)
      return make_error(EINVAL, "--cpu 0 leaves testpmd no CPU besides its main lcore's");
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return make_error(errno, "pipe: {}", std::strerror(errno));
    const int log = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log < 0) return make_error(errno, "{}: {}", log_, std::strerror(errno));
    pid_ = ::fork();
    if (pid_ < 0) return make_error(errno, "fork: {}", std::strerror(errno));
    if (pid_ == 0) {
      ::dup2(p[0], STDIN_FILENO);
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp(argv[0], argv.data());
      std::_Exit(127);
    }
    ::close(p[0]);
    ::close(log);
    in_ = p[1];
    // Ready when the prompt shows; the forwarding lcore is the thread named rte-worker-N.
    for (int i = 0; i < 600; ++i) {
      if (output().find("testpmd> ") != std::string::npos) break;
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return make_error(ECHILD, "dpdk-testpmd exited: {}", tail());
      }
      sleep_s(0.1);
    }
    for (int t : tasks(pid_))
      if (task_name(pid_, t).rfind("rte-worker", 0) == 0) tid_ = t;
    if (tid_ < 0) return make_error(ESRCH, "dpdk-testpmd: no forwarding lcore thread: {}", tail());
    return ok();
  }

  Result<void> command(const std::string& line) {
    const std::string l = line + "\n";
    if (::write(in_, l.data(), l.size()) != static_cast<ssize_t>(l.size()))
      return make_error(errno, "dpdk-testpmd: cannot send '{}': {}", line, std::strerror(errno));
    return ok();
  }

  // The TX-packets of every port, summed, from the n-th `show port stats all` (from 1).
  Result<uint64_t> tx_packets(unsigned nth, unsigned ports) {
    for (int i = 0; i < 500; ++i) {
      std::vector<uint64_t> v;
      const std::string out = output();
      size_t at = 0;
      while ((at = out.find("TX-packets:", at)) != std::string::npos) {
        at += std::strlen("TX-packets:");
        v.push_back(std::strtoull(out.c_str() + at, nullptr, 10));
      }
      if (v.size() >= nth * ports) {
        uint64_t sum = 0;
        for (unsigned k = (nth - 1) * ports; k < nth * ports; ++k) sum += v[k];
        return sum;
      }
      sleep_s(0.01);
    }
    return make_error(ETIMEDOUT, "dpdk-testpmd printed no port statistics: {}", tail());
  }

  int pid() const { return pid_; }
  int forwarding_tid() const { return tid_; }

 private:
  std::string output() const {
    std::ifstream f(log_);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  std::string tail() const {
    const std::string o = output();
    return o.size() > 600 ? o.substr(o.size() - 600) : o;
  }

  int pid_ = -1, tid_ = -1, in_ = -1;
  std::string log_, prefix_;
};

Result<Rate> run_testpmd(const Options& opt) {
  Testpmd t;
  if (auto r = t.spawn(opt); !r.ok()) return r.error();
  if (auto r = t.command("start tx_first"); !r.ok()) return r.error();
  sleep_s(opt.warm);
  const uint64_t c0 = bench::thread_cpu_ns(t.pid(), t.forwarding_tid()), w0 = now_ns();
  if (auto r = t.command("show port stats all"); !r.ok()) return r.error();
  sleep_s(opt.seconds);
  const uint64_t c1 = bench::thread_cpu_ns(t.pid(), t.forwarding_tid()), w1 = now_ns();
  if (auto r = t.command("show port stats all"); !r.ok()) return r.error();
  auto f0 = t.tx_packets(1, 2);
  if (!f0.ok()) return f0.error();
  auto f1 = t.tx_packets(2, 2);
  if (!f1.ok()) return f1.error();
  (void)t.command("stop");
  (void)t.command("quit");
  return Rate{f1.value() - f0.value(), c1 - c0, w1 - w0};
}

}  // namespace

int main(int argc, char** argv) {
  log::set_level(log::Level::warn);
  Options opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--seconds")
      opt.seconds = std::strtod(v, nullptr);
    else if (k == "--warm")
      opt.warm = std::strtod(v, nullptr);
    else if (k == "--aces")
      opt.aces = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    else if (k == "--cpu")
      opt.cpu = std::atoi(v);
    else if (k == "--testpmd")
      opt.testpmd = v;
    else if (k == "--sim-capacity")
      opt.capacity = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    else if (k == "--flows")
      opt.flows = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    else {
      std::fprintf(stderr,
                   "usage: vfs-bench-fallback [--seconds S] [--warm S] [--aces N] [--cpu C] "
                   "[--testpmd PATH] [--sim-capacity N] [--flows N]\n");
      return 2;
    }
  }
  const int ncpu = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  if (opt.cpu < 0) opt.cpu = ncpu - 1;
  if (!(opt.seconds > 0) || opt.aces < 2 || opt.cpu >= ncpu || opt.flows < 1 ||
      opt.flows > kBurstPerPort) {
    std::fprintf(stderr,
                 "vfs-bench-fallback: --seconds > 0, --aces >= 2, --cpu < %d, --flows 1..%u\n",
                 ncpu, kBurstPerPort);
    return 2;
  }
  auto fail = [](const Error& e) {
    std::fprintf(stderr, "vfs-bench-fallback: %s\n", e.message.c_str());
    return 1;
  };
  slowpath::EalOptions eal;
  eal.file_prefix = "vfs-bench-fb-" + std::to_string(::getpid());
  if (auto r = slowpath::eal_init(eal); !r.ok()) return fail(r.error());

  auto sp = run_slow_path(opt);
  if (!sp.ok()) return fail(sp.error());
  auto pmd = run_testpmd(opt);
  if (!pmd.ok()) return fail(pmd.error());
  const Rate& a = sp.value().rate;
  const Rate& b = pmd.value();
  std::printf(
      "fallback: %zu of %zu rules refused by the NIC (sim capacity %u); full policy on both "
      "vEthernets: %u-entry IPv4 ACLs in and out (match at entry %u), port security, police "
      "in/out, storm control, access VLAN %u\n",
      sp.value().rules_sw, sp.value().rules, opt.capacity, opt.aces, opt.aces - 1, kVlan);
  std::printf(
      "fallback: 64-byte frames, closed loop on net_ring, 32 per port in flight, %u flow%s per "
      "port%s, one thread on CPU %d, %.1f s each\n",
      opt.flows, opt.flows == 1 ? "" : "s", opt.flows == 1 ? "" : " taking turns", opt.cpu,
      opt.seconds);
  std::printf(
      "fallback: slow path, every rule in software     %.3f Mpps per CPU-s  (%.3f Mpps per wall-s, "
      "thread on CPU %.0f %% of the time; drops %llu)\n",
      a.per_cpu_s() / 1e6, a.per_wall_s() / 1e6, 100 * a.cpu_share(),
      static_cast<unsigned long long>(sp.value().drops));
  std::printf(
      "fallback: slow path's verdict cache: %llu hits, %llu misses, %llu bypassed; %.1f %% of "
      "the frames forwarded with the decision of the frame before them (flow runs)\n",
      static_cast<unsigned long long>(sp.value().cache_hits),
      static_cast<unsigned long long>(sp.value().cache_misses),
      static_cast<unsigned long long>(sp.value().cache_bypassed),
      sp.value().forwarded ? 100.0 * static_cast<double>(sp.value().batched) /
                                 static_cast<double>(sp.value().forwarded)
                           : 0.0);
  std::printf(
      "fallback: dpdk-testpmd mac fwd                  %.3f Mpps per CPU-s  (%.3f Mpps per wall-s, "
      "thread on CPU %.0f %% of the time)\n",
      b.per_cpu_s() / 1e6, b.per_wall_s() / 1e6, 100 * b.cpu_share());
  std::printf("fallback: ratio slow path / testpmd             %.3fx (target >= 0.8x)\n",
              b.per_cpu_s() > 0 ? a.per_cpu_s() / b.per_cpu_s() : 0.0);
  std::error_code ec;
  std::filesystem::remove_all("/var/run/dpdk/" + eal.file_prefix, ec);
  return 0;
}
