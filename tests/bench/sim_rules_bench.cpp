// tests/bench/sim_rules_bench.cpp measures the sim's rule table on one core, with no
// insertion latency: rules/s created (rte_flow arrays -> the sim's compiled form -> its
// tuple-space index), rules/s destroyed, frames/s classified against the full table, and
// memory per installed rule. The rules have the shapes of vfswitch's pipeline: per-vEth
// port security (group 0), ACL entries (group 1) and L2 forwarding (group 2). Rates are
// per second of this thread's CPU time (the figure for one core, whatever else runs on
// the machine), with wall-clock rates beside them. A second part isolates the sim's share
// of issue 5's compile + insert path: offload::RuleSpecs of the pipeline's shapes for V
// vEthernets x A ACL entries translated into rte_flow arrays (offload/rte_flow_rule.h),
// created in the sim and destroyed, per rule, with the sim's heap per installed rule. It
// prints figures and asserts nothing timed.
//
//   vfs-bench-sim-rules [--rules N] [--insert-only] [--veths V] [--aces A]
//     N: rules to install (default 1000000); --insert-only: only the insertion figures;
//     V x A: the translated rules (default 1000 x 100, as vfs-bench-policy)
#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <rte_byteorder.h>

#include "base/huge_pages.h"
#include "drivers/sim/sim_flow_backend.h"
#include "drivers/sim/sim_flow_table.h"
#include "offload/rte_flow_rule.h"
#include "offload/rule_spec.h"

using namespace vfs::drivers;
using namespace vfs::drivers::sim;
using Clock = std::chrono::steady_clock;

namespace {

constexpr unsigned kVfs = 15;
constexpr uint16_t kFirstEthdev = 0;

double thread_cpu_s() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// CPU and wall time of a stretch of work, from construction to stop() (or to now).
struct Timer {
  double cpu0 = thread_cpu_s();
  Clock::time_point wall0 = Clock::now();
  double cpu_s = -1, wall_s = -1;
  void stop() {
    cpu_s = cpu();
    wall_s = wall();
  }
  double cpu() const { return cpu_s >= 0 ? cpu_s : thread_cpu_s() - cpu0; }
  double wall() const {
    return wall_s >= 0 ? wall_s : std::chrono::duration<double>(Clock::now() - wall0).count();
  }
};

std::string rate(double n, const Timer& t, const char* unit) {
  char buf[128];
  std::snprintf(buf, sizeof(buf), "%.2f M %s/s per CPU second (%.2f M/s wall)", n / t.cpu() / 1e6,
                unit, n / t.wall() / 1e6);
  return buf;
}

// malloc's blocks and the tables' own huge-page blocks (base/huge_pages.h), whole.
size_t heap_in_use() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd + vfs::huge_bytes_mapped();
}

// One rule's rte_flow arrays and the specs they point at.
struct RuleSpec {
  rte_flow_attr attr{};
  rte_flow_item_ethdev port{};
  rte_flow_item_eth eth{}, eth_mask{};
  rte_flow_item_vlan vlan{};
  rte_flow_item_ipv4 ip{}, ip_mask{};
  rte_flow_item_tcp tcp{}, tcp_mask{};
  rte_flow_action_jump jump{};
  rte_flow_action_ethdev out{};
  rte_flow_item items[6]{};
  rte_flow_action actions[4]{};
};

void set_mac(rte_ether_addr& a, uint32_t n) {
  const uint8_t b[6] = {0x02,
                        0,
                        static_cast<uint8_t>(n >> 24),
                        static_cast<uint8_t>(n >> 16),
                        static_cast<uint8_t>(n >> 8),
                        static_cast<uint8_t>(n)};
  std::memcpy(a.addr_bytes, b, 6);
}

bool is_security(uint32_t i) { return i % 100 == 0; }
bool is_l2(uint32_t i) { return !is_security(i) && i % 4 == 1; }
bool is_acl(uint32_t i) { return !is_security(i) && !is_l2(i); }

// The vEth (representor ethdev) of port-security and ACL rule i.
uint16_t port_of(uint32_t i) {
  return static_cast<uint16_t>(kFirstEthdev + 1 + (is_security(i) ? i / 100 : i) % kVfs);
}

