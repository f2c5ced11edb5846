// offload/rule_table.h owns vfswitch's mirror of the eSwitch's rule memory: every rule
// the desired state implies, refcounted by the decisions that need it, with its state on
// the NIC (hw, sw-only with the NIC's reason, pending, failed), its handle and its
// counters. It is the only code that calls FlowBackend::create/destroy, so "hardware
// holds only what desired state implies" (invariant 2) is checked against it.
//
// Single-threaded: owned by the offload worker. Readers on other threads get copies
// through OffloadEngine.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/clock.h"
#include "drivers/flow_backend.h"
#include "offload/rule_compiler.h"
#include "offload/rule_spec.h"

namespace vfs::offload {

enum class RuleState : uint8_t { pending, hw, sw, failed };
const char* rule_state_name(RuleState s);

struct RuleEntry {
  RuleSpec spec;
  uint32_t veth = 0;
  uint16_t port = 0;
  RuleState state = RuleState::pending;
  std::string reason;                 // the NIC's words when not in hw
  drivers::FlowHandle handle{};
  uint64_t packets = 0;               // NIC COUNT, cumulative
  uint64_t bytes = 0;
  uint64_t last_hit_ns = 0;           // last poll that saw the counter move
  uint64_t retry_at_ns = 0;           // sw rules refused for capacity are retried
  uint32_t refs = 0;
};

struct VethTotals {  // counters of rules that no longer exist, so totals never go back
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

class RuleTable {
 public:
  RuleTable(drivers::FlowBackend& nic, const Clock& clock) : nic_(nic), clock_(clock) {}

  // One more decision needs this rule: create it on the NIC if it is new.
  void acquire(const CompiledRule& r);
  // One decision less; the rule is destroyed when none is left. Unknown specs are a
  // programming error (the caller recorded what it acquired).
  void release(const RuleSpec& spec);
  // Makes the table equal `desired` (a multiset: a spec listed twice has two refs).
  // Stale rules are destroyed before new ones are created, so a change that takes
  // forwarding away never leaves the old rule racing the new policy.
  void reconcile(const std::vector<CompiledRule>& desired);
  // Destroys everything (the NIC is also flushed by the caller at start).
  void clear();

  // Reads the COUNT of every hw rule; calls on_active(entry) for rules that moved.
  void poll_counters(const std::function<void(const RuleEntry&)>& on_active);
  // Retries rules the NIC refused for a transient reason (ENOSPC, EBUSY, ETIMEDOUT).
  void retry_refused();

  size_t size() const { return rules_.size(); }
  const std::map<RuleSpec, RuleEntry>& entries() const { return rules_; }
  const std::map<uint32_t, VethTotals>& retired() const { return retired_; }
  uint64_t nic_errors() const { return nic_errors_; }

 private:
  void install(RuleEntry& e);
  void uninstall(RuleEntry& e);

  drivers::FlowBackend& nic_;
  const Clock& clock_;
  std::map<RuleSpec, RuleEntry> rules_;
  std::map<uint32_t, VethTotals> retired_;
  uint64_t nic_errors_ = 0;
};

}  // namespace vfs::offload
