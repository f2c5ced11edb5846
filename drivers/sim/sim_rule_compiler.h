// drivers/sim/sim_rule_compiler.h owns the translation of an rte_flow transfer rule into
// the sim's compiled form (drivers/sim/sim_rule.h): it copies what it needs (the caller's
// arrays are transient) and refuses what a PMD would refuse, with a typed FlowError that
// names the item or action.
#pragma once

#include <vector>

#include <rte_flow.h>

#include "drivers/flow_backend.h"
#include "drivers/sim/sim_match.h"
#include "drivers/sim/sim_meters.h"
#include "drivers/sim/sim_rule.h"

namespace vfs::drivers::sim {

// No sim port: the ethdev id is not one of this eSwitch's.
inline constexpr uint16_t kNoSimPort = UINT16_MAX;

struct CompileContext {
  // [ethdev id] = sim port, or kNoSimPort; ids past its end are no port of ours. Rules
  // name ports by ethdev id, two lookups a rule: a scan of the ports would cost more than
  // the rest of the rule with a thousand vEthernets.
  const std::vector<uint16_t>& sim_port_of;
  const std::vector<int>& unsupported_items;
  const std::vector<int>& unsupported_actions;
  const MeterTable& meters;
};

// Fills r (group, priority, key, actions; r.meter() is found but its rule count is the
// caller's) and the pattern's shape (finished). No state changes on failure.
FlowStatus compile_rule(const CompileContext& cx, const rte_flow_attr& attr,
                        const rte_flow_item* pattern, const rte_flow_action* actions, Rule& r,
                        MatchShape& shape);

// compile_rule in two steps, for a caller that starts looking up where the rule goes
// (a cache miss in a big table) while its actions compile: the attributes and pattern
// (r's group, priority and key; the shape, finished; whether a VLAN tag is matched), then
// the actions. Same result and refusals, in the same order.
FlowStatus compile_match(const CompileContext& cx, const rte_flow_attr& attr,
                         const rte_flow_item* pattern, Rule& r, MatchShape& shape,
                         bool& vlan_matched);
FlowStatus compile_rule_actions(const CompileContext& cx, const rte_flow_attr& attr,
                                const rte_flow_action* actions, bool vlan_matched, Rule& r);

}  // namespace vfs::drivers::sim
