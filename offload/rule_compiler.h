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

#include "offload/drop_reason.h"
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

// Chains: the rules of one port's table (its input ACL and QoS groups, or its egress
// group) are useful only all together: a missing deny would let a later permit match.
// A rule names the chain it is part of; a rule that sends frames into chains names them
// in `needs`, and is installed only while every rule of those chains is in the NIC.
// Otherwise it stays out (state sw, with the reason), frames miss and the slow path
// decides under the same policy: refused rules never leave traffic unpoliced.
using ChainId = uint32_t;
inline constexpr ChainId kNoChain = 0;
inline ChainId chain_in(uint16_t port) { return 0x10000u | port; }   // groups 1-2 of port
inline ChainId chain_out(uint16_t port) { return 0x20000u | port; }  // egress group of port
// Group 0 of a port is a chain of its own in two tiers. The exceptions (traps to the slow
// path, DHCP server drops, bound sources admitted) are `chain_guard`; the catch-all drops
// below them (any other IP source, tagged frames on an access port) are `chain_port_drops`
// and need the guard: a catch-all in the NIC without its exceptions would drop what the
// policy admits. A learned MAC's admission needs both: without a drop or a trap above it,
// it would forward what the policy denies or wants inspected.
inline ChainId chain_guard(uint16_t port) { return 0x30000u | port; }
inline ChainId chain_port_drops(uint16_t port) { return 0x40000u | port; }
// The same-port drop of a learned MAC (group 4: from its own port, dropped) guards its
// forward (to its port): without it a frame would go back out the port it came in on.
// One chain per (port, VLAN, MAC), named by a hash; a collision only makes two forwards
// wait for each other's drop.
ChainId chain_same_port(uint16_t port, uint16_t vid, const Mac& mac);

struct CompiledRule {
  RuleSpec spec;
  uint32_t veth = 0;  // owner: the vEthernet the rule belongs to (0 = uplink)
  uint16_t port = 0;  // owner's ethdev port
  // What the rule's COUNT counts when the rule drops (count_ = it does not drop).
  DropReason drop_reason = DropReason::count_;
  // The ACL entry the rule enforces, for per-entry statistics: "ip:NAME", "ipv6:NAME",
  // "mac:NAME" and the sequence number (0 = implicit deny); "" = none. One ACE may
  // compile into several rules (port ranges), whose counts add up.
  std::string acl;
  uint32_t ace_seq = 0;
  ChainId chain = kNoChain;
  std::vector<ChainId> needs;
};

// A policer the rules' METER actions refer to: srTCM, colour-blind, red dropped.
struct CompiledMeter {
  uint32_t id = 0;  // the METER action's mtr_id
  uint32_t veth = 0;
  uint16_t port = 0;
  bool input = true;  // service-policy input (from the VM) or output
  uint64_t cir_bytes_per_s = 0;
  uint64_t cbs_bytes = 0;
  auto operator<=>(const CompiledMeter&) const = default;
};

// What ace_rule_matches() (offload/acl_match.h) gave for the ACLs compiled lately, so
// that ports sharing an ACL (one profile on many vEthernets) turn its entries into
// matches once. It keeps copies (never a pointer into a snapshot) and changes no result:
// compiling with or without it emits the same rules.
class AceMatchMemo {
 public:
  // One list of matches per entry of `acl`; valid until the next call.
  const std::vector<std::vector<RuleMatch>>& matches(const vsm::ResolvedAcl& acl);

 private:
  struct Item {
    vsm::AclFamily family = vsm::AclFamily::ipv4;
    std::vector<vsm::ResolvedAce> entries;
    std::vector<std::vector<RuleMatch>> matches;
  };
  std::vector<Item> items_;  // the most recently used last; a few at most
};

// Per-port rules implied by policy alone: they read only policy.ports[port] and
// policy.vlans, which is what lets DesiredState recompile only the ports that changed
// (keep it so, or widen what offload/desired_state.cpp compares).
void compile_port_rules(const PolicySnapshot& policy, uint16_t port, std::vector<CompiledRule>& out,
                        AceMatchMemo* memo = nullptr);
// Rules for one learned MAC; none when the policy no longer admits it (port unbound, not
// forwarding, VLAN not the port's).
void compile_learned_mac(const PolicySnapshot& policy, const LearnedMac& e,
                         std::vector<CompiledRule>& out);
// The meter id of a port's input or output policer (stable per port and direction).
uint32_t meter_id(uint16_t port, bool input);
// The policers of every port.
void compile_meters(const PolicySnapshot& policy, std::vector<CompiledMeter>& out);
// True when the policy admits frames from e.port in VLAN e.vid.
bool admits(const PolicySnapshot& policy, uint16_t port, uint16_t vid);

}  // namespace vfs::offload
