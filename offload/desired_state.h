// offload/desired_state.h owns what the offload worker holds in the rule table on behalf of
// each port and each learned MAC, and brings the table from one policy snapshot to the
// next by recompiling only what changed: a port whose PortPolicy (compared whole) and the
// switch's VLANs are unchanged keeps its rules untouched, and within a recompiled port a
// rule equal to the one it held at the same place keeps its entry, so editing one ACE
// changes only the rules compiled from it (issue 5's revalidation). The result equals
// RuleTable::reconcile of a full compile (tests/unit/offload/rule_compiler_test.cpp checks
// it), with the same order guarantees, since the changes go to the table as one
// RuleTable::update.
//
// Single-threaded: owned by the offload worker, next to the table it drives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "offload/policy.h"
#include "offload/rule_compiler.h"
#include "offload/rule_table.h"

namespace vfs::offload {

// What one apply() did, for logs and the bench.
struct DesiredStats {
  size_t ports_recompiled = 0;
  size_t rules_compiled = 0;  // by those ports and the learned MACs
  size_t refs_dropped = 0;    // references given up (rules no longer compiled)
  size_t refs_added = 0;      // references taken (rules newly compiled)
};

class DesiredState {
 public:
  explicit DesiredState(RuleTable& table) : table_(table) {}
  DesiredState(const DesiredState&) = delete;
  DesiredState& operator=(const DesiredState&) = delete;

  // Makes the table hold what `policy` implies: every port's rules, every learned MAC's
  // (those it no longer admits are forgotten), and the meters.
  DesiredStats apply(std::shared_ptr<const PolicySnapshot> policy);

  // The slow path learned `e` (or saw it move): its rules under `policy`, none when the
  // policy does not admit it. A MAC already held on the same port is left alone.
  void learn(const PolicySnapshot& policy, const LearnedMac& e);
  // The slow path forgot the MAC: its rules are released.
  void forget(uint16_t vid, const Mac& mac);

  // Forgets everything without touching the table (its owner clears it).
  void clear();

  size_t learned_count() const { return learned_.size(); }

 private:
  using MacKey = std::pair<uint16_t, Mac>;
  struct Learned {
    uint16_t port = 0;
    std::vector<const RuleEntry*> rules;
  };
  using Held = std::vector<const RuleEntry*>;

  // Diffs `compiled` against what an owner holds (`held`, by position): equal rules keep
  // their entries, the rest are staged on the table; returns the owner's next holding.
  Held diff(const Held& held, std::vector<CompiledRule>& compiled);

  RuleTable& table_;
  std::shared_ptr<const PolicySnapshot> applied_;
  std::vector<Held> ports_;  // by ethdev port: the entries its compiled rules hold
  std::map<MacKey, Learned> learned_;
  size_t added_ = 0, dropped_ = 0;  // by the apply under way
};

}  // namespace vfs::offload
