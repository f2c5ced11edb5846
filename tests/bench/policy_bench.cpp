// tests/bench/policy_bench.cpp (vfs-bench-policy) prints what issue 5's pipeline costs on
// one core, compiling real profiles with offload/rule_compiler.h and installing them
// through offload/rule_table.h into the sim's rule table (zero insertion latency):
//  - compile + insert rate for V vEthernets x A ACL entries (target >= 1.5 M rules/s);
//  - one ACE changed: time to converge (recompile, diff, NIC changes) and rules touched
//    (target < 100 ms; only the rules that depended on the entry);
//  - memory per installed rule, compiler's table and sim together (target < 1 KiB).
// Figures only; nothing is asserted.
#include <malloc.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "base/clock.h"
#include "drivers/sim/sim_flow_backend.h"
#include "offload/rule_compiler.h"
#include "offload/rule_table.h"

using namespace vfs;
using namespace vfs::offload;

namespace {

// CPU time of this thread: the machine is shared, and the figure is what one core costs.
double wall_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
size_t heap_in_use() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

vsm::ResolvedAcl make_acl(uint32_t entries, uint16_t tweak) {
  vsm::ResolvedAcl acl;
  acl.name = "web-in";
  acl.family = vsm::AclFamily::ipv4;
  for (uint32_t i = 0; i < entries; ++i) {
    vsm::ResolvedAce e;
    e.seq = 10 * (i + 1);
    e.permit = i % 3 != 0;
    e.protocol = 6;
    e.src.addr = {10, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 0};
    e.src.mask = {255, 255, 255, 0};
    e.dst_port = {vsm::PortMatch::Op::eq,
                  static_cast<uint16_t>(1000 + i + (i == entries / 2 ? tweak : 0)), 0};
    acl.entries.push_back(e);
  }
  return acl;
}

PolicySnapshot make_policy(uint32_t veths, uint32_t aces, uint16_t tweak, uint64_t gen) {
  PolicySnapshot s;
  s.generation = gen;
  s.vlans.set(10);
  s.ports.resize(veths + 1);
  s.ports[0] = uplink_port_policy();
  const vsm::ResolvedAcl acl = make_acl(aces, tweak);
  for (uint32_t v = 1; v <= veths; ++v) {
    s.ports[v] = access_port_policy(v, 10, "vEthernet" + std::to_string(v));
    s.ports[v].cfg.ip_acl_in = acl;
  }
  return s;
}

std::vector<CompiledRule> compile_all(const PolicySnapshot& s) {
  std::vector<CompiledRule> out;
  for (uint16_t p = 0; p < s.ports.size(); ++p) compile_port_rules(s, p, out);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t veths = 1000, aces = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--veths") == 0)
      veths = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (std::strcmp(argv[i], "--aces") == 0)
      aces = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
  }
  // The sim addresses ports by ethdev id: one per vEthernet plus the uplink.
  std::vector<uint16_t> ids;
  for (uint32_t p = 0; p <= veths; ++p) ids.push_back(static_cast<uint16_t>(p));
  drivers::sim::FlowTableOptions fo;
  fo.capacity = 4'000'000;
  auto t = drivers::sim::FlowTable::make(ids, fo);
  if (!t) {
    std::fprintf(stderr, "vfs-bench-policy: %s\n", t.error().message.c_str());
    return 1;
  }
  std::mutex mu;
  drivers::sim::SimFlowBackend nic(mu, *t.value(), drivers::ESwitchOptions{});
  MonotonicClock clock;
  RuleTable table(nic, clock);

  const size_t heap0 = heap_in_use();
  const PolicySnapshot before = make_policy(veths, aces, 0, 1);
  double t0 = wall_s();
  std::vector<CompiledRule> desired = compile_all(before);
  const double compile_s = wall_s() - t0;
  t0 = wall_s();
  table.reconcile(desired);
  const double insert_s = wall_s() - t0;
  size_t hw = 0;
  for (const auto& [spec, e] : table.entries()) hw += e.state == RuleState::hw;
  const double per_rule =
      static_cast<double>(heap_in_use() - heap0) / static_cast<double>(desired.size());
  std::printf("policy: %u vEthernets x %u ACEs -> %zu rules (%zu in hw)\n", veths, aces,
              desired.size(), hw);
  std::printf(
      "policy: compile %.3f s, insert %.3f s of CPU: %.2f M rules/s compiled + inserted (target >= "
      "1.5 M)\n",
      compile_s, insert_s, static_cast<double>(desired.size()) / (compile_s + insert_s) / 1e6);
  std::printf(
      "policy: memory per installed rule (compiled + rule table + sim): %.0f bytes (target < "
      "1024)\n",
      per_rule);

  // One ACE changed in the ACL every vEthernet uses.
  const size_t created0 = t.value()->size();
  const PolicySnapshot after = make_policy(veths, aces, 7, 2);
  t0 = wall_s();
  std::vector<CompiledRule> desired2 = compile_all(after);
  table.reconcile(desired2);
  const double converge_s = wall_s() - t0;
  // Rules touched: those in one table and not the other.
  std::vector<RuleSpec> a, b;
  for (const auto& c : desired) a.push_back(c.spec);
  for (const auto& c : desired2) b.push_back(c.spec);
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::vector<RuleSpec> gone, added;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(gone));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(added));
  std::printf(
      "policy: one ACE changed: converged in %.1f ms of CPU (target < 100 ms); rules touched: %zu "
      "removed + %zu "
      "added of %zu (one per vEthernet using it: %u); NIC rules %zu -> %zu\n",
      converge_s * 1e3, gone.size(), added.size(), desired2.size(), veths, created0,
      t.value()->size());
  return 0;
}
