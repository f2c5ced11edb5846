#include "offload/rule_table.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/core.h>

#include "base/log.h"
#include "offload/rte_flow_rule.h"

namespace vfs::offload {
namespace {
constexpr uint64_t kRetryBaseNs = 100'000'000ULL;    // first retry of a transient refusal
constexpr uint64_t kRetryMaxNs = 10'000'000'000ULL;  // back-off ceiling
constexpr size_t kRefusedForGoodMax = 1 << 16;

bool transient(int code) {
  return code == EBUSY || code == ETIMEDOUT || code == EAGAIN || code == ENOMEM;
}
bool unsupported(int code) { return code == ENOTSUP || code == EOPNOTSUPP; }
bool stays_in_software(int code) { return transient(code) || code == ENOSPC || unsupported(code); }

bool uses_meter(const RuleSpec& s, uint32_t id) {
  return std::any_of(s.actions.begin(), s.actions.end(), [&](const RuleAction& a) {
    return a.kind == ActionKind::meter && a.arg == id;
  });
}

std::string rule_text(const RuleEntry& e) {
  return fmt::format("group {} priority {} [{}]", e.spec.group, e.spec.priority,
                     match_text(e.spec));
}

std::string nic_words(const drivers::FlowError& err) { return err.to_error().message; }
}  // namespace

const char* rule_state_name(RuleState s) {
  switch (s) {
    case RuleState::pending:
      return "pending";
    case RuleState::hw:
      return "hw";
    case RuleState::sw:
      return "sw";
    case RuleState::failed:
      return "failed";
  }
  return "?";
}

std::string chain_name(ChainId c) {
  switch (c >> 16) {
    case 1:
      return fmt::format("input chain of port {}", c & 0xffffu);
    case 2:
      return fmt::format("output chain of port {}", c & 0xffffu);
    default:
      return fmt::format("chain {:#x}", c);
  }
}

// ---- entries and the chain index ------------------------------------------------------

RuleEntry& RuleTable::create_entry(const CompiledRule& r, uint32_t refs) {
  RuleEntry& e = rules_.try_emplace(r.spec).first->second;
  e.spec = r.spec;
  e.veth = r.veth;
  e.port = r.port;
  e.drop_reason = r.drop_reason;
  e.acl = r.acl;
  e.ace_seq = r.ace_seq;
  e.chain = r.chain;
  e.needs = r.needs;
  e.refs = refs;
  // Frames a rule hands to the slow path are counted there (its rx), not twice.
  e.counts_rx =
      r.spec.group == kGroupIngress && r.spec.match.in_port && *r.spec.match.in_port == r.port &&
      std::none_of(r.spec.actions.begin(), r.spec.actions.end(),
                   [](const RuleAction& a) { return a.kind == ActionKind::to_slow_path; });
  for (const auto& a : r.spec.actions) {
    if (a.kind != ActionKind::port && a.kind != ActionKind::mirror) continue;
    uint32_t v = 0;
    if (auto it = port_veths_.find(static_cast<uint16_t>(a.arg)); it != port_veths_.end())
      v = it->second;
    else if (a.arg == r.port)
      v = r.veth;
    if (v != 0 && std::find(e.tx_veths.begin(), e.tx_veths.end(), v) == e.tx_veths.end())
      e.tx_veths.push_back(v);
  }
  link(e);
  return e;
}

void RuleTable::link(RuleEntry& e) {
  for (ChainId c : e.needs) chains_[c].needers.insert(&e);
  if (e.chain == kNoChain) return;
  Chain& ch = chains_[e.chain];
  ch.members.insert(&e);
  if (e.state == RuleState::hw) {
    ++ch.in_hw;
    return;
  }
  // A member that is not in the NIC makes the chain incomplete: whatever sends frames
  // into it must leave first.
  std::vector<RuleEntry*> needers(ch.needers.begin(), ch.needers.end());
  for (RuleEntry* n : needers) {
    if (n->state != RuleState::hw) continue;
    take_out(*n);
    hold_back(*n, "");
  }
}

void RuleTable::unlink(RuleEntry& e) {
  held_.erase(&e);
  refused_.erase(&e);
  auto drop_if_empty = [&](std::map<ChainId, Chain>::iterator it) {
    if (it->second.members.empty() && it->second.needers.empty()) chains_.erase(it);
  };
  for (ChainId c : e.needs) {
    if (auto it = chains_.find(c); it != chains_.end()) {
      it->second.needers.erase(&e);
      drop_if_empty(it);
    }
  }
  if (e.chain == kNoChain) return;
  if (auto it = chains_.find(e.chain); it != chains_.end()) {
    if (it->second.members.erase(&e) && e.state == RuleState::hw) --it->second.in_hw;
    drop_if_empty(it);
  }
}

void RuleTable::erase_entry(std::map<RuleSpec, RuleEntry>::iterator it) {
  RuleEntry& e = it->second;
  take_out(e);
  unlink(e);
  add_rule_counts(retired_, e);
  rules_.erase(it);
}

bool RuleTable::chain_complete(ChainId c) const {
  auto it = chains_.find(c);
  return it == chains_.end() || it->second.in_hw == it->second.members.size();
}

std::string RuleTable::chain_reason(ChainId c) const {
  const Chain& ch = chains_.at(c);
  const RuleEntry* missing = nullptr;
  for (const RuleEntry* m : ch.members) {
    if (m->state == RuleState::hw) continue;
    if (!missing || (missing->nic_errno == 0 && m->nic_errno != 0)) missing = m;
  }
  if (!missing) return "";
  return fmt::format("held in software: the {} is incomplete: rule {} is {}: {}", chain_name(c),
                     rule_text(*missing), rule_state_name(missing->state),
                     missing->reason.empty() ? "not yet installed" : missing->reason);
}

std::string RuleTable::held_back_by(const RuleEntry& e) const {
  for (const auto& a : e.spec.actions) {
    if (a.kind != ActionKind::meter) continue;
    auto m = meters_.find(a.arg);
    if (m == meters_.end())
      return fmt::format("held in software: meter {} is not configured", a.arg);
    if (!m->second.installed)
      return fmt::format(
          "held in software: meter {} ({} policer of vEthernet{}) is not in the NIC: {}", a.arg,
          m->second.meter.input ? "input" : "output", m->second.meter.veth,
          m->second.reason.empty() ? "not yet created" : m->second.reason);
  }
  for (ChainId c : e.needs)
    if (!chain_complete(c)) return chain_reason(c);
  return "";
}

// ---- in and out of the NIC ------------------------------------------------------------

void RuleTable::hold_back(RuleEntry& e, std::string why) {
  e.state = RuleState::sw;
  e.nic_errno = 0;
  e.reason = why.empty() ? held_back_by(e) : std::move(why);
  held_.insert(&e);
  refused_.erase(&e);
}

void RuleTable::put_in(RuleEntry& e) {
  if (e.state == RuleState::hw) return;
  if (auto why = held_back_by(e); !why.empty()) {
    hold_back(e, std::move(why));
    return;
  }
  if (auto f = refused_for_good_.find(e.spec); f != refused_for_good_.end()) {
    record_refusal(e, f->second);
    return;
  }
  RteFlowRule flow(e.spec);
  auto res = nic_.create(flow.attr(), flow.pattern(), flow.actions());
  if (!res.ok()) {
    ++nic_errors_;
    record_refusal(e, res.error());
    return;
  }
  e.handle = res.value();
  e.state = RuleState::hw;
  e.reason.clear();
  e.nic_errno = 0;
  e.attempts = 0;
  e.retry_at_ns = 0;
  e.hw_packets = e.hw_bytes = 0;
  held_.erase(&e);
  refused_.erase(&e);
  if (e.chain == kNoChain) return;
  Chain& ch = chains_[e.chain];
  if (++ch.in_hw != ch.members.size()) return;
  // The chain is complete: the rules it held back may follow it in.
  std::vector<RuleEntry*> needers(ch.needers.begin(), ch.needers.end());
  for (RuleEntry* n : needers)
    if (n->state != RuleState::hw && held_.count(n)) put_in(*n);
}

void RuleTable::record_refusal(RuleEntry& e, const drivers::FlowError& err) {
  e.reason = nic_words(err);
  e.nic_errno = err.code;
  held_.erase(&e);
  refused_.erase(&e);
  e.state = stays_in_software(err.code) ? RuleState::sw : RuleState::failed;
  if (transient(err.code)) {
    ++e.attempts;
    e.retry_at_ns = clock_.now_ns() + backoff_ns(e.attempts);
    next_retry_ns_ = std::min(next_retry_ns_, e.retry_at_ns);
    refused_.insert(&e);
  } else if (err.code == ENOSPC) {
    e.refused_at_gen = destroy_gen_;
    refused_.insert(&e);
  } else if (unsupported(err.code) || err.code == EINVAL) {
    if (refused_for_good_.size() >= kRefusedForGoodMax) refused_for_good_.clear();
    refused_for_good_.emplace(e.spec, err);
  }
  if (e.state == RuleState::sw)
    log::info("offload", "vEthernet{}: rule stays in software: {} [{}]", e.veth, e.reason,
              match_text(e.spec));
  else  // EINVAL and friends mean our compiler built something the NIC calls malformed.
    log::error("offload", "vEthernet{}: NIC rejected rule: {} [{}]", e.veth, e.reason,
               match_text(e.spec));
}

uint64_t RuleTable::backoff_ns(uint32_t attempts) const {
  const uint32_t shift = std::min<uint32_t>(attempts > 0 ? attempts - 1 : 0, 20);
  return std::min(kRetryBaseNs << shift, kRetryMaxNs);
}

void RuleTable::read_count(RuleEntry& e) {
  auto c = nic_.query_count(e.handle);
  if (!c.ok()) return;
  if (c.value().packets > e.hw_packets) e.packets += c.value().packets - e.hw_packets;
  if (c.value().bytes > e.hw_bytes) e.bytes += c.value().bytes - e.hw_bytes;
  e.hw_packets = std::max(e.hw_packets, c.value().packets);
  e.hw_bytes = std::max(e.hw_bytes, c.value().bytes);
}

void RuleTable::take_out(RuleEntry& e) {
  if (e.state != RuleState::hw) return;
  if (e.chain != kNoChain) {
    // Rules that send frames into this chain leave before it breaks.
    std::vector<RuleEntry*> needers(chains_[e.chain].needers.begin(),
                                    chains_[e.chain].needers.end());
    for (RuleEntry* n : needers) {
      if (n->state != RuleState::hw) continue;
      take_out(*n);
      hold_back(*n, "");
    }
    --chains_[e.chain].in_hw;
  }
  read_count(e);
  if (auto d = nic_.destroy(e.handle); !d.ok()) {
    ++nic_errors_;
    log::error("offload", "vEthernet{}: destroying rule failed: {}", e.veth, nic_words(d.error()));
  } else {
    ++destroy_gen_;
  }
  e.handle = {};
  e.hw_packets = e.hw_bytes = 0;
  e.state = RuleState::pending;
}

void RuleTable::settle() {
  std::vector<RuleEntry*> held(held_.begin(), held_.end());
  for (RuleEntry* e : held)
    if (held_.count(e) && e->state != RuleState::hw && held_back_by(*e).empty()) put_in(*e);
}

void RuleTable::refresh_reasons() {
  for (RuleEntry* e : held_) e->reason = held_back_by(*e);
}

// ---- meters -----------------------------------------------------------------------------

void RuleTable::install_meter(MeterEntry& m) {
  const CompiledMeter& c = m.meter;
  drivers::FlowStatus st =
      nic_.add_meter_profile(c.id, drivers::MeterProfile{c.cir_bytes_per_s, c.cbs_bytes, 0});
  if (st.ok()) {
    st = nic_.create_meter(c.id, c.id);
    if (!st.ok()) (void)nic_.delete_meter_profile(c.id);
  }
  if (!st.ok()) {
    ++nic_errors_;
    m.installed = false;
    m.reason = nic_words(st.error());
    m.nic_errno = st.error().code;
    if (transient(m.nic_errno)) m.retry_at_ns = clock_.now_ns() + backoff_ns(++m.attempts);
    log::info("offload", "vEthernet{}: {} policer stays in software: {}", c.veth,
              c.input ? "input" : "output", m.reason);
    return;
  }
  m.installed = true;
  m.reason.clear();
  m.nic_errno = 0;
  m.attempts = 0;
  m.stats = {};
}

void RuleTable::uninstall_meter(MeterEntry& m) {
  if (!m.installed) return;
  if (auto s = nic_.read_meter_stats(m.meter.id); s.ok()) m.stats = s.value();
  if (auto d = nic_.destroy_meter(m.meter.id); !d.ok()) {
    ++nic_errors_;
    log::error("offload", "meter {}: destroying failed: {}", m.meter.id, nic_words(d.error()));
  }
  if (auto d = nic_.delete_meter_profile(m.meter.id); !d.ok()) {
    ++nic_errors_;
    log::error("offload", "meter profile {}: deleting failed: {}", m.meter.id,
               nic_words(d.error()));
  }
  m.installed = false;
}

void RuleTable::retire_meter(const MeterEntry& m) {
  auto& v = retired_.veths[m.meter.veth];
  (m.meter.input ? v.police_in : v.police_out).add(m.stats);
  v.drops[static_cast<size_t>(DropReason::police)] += m.stats.violate_packets;
}

// ---- public operations ------------------------------------------------------------------

void RuleTable::acquire(const CompiledRule& r) {
  if (auto it = rules_.find(r.spec); it != rules_.end()) {
    ++it->second.refs;
    return;
  }
  RuleEntry& e = create_entry(r, 1);
  put_in(e);
  if (e.chain != kNoChain) refresh_reasons();  // its needers' reasons name it
}

void RuleTable::release(const RuleSpec& spec) {
  auto it = rules_.find(spec);
  if (it == rules_.end())
    throw std::logic_error("RuleTable::release of a rule never acquired: " + match_text(spec));
  if (--it->second.refs > 0) return;
  const bool in_chain = it->second.chain != kNoChain;
  erase_entry(it);
  if (in_chain) {  // the chain may be complete without it
    settle();
    refresh_reasons();
  }
}

void RuleTable::reconcile(const std::vector<CompiledRule>& desired,
                          const std::vector<CompiledMeter>& meters) {
  std::map<RuleSpec, std::pair<const CompiledRule*, uint32_t>> want;
  for (const auto& r : desired) {
    auto& w = want[r.spec];
    w.first = &r;
    ++w.second;
  }
  std::map<uint32_t, const CompiledMeter*> want_meters;
  for (const auto& m : meters) want_meters[m.id] = &m;

  // 1. Stale rules out (take_out puts the rules that need a chain out before its members).
  std::vector<std::map<RuleSpec, RuleEntry>::iterator> stale;
  for (auto it = rules_.begin(); it != rules_.end(); ++it)
    if (!want.count(it->first)) stale.push_back(it);
  for (auto it : stale) take_out(it->second);
  for (auto it : stale) erase_entry(it);

  // 2. Stale or changed meters out, after the rules that police with them; new ones in.
  for (auto it = meters_.begin(); it != meters_.end();) {
    auto w = want_meters.find(it->first);
    if (w != want_meters.end() && *w->second == it->second.meter) {
      ++it;
      continue;
    }
    for (auto& [spec, e] : rules_) {
      if (e.state != RuleState::hw || !uses_meter(spec, it->first)) continue;
      take_out(e);
      hold_back(e, "");
    }
    uninstall_meter(it->second);
    retire_meter(it->second);
    it = meters_.erase(it);
  }
  for (const auto& [id, m] : want_meters) {
    if (meters_.count(id)) continue;
    MeterEntry& e = meters_[id];
    e.meter = *m;
    install_meter(e);
  }

  // 3. Kept rules: refs, and what their counters are attributed to.
  std::vector<RuleEntry*> to_put;
  for (auto& [spec, e] : rules_) {
    auto w = want.find(spec);
    const CompiledRule& r = *w->second.first;
    e.refs = w->second.second;
    if (e.veth != r.veth || e.drop_reason != r.drop_reason || e.acl != r.acl ||
        e.ace_seq != r.ace_seq) {
      // Counts so far stay with what they were counted for.
      add_rule_counts(retired_, e);
      e.packets = e.bytes = 0;
      e.veth = r.veth;
      e.port = r.port;
      e.drop_reason = r.drop_reason;
      e.acl = r.acl;
      e.ace_seq = r.ace_seq;
    }
    if (e.chain != r.chain || e.needs != r.needs) {
      take_out(e);
      unlink(e);
      e.chain = r.chain;
      e.needs = r.needs;
      link(e);
      to_put.push_back(&e);
    }
    want.erase(w);
  }

  // 4. New rules: every one joins its chains first (so their needers are out), then
  // members go in before the rules that need them.
  for (const auto& [spec, w] : want) to_put.push_back(&create_entry(*w.first, w.second));
  std::stable_partition(to_put.begin(), to_put.end(),
                        [](const RuleEntry* e) { return e->needs.empty(); });
  for (RuleEntry* e : to_put) put_in(*e);
  settle();
  refresh_reasons();
}

void RuleTable::clear() {
  for (auto& [spec, e] : rules_) take_out(e);
  while (!rules_.empty()) erase_entry(rules_.begin());
  for (auto& [id, m] : meters_) {
    uninstall_meter(m);
    retire_meter(m);
  }
  meters_.clear();
  chains_.clear();
  held_.clear();
  refused_.clear();
  refused_for_good_.clear();
}

void RuleTable::poll_counters(const std::function<void(const RuleEntry&)>& on_active) {
  const uint64_t now = clock_.now_ns();
  for (auto& [spec, e] : rules_) {
    if (e.state != RuleState::hw) continue;
    const uint64_t before = e.packets;
    read_count(e);
    if (e.packets > before) {
      e.last_hit_ns = now;
      on_active(e);
    }
  }
  for (auto& [id, m] : meters_) {
    if (!m.installed) continue;
    if (auto s = nic_.read_meter_stats(id); s.ok()) m.stats = s.value();
  }
}

void RuleTable::retry_refused() {
  const uint64_t now = clock_.now_ns();
  bool changed = false;
  for (auto& [id, m] : meters_) {
    if (m.installed || !transient(m.nic_errno) || m.retry_at_ns > now) continue;
    install_meter(m);
    changed = changed || m.installed;
  }
  // Nothing can be due: no rule destroyed since the last pass, no back-off over.
  const bool idle = destroy_gen_ == retried_gen_ && now < next_retry_ns_;
  if (!refused_.empty() && !idle) {
    retried_gen_ = destroy_gen_;
    next_retry_ns_ = UINT64_MAX;
    bool full = false;  // one ENOSPC answer per pass is enough to know
    std::vector<RuleEntry*> due(refused_.begin(), refused_.end());
    for (RuleEntry* e : due) {
      if (!refused_.count(e) || e->state == RuleState::hw) continue;
      if (transient(e->nic_errno)) {
        if (e->retry_at_ns > now) {
          next_retry_ns_ = std::min(next_retry_ns_, e->retry_at_ns);
          continue;
        }
      } else if (e->nic_errno == ENOSPC) {
        if (e->refused_at_gen >= destroy_gen_) continue;
        if (full) {
          e->refused_at_gen = destroy_gen_;
          continue;
        }
      } else {
        continue;
      }
      put_in(*e);
      changed = true;
      if (e->state != RuleState::hw && e->nic_errno == ENOSPC) full = true;
      if (e->state != RuleState::hw && transient(e->nic_errno))
        next_retry_ns_ = std::min(next_retry_ns_, e->retry_at_ns);
    }
  }
  if (!changed) return;
  settle();
  refresh_reasons();
}

// ---- counters ---------------------------------------------------------------------------

void RuleTable::add_rule_counts(HwCounters& to, const RuleEntry& e) const {
  if (e.packets == 0 && e.bytes == 0) return;
  if (e.counts_rx) to.veths[e.veth].rx.add(e.packets, e.bytes);
  for (uint32_t v : e.tx_veths) to.veths[v].tx.add(e.packets, e.bytes);
  if (e.drop_reason < DropReason::count_)
    to.veths[e.veth].drops[static_cast<size_t>(e.drop_reason)] += e.packets;
  if (!e.acl.empty()) to.acl_entries[e.acl][e.ace_seq] += e.packets;
}

HwCounters RuleTable::hw_counters() const {
  HwCounters out = retired_;
  for (const auto& [spec, e] : rules_) add_rule_counts(out, e);
  for (const auto& [id, m] : meters_) {
    if (!m.installed) continue;
    auto& v = out.veths[m.meter.veth];
    (m.meter.input ? v.police_in : v.police_out).add(m.stats);
    v.drops[static_cast<size_t>(DropReason::police)] += m.stats.violate_packets;
  }
  return out;
}

}  // namespace vfs::offload