// Rule i of the pipeline: 1 in 100 port security, 1 in 4 L2, the rest ACL entries.
void make_rule(RuleSpec& r, uint32_t i, std::mt19937& rng) {
  r.attr.transfer = 1;
  int n = 0, a = 0;
  r.port.port_id = port_of(i);
  if (i % 100 == 0) {  // port security: a source MAC of this vEth, then the ACL table
    r.attr.group = 0;
    r.items[n++] = {RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &r.port, nullptr, nullptr};
    set_mac(r.eth.hdr.src_addr, i);
    std::memset(r.eth_mask.hdr.src_addr.addr_bytes, 0xff, 6);
    r.items[n++] = {RTE_FLOW_ITEM_TYPE_ETH, &r.eth, nullptr, &r.eth_mask};
    r.jump.group = 1;
    r.actions[a++] = {RTE_FLOW_ACTION_TYPE_JUMP, &r.jump};
  } else if (i % 4 == 1) {  // L2: a destination MAC (learned or a vEth's own)
    r.attr.group = 2;
    set_mac(r.eth.hdr.dst_addr, i);
    std::memset(r.eth_mask.hdr.dst_addr.addr_bytes, 0xff, 6);
    r.items[n++] = {RTE_FLOW_ITEM_TYPE_ETH, &r.eth, nullptr, &r.eth_mask};
    r.out.port_id = static_cast<uint16_t>(kFirstEthdev + 1 + i % kVfs);
    r.actions[a++] = {RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &r.out};
  } else {  // ACL entry: addresses under a few prefix lengths, a TCP port
    r.attr.group = 1;
    r.attr.priority = i % 8;
    r.items[n++] = {RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &r.port, nullptr, nullptr};
    r.items[n++] = {RTE_FLOW_ITEM_TYPE_ETH, nullptr, nullptr, nullptr};
    static const uint32_t kPrefixes[] = {32, 24, 16};
    const uint32_t sl = kPrefixes[rng() % 3], dl = kPrefixes[rng() % 3];
    const uint32_t smask = ~0u << (32 - sl), dmask = ~0u << (32 - dl);
    r.ip.hdr.src_addr = rte_cpu_to_be_32(0x0a000000 + i);
    r.ip_mask.hdr.src_addr = rte_cpu_to_be_32(smask);
    r.ip.hdr.dst_addr = rte_cpu_to_be_32(0xac100000 + i * 7);
    r.ip_mask.hdr.dst_addr = rte_cpu_to_be_32(dmask);
    r.ip.hdr.next_proto_id = 6;
    r.ip_mask.hdr.next_proto_id = 0xff;
    r.items[n++] = {RTE_FLOW_ITEM_TYPE_IPV4, &r.ip, nullptr, &r.ip_mask};
    r.tcp.hdr.dst_port = rte_cpu_to_be_16(static_cast<uint16_t>(i));
    r.tcp_mask.hdr.dst_port = 0xffff;
    r.items[n++] = {RTE_FLOW_ITEM_TYPE_TCP, &r.tcp, nullptr, &r.tcp_mask};
    r.actions[a++] = {RTE_FLOW_ACTION_TYPE_COUNT, nullptr};
    r.jump.group = 2;
    r.actions[a++] = {i % 3 ? RTE_FLOW_ACTION_TYPE_JUMP : RTE_FLOW_ACTION_TYPE_DROP,
                      i % 3 ? &r.jump : nullptr};
  }
  r.items[n] = {RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr, nullptr};
  r.actions[a] = {RTE_FLOW_ACTION_TYPE_END, nullptr};
}

std::unique_ptr<FlowTable> make_table(uint32_t capacity, ClassifierKind kind) {
  std::vector<uint16_t> ports;
  for (uint16_t p = 0; p <= kVfs; ++p) ports.push_back(static_cast<uint16_t>(kFirstEthdev + p));
  FlowTableOptions opt;
  opt.capacity = capacity;
  opt.classifier = kind;
  auto t = FlowTable::make(std::move(ports), opt);
  if (!t) {
    std::fprintf(stderr, "vfs-bench-sim-rules: %s\n", t.error().message.c_str());
    std::exit(2);
  }
  return std::move(t.value());
}

// A TCP frame that walks the whole pipeline: from the vEth of ACL entry `acl`, with the
// source MAC of that vEth's port-security rule `sec`, to the MAC of L2 rule `l2`, with the
// ACL entry's exact addresses and port.
struct Probe {
  uint16_t sim_port;
  std::vector<uint8_t> frame;
};

