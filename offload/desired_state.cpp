#include "offload/desired_state.h"

#include <algorithm>

namespace vfs::offload {
namespace {

// The entry already is what the compiler asks for now: nothing to do for it.
bool same(const RuleEntry& e, const CompiledRule& c) {
  return e.spec == c.spec && e.veth == c.veth && e.port == c.port &&
         e.drop_reason == c.drop_reason && e.ace_seq == c.ace_seq && e.chain == c.chain &&
         e.acl == c.acl && e.needs == c.needs;
}

}  // namespace

DesiredState::Held DesiredState::diff(const Held& held, std::vector<CompiledRule>& compiled) {
  Held next(compiled.size(), nullptr);
  std::vector<bool> kept(held.size(), false);
  for (size_t i = 0; i < compiled.size();) {
    if (i < held.size() && same(*held[i], compiled[i])) {
      next[i] = held[i];
      kept[i] = true;
      ++i;
      continue;
    }
    // A run of changed rules goes to the table as one (all of them, a port's first time).
    size_t end = i + 1;
    while (end < compiled.size() && !(end < held.size() && same(*held[end], compiled[end]))) ++end;
    table_.stage_add(compiled.data() + i, end - i, next.data() + i);
    added_ += end - i;
    i = end;
  }
  for (size_t i = 0; i < held.size(); ++i) {
    if (kept[i]) continue;
    table_.stage_drop(*held[i]);
    ++dropped_;
  }
  return next;
}

DesiredStats DesiredState::apply(std::shared_ptr<const PolicySnapshot> policy) {
  const PolicySnapshot& now = *policy;
  const PolicySnapshot* before = applied_.get();
  DesiredStats stats;

  std::map<uint16_t, uint32_t> port_veths;
  for (uint16_t p = 0; p < now.ports.size(); ++p)
    if (now.ports[p].bound && now.ports[p].veth != 0) port_veths[p] = now.ports[p].veth;
  table_.set_port_veths(std::move(port_veths));
  std::vector<CompiledMeter> meters;
  compile_meters(now, meters);

  added_ = dropped_ = 0;
  table_.begin_update();

  // A port's rules depend on its PortPolicy and the VLANs that exist (a trunk's egress
  // deliveries): recompile it when either differs, compared whole.
  const bool everything = !before || before->vlans != now.vlans;
  const size_t nports = std::max(ports_.size(), now.ports.size());
  ports_.resize(nports);
  std::vector<CompiledRule> scratch;
  AceMatchMemo memo;
  for (size_t p = 0; p < nports; ++p) {
    const PortPolicy* was = before ? before->port(static_cast<uint16_t>(p)) : nullptr;
    const PortPolicy* is = now.port(static_cast<uint16_t>(p));
    if (!everything && was && is && *was == *is) continue;
    scratch.clear();
    compile_port_rules(now, static_cast<uint16_t>(p), scratch, &memo);
    stats.rules_compiled += scratch.size();
    ports_[p] = diff(ports_[p], scratch);
    ++stats.ports_recompiled;
  }
  ports_.resize(now.ports.size());  // ports gone are unbound: they compiled to nothing

  // A learned MAC's rules read its port and every port that mirrors (rx SPAN): recompile
  // them all whenever anything changed. They are few (one per VM MAC), not per ACE.
  if (everything || stats.ports_recompiled > 0) {
    for (auto it = learned_.begin(); it != learned_.end();) {
      scratch.clear();
      compile_learned_mac(now, LearnedMac{it->first.first, it->first.second, it->second.port},
                          scratch);
      stats.rules_compiled += scratch.size();
      it->second.rules = diff(it->second.rules, scratch);
      if (it->second.rules.empty())  // the policy no longer admits it
        it = learned_.erase(it);
      else
        ++it;
    }
  }

  table_.commit_update(&meters);
  stats.refs_dropped = dropped_;
  stats.refs_added = added_;
  applied_ = std::move(policy);
  return stats;
}

void DesiredState::learn(const PolicySnapshot& policy, const LearnedMac& e) {
  const MacKey key{e.vid, e.mac};
  auto it = learned_.find(key);
  if (it != learned_.end()) {
    if (it->second.port == e.port) return;
    for (const RuleEntry* r : it->second.rules) table_.release(*r);
    learned_.erase(it);
  }
  std::vector<CompiledRule> rules;
  compile_learned_mac(policy, e, rules);
  if (rules.empty()) return;  // the policy does not admit it (any more)
  Learned rec{e.port, {}};
  rec.rules.reserve(rules.size());
  for (const auto& r : rules) rec.rules.push_back(&table_.acquire(r));
  learned_.emplace(key, std::move(rec));
}

void DesiredState::forget(uint16_t vid, const Mac& mac) {
  auto it = learned_.find(MacKey{vid, mac});
  if (it == learned_.end()) return;
  for (const RuleEntry* r : it->second.rules) table_.release(*r);
  learned_.erase(it);
}

void DesiredState::clear() {
  applied_.reset();
  ports_.clear();
  learned_.clear();
}

}  // namespace vfs::offload
