// offload/rule_compiler.h owns the mapping from policy + forwarding decisions to rules.
// It is pure: the same snapshot and the same learned entries always compile to the same
// rules, which is what lets the offload engine compute the desired state and diff it
// against what the NIC holds (invariant 2).
//
// The pipeline (ARCHITECTURE.md "Rules: how many and which"):
//   group 0 (ingress): per port, per learned source MAC: admit and tag with the port's
//            VLAN, JUMP 1. Per access port: tagged frames are dropped. Per port that
//            fails closed: everything is dropped.
//   group 1 (L2):      per learned (VLAN, MAC): forward to its port (untag toward an
//            access port); a frame for a MAC from the port that MAC lives on is dropped
//            (no hairpin, no loop through the uplink).
// Anything that misses (unknown source, unknown/broadcast destination) goes to the slow
// path, which floods and learns. Rule count = ports + 3 x learned MACs.
#pragma once

#include <cstdint>
#include <vector>

#include "offload/policy.h"
#include "offload/rule_spec.h"

namespace vfs::offload {

// A MAC learned by the slow path on a port in a VLAN.
struct LearnedMac {
  uint16_t vid = 0;
  Mac mac{};
  uint16_t port = 0;
  auto operator<=>(const LearnedMac&) const = default;
};

struct CompiledRule {
  RuleSpec spec;
  uint32_t veth = 0;  // owner: the vEthernet the rule belongs to (0 = uplink)
  uint16_t port = 0;  // owner's ethdev port
};

// Per-port rules implied by policy alone.
void compile_port_rules(const PolicySnapshot& policy, uint16_t port, std::vector<CompiledRule>& out);
// Rules for one learned MAC; none when the policy no longer admits it (port unbound, not
// forwarding, VLAN not the port's).
void compile_learned_mac(const PolicySnapshot& policy, const LearnedMac& e, std::vector<CompiledRule>& out);
// True when the policy admits frames from e.port in VLAN e.vid.
bool admits(const PolicySnapshot& policy, uint16_t port, uint16_t vid);

}  // namespace vfs::offload