Probe probe(uint32_t acl, uint32_t sec, uint32_t l2) {
  const uint32_t i = acl;
  std::vector<uint8_t> f(64, 0);
  const uint32_t src = 0x0a000000 + i, dst = 0xac100000 + i * 7;
  rte_ether_addr d{}, s{};
  set_mac(d, l2);
  set_mac(s, sec);
  std::memcpy(f.data(), d.addr_bytes, 6);
  std::memcpy(f.data() + 6, s.addr_bytes, 6);
  f[12] = 0x08, f[13] = 0x00;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45, ip[8] = 64, ip[9] = 6;
  for (int k = 0; k < 4; ++k) {
    ip[12 + k] = static_cast<uint8_t>(src >> (24 - 8 * k));
    ip[16 + k] = static_cast<uint8_t>(dst >> (24 - 8 * k));
  }
  uint8_t* tcp = ip + 20;
  tcp[2] = static_cast<uint8_t>(i >> 8), tcp[3] = static_cast<uint8_t>(i);
  tcp[12] = 0x50;
  return Probe{static_cast<uint16_t>(port_of(i) - kFirstEthdev), f};
}

// Probes for rules 0..rules-1: ACL entries whose vEth has a port-security rule.
std::vector<Probe> probes(uint32_t rules) {
  std::vector<Probe> out;
  std::mt19937 rng(7);
  for (int tries = 0; out.size() < 1024 && tries < 100000; ++tries) {
    const uint32_t i = rng() % rules;
    if (!is_acl(i)) continue;
    const uint32_t sec = 100 * ((port_of(i) - kFirstEthdev - 1) % kVfs);
    uint32_t l2 = (rng() % rules) | 1;
    while (l2 < rules && !is_l2(l2)) l2 += 4;
    if (sec >= rules || l2 >= rules) continue;
    out.push_back(probe(i, sec, l2));
  }
  return out;
}

struct ClassifyResult {
  Timer time;
  unsigned forwarded = 0, dropped = 0, missed = 0;
};

