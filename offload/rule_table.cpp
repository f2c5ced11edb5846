#include "offload/rule_table.h"

#include <stdexcept>

#include "base/log.h"
#include "offload/rte_flow_rule.h"

namespace vfs::offload {
namespace {
constexpr uint64_t kRetryNs = 2'000'000'000ULL;

bool transient(int code) { return code == ENOSPC || code == EBUSY || code == ETIMEDOUT || code == EAGAIN; }
bool stays_in_software(int code) { return transient(code) || code == ENOTSUP || code == EOPNOTSUPP; }
}  // namespace

const char* rule_state_name(RuleState s) {
  switch (s) {
    case RuleState::pending: return "pending";
    case RuleState::hw: return "hw";
    case RuleState::sw: return "sw";
    case RuleState::failed: return "failed";
  }
  return "?";
}

void RuleTable::install(RuleEntry& e) {
  RteFlowRule flow(e.spec);
  auto res = nic_.create(flow.attr(), flow.pattern(), flow.actions());
  if (res.ok()) {
    e.handle = res.value();
    e.state = RuleState::hw;
    e.reason.clear();
    return;
  }
  const auto& err = res.error();
  ++nic_errors_;
  e.reason = err.to_error().message;
  if (stays_in_software(err.code)) {
    e.state = RuleState::sw;
    e.retry_at_ns = transient(err.code) ? clock_.now_ns() + kRetryNs : 0;
    log::info("offload", "vEthernet{}: rule stays in software: {} [{}]", e.veth, e.reason, match_text(e.spec));
  } else {
    // EINVAL and friends mean our compiler built something the NIC calls malformed.
    e.state = RuleState::failed;
    log::error("offload", "vEthernet{}: NIC rejected rule as invalid: {} [{}]", e.veth, e.reason,
               match_text(e.spec));
  }
}

void RuleTable::uninstall(RuleEntry& e) {
  if (e.state != RuleState::hw) return;
  if (auto c = nic_.query_count(e.handle); c.ok()) {
    e.packets = std::max(e.packets, c.value().packets);
    e.bytes = std::max(e.bytes, c.value().bytes);
  }
  auto& t = retired_[e.veth];
  t.packets += e.packets;
  t.bytes += e.bytes;
  if (auto d = nic_.destroy(e.handle); !d.ok()) {
    ++nic_errors_;
    log::error("offload", "vEthernet{}: destroying rule failed: {}", e.veth, d.error().to_error().message);
  }
  e.state = RuleState::pending;
}

void RuleTable::acquire(const CompiledRule& r) {
  auto [it, inserted] = rules_.try_emplace(r.spec);
  RuleEntry& e = it->second;
  ++e.refs;
  if (!inserted) return;
  e.spec = r.spec;
  e.veth = r.veth;
  e.port = r.port;
  install(e);
}

void RuleTable::release(const RuleSpec& spec) {
  auto it = rules_.find(spec);
  if (it == rules_.end()) throw std::logic_error("RuleTable::release of a rule never acquired: " + match_text(spec));
  if (--it->second.refs > 0) return;
  uninstall(it->second);
  rules_.erase(it);
}

void RuleTable::reconcile(const std::vector<CompiledRule>& desired) {
  std::map<RuleSpec, std::pair<const CompiledRule*, uint32_t>> want;
  for (const auto& r : desired) {
    auto& w = want[r.spec];
    w.first = &r;
    ++w.second;
  }
  for (auto it = rules_.begin(); it != rules_.end();) {
    auto w = want.find(it->first);
    if (w == want.end()) {
      uninstall(it->second);
      it = rules_.erase(it);
    } else {
      it->second.refs = w->second.second;
      it->second.veth = w->second.first->veth;
      want.erase(w);
      ++it;
    }
  }
  for (const auto& [spec, w] : want) {
    auto& e = rules_[spec];
    e.spec = spec;
    e.veth = w.first->veth;
    e.port = w.first->port;
    e.refs = w.second;
    install(e);
  }
}

void RuleTable::clear() {
  for (auto& [spec, e] : rules_) uninstall(e);
  rules_.clear();
}

void RuleTable::poll_counters(const std::function<void(const RuleEntry&)>& on_active) {
  const uint64_t now = clock_.now_ns();
  for (auto& [spec, e] : rules_) {
    if (e.state != RuleState::hw) continue;
    auto c = nic_.query_count(e.handle);
    if (!c.ok()) continue;
    if (c.value().packets > e.packets) {
      e.packets = c.value().packets;
      e.bytes = c.value().bytes;
      e.last_hit_ns = now;
      on_active(e);
    }
  }
}

void RuleTable::retry_refused() {
  const uint64_t now = clock_.now_ns();
  for (auto& [spec, e] : rules_) {
    if (e.state == RuleState::sw && e.retry_at_ns != 0 && e.retry_at_ns <= now) install(e);
  }
}

}  // namespace vfs::offload