// The rules of the pipeline for `veths` vEthernets (ethdev ids 1..veths, VLAN 10) with an
// IPv4 ACL of `aces` entries each, shaped as offload/rule_compiler.h shapes them: ingress
// (port security, tagging), MAC ACL default, the ACEs (in_port, tag, /24 source, TCP
// destination port, COUNT and JUMP or DROP), the QoS hop and L2 delivery.
std::vector<vfs::offload::RuleSpec> pipeline_specs(uint32_t veths, uint32_t aces) {
  namespace o = vfs::offload;
  std::vector<o::RuleSpec> out;
  out.reserve(size_t{veths} * (aces + 4));
  for (uint32_t v = 1; v <= veths; ++v) {
    const uint16_t port = static_cast<uint16_t>(v);
    const o::Mac mac = {0x02, 0, 0, 0, static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
    o::RuleSpec in;
    in.group = o::kGroupIngress;
    in.priority = 3;
    in.match.in_port = port;
    in.match.eth_src = mac;
    in.match.has_vlan = false;
    in.actions = {o::act_count(), o::act_push_vlan(), o::act_set_vid(10),
                  o::act_jump(o::kGroupMacAclIn)};
    out.push_back(in);
    o::RuleSpec mac_acl;
    mac_acl.group = o::kGroupMacAclIn;
    mac_acl.priority = 1000;
    mac_acl.match.in_port = port;
    mac_acl.match.tagged = true;
    mac_acl.actions = {o::act_jump(o::kGroupAclIn)};
    out.push_back(mac_acl);
    for (uint32_t a = 0; a < aces; ++a) {
      o::RuleSpec ace;
      ace.group = o::kGroupAclIn;
      ace.priority = a;
      ace.match.in_port = port;
      ace.match.tagged = true;
      ace.match.ether_type = 0x0800;
      ace.match.l3 = 4;
      o::IpMatch src;
      src.addr = {10, static_cast<uint8_t>(a >> 8), static_cast<uint8_t>(a), 0};
      src.mask = {255, 255, 255, 0};
      ace.match.ip_src = src;
      ace.match.ip_proto = 6;
      ace.match.l4_dst = o::U16Match{static_cast<uint16_t>(1000 + a), 0xffff};
      ace.actions = {o::act_count(), a % 3 ? o::act_jump(o::kGroupQosIn) : o::act_drop()};
      out.push_back(ace);
    }
    o::RuleSpec qos;
    qos.group = o::kGroupQosIn;
    qos.priority = 1000;
    qos.match.in_port = port;
    qos.match.tagged = true;
    qos.actions = {o::act_jump(o::kGroupL2)};
    out.push_back(qos);
    o::RuleSpec l2;
    l2.group = o::kGroupL2;
    l2.priority = 2;
    l2.match.eth_dst = mac;
    l2.match.tagged = true;
    l2.match.vlan_vid = 10;
    l2.actions = {o::act_count(), o::act_pop_vlan(), o::act_port(port)};
    out.push_back(l2);
  }
  return out;
}

// RuleSpec -> rte_flow arrays -> the sim's create and destroy, as offload/rule_table.cpp
// drives them, each step timed alone; and the sim's heap per installed rule.
int translate_and_install(uint32_t veths, uint32_t aces) {
  const std::vector<vfs::offload::RuleSpec> specs = pipeline_specs(veths, aces);
  const double n = static_cast<double>(specs.size());
  std::vector<uint16_t> ports;
  for (uint32_t p = 0; p <= veths; ++p) ports.push_back(static_cast<uint16_t>(p));
  FlowTableOptions opt;
  opt.capacity = static_cast<uint32_t>(specs.size());
  auto made = FlowTable::make(std::move(ports), opt);
  if (!made) {
    std::fprintf(stderr, "vfs-bench-sim-rules: %s\n", made.error().message.c_str());
    return 2;
  }
  FlowTable& table = *made.value();
  std::vector<FlowHandle> handles(specs.size());

  Timer translate;
  for (const auto& spec : specs) {
    vfs::offload::RteFlowRule flow(spec);
    asm volatile("" : : "r"(&flow) : "memory");  // the arrays are built, not optimised away
  }
  translate.stop();

  double create_cpu = 0, destroy_cpu = 0;
  size_t sim_bytes = 0;
  for (int pass = 1; pass <= 2; ++pass) {
    const size_t heap0 = heap_in_use();
    Timer create;
    for (size_t i = 0; i < specs.size(); ++i) {
      vfs::offload::RteFlowRule flow(specs[i]);
      auto h = table.create(flow.attr(), flow.pattern(), flow.actions());
      if (!h) {
        std::fprintf(stderr, "vfs-bench-sim-rules: create: %s\n", h.error().message.c_str());
        return 1;
      }
      handles[i] = h.value();
    }
    create.stop();
    if (pass == 1) sim_bytes = heap_in_use() - heap0;
    Timer destroy;
    for (const FlowHandle h : handles) (void)table.destroy(h);
    destroy.stop();
    // Pass 2 reuses the memory pass 1 left: the daemon's steady state.
    if (pass == 2) create_cpu = create.cpu(), destroy_cpu = destroy.cpu();
  }
  const double per = 1e9 / n;
  std::printf(
      "RuleSpec -> rte_flow -> sim, %u vEthernets x %u ACEs = %zu rules (ns of CPU per rule):\n"
      "  translate %.0f; translate + sim create %.0f (%.2f M rules/s); sim destroy %.0f; "
      "all three %.0f (aim < 300)\n"
      "  sim heap per installed rule: %.0f bytes (aim < 400)\n",
      veths, aces, specs.size(), translate.cpu() * per, create_cpu * per, n / create_cpu / 1e6,
      destroy_cpu * per, (create_cpu + destroy_cpu) * per, static_cast<double>(sim_bytes) / n);
  return 0;
}

ClassifyResult classify_all(FlowTable& t, unsigned frames, const std::vector<Probe>& ps) {
  std::vector<uint8_t> buf(64 + 128);
  ClassifyResult r;
  for (unsigned k = 0; k < frames; ++k) {
    const Probe& p = ps[k % ps.size()];
    std::memcpy(buf.data() + 128, p.frame.data(), p.frame.size());
    PacketBuffer pkt{buf.data() + 128, static_cast<uint32_t>(p.frame.size()), 128};
    switch (t.classify(p.sim_port, pkt).kind) {
      case Verdict::Kind::forward:
        ++r.forwarded;
        break;
      case Verdict::Kind::drop:
        ++r.dropped;
        break;
      case Verdict::Kind::miss:
        ++r.missed;
        break;
    }
  }
  r.time.stop();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t n = 1'000'000;
  uint32_t veths = 1000, aces = 100;
  bool insert_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rules") == 0 && i + 1 < argc) {
      n = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (std::strcmp(argv[i], "--veths") == 0 && i + 1 < argc) {
      veths = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (std::strcmp(argv[i], "--aces") == 0 && i + 1 < argc) {
      aces = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (std::strcmp(argv[i], "--insert-only") == 0) {
      insert_only = true;
    } else {
      std::fprintf(stderr,
                   "usage: vfs-bench-sim-rules [--rules N] [--insert-only] [--veths V] "
                   "[--aces A]\n");
      return 2;
    }
  }
  if (n == 0) n = 1;
  veths = std::clamp<uint32_t>(veths, 1, 65534);

  std::mt19937 rng(1);
  std::vector<RuleSpec> specs(n);
  for (uint32_t i = 0; i < n; ++i) make_rule(specs[i], i, rng);

  // 1. Straight into the table, twice: into fresh memory, then into memory the table
  // has already used (the steady state of a long-running daemon).
  auto table = make_table(n, ClassifierKind::indexed);
  std::vector<FlowHandle> handles(n);
  for (int pass = 1; pass <= 2; ++pass) {
    if (pass == 2) table->clear();
    const size_t heap0 = heap_in_use();
    Timer t;
    for (uint32_t i = 0; i < n; ++i) {
      auto h = table->create(specs[i].attr, specs[i].items, specs[i].actions);
      if (!h) {
        std::fprintf(stderr, "vfs-bench-sim-rules: create: %s\n", h.error().message.c_str());
        return 1;
      }
      handles[i] = h.value();
    }
    std::printf("sim flow table, %s: %u rules created: %s (target >= 1.5 M)\n",
                pass == 1 ? "fresh memory" : "reused memory", n, rate(n, t, "rules").c_str());
    if (pass == 1)
      std::printf("sim flow table: memory per installed rule: %.0f bytes (target < 1024)\n",
                  static_cast<double>(heap_in_use() - heap0) / n);
  }

  const auto ps = insert_only ? std::vector<Probe>{} : probes(n);
  if (!ps.empty()) {
    const unsigned frames = 2'000'000;
    const ClassifyResult c = classify_all(*table, frames, ps);
    std::printf(
        "sim flow table: classify through 3 groups of %u rules: %s "
        "(%u forwarded, %u dropped, %u missed)\n",
        n, rate(frames, c.time, "frames").c_str(), c.forwarded, c.dropped, c.missed);
  }

  {
    Timer t;
    for (const FlowHandle h : handles) (void)table->destroy(h);
    std::printf("sim flow table: %u rules destroyed: %s\n", n, rate(n, t, "rules").c_str());
  }

  // 2. Through the FlowBackend face (its mutex, its knobs at zero).
  {
    table->clear();
    std::mutex mu;
    SimFlowBackend backend(mu, *table, ESwitchOptions{});
    Timer t;
    for (const RuleSpec& r : specs)
      if (!backend.create(r.attr, r.items, r.actions)) return 1;
    std::printf("sim FlowBackend::create: %s\n", rate(n, t, "rules").c_str());
  }

  // 3. The sim's share of the offload path, translation included.
  if (int rc = translate_and_install(veths, aces); rc != 0) return rc;

  if (insert_only) return 0;

  // 4. The linear walk the index replaced, on a table small enough to finish.
  const uint32_t small = std::min<uint32_t>(n, 10'000);
  auto indexed = make_table(small, ClassifierKind::indexed);
  auto linear = make_table(small, ClassifierKind::linear);
  for (uint32_t i = 0; i < small; ++i) {
    (void)indexed->create(specs[i].attr, specs[i].items, specs[i].actions);
    (void)linear->create(specs[i].attr, specs[i].items, specs[i].actions);
  }
  const auto small_ps = probes(small);
  if (!small_ps.empty()) {
    const ClassifyResult ri = classify_all(*indexed, 200'000, small_ps);
    const ClassifyResult rl = classify_all(*linear, 20'000, small_ps);
    const double fi = 200'000 / ri.time.cpu(), fl = 20'000 / rl.time.cpu();
    std::printf(
        "classify through %u rules: indexed %.2f M frames/s, linear %.3f M frames/s "
        "per CPU second (%.0fx)\n",
        small, fi / 1e6, fl / 1e6, fi / fl);
  }
  return 0;
}
