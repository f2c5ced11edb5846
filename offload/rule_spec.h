// offload/rule_spec.h owns vfswitch's one rule vocabulary: a RuleSpec is a value (it can
// be compared, hashed, printed) describing one eSwitch transfer rule in the terms the
// compiler decides in. It is turned into real rte_flow arrays by RteFlowRule
// (offload/rte_flow_rule.h) and printed in testpmd's flow syntax for dumps, so that the
// compiler, vfsw-dump and the NIC all speak of the same rule.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vfs::offload {

using Mac = std::array<uint8_t, 6>;

std::string mac_str(const Mac& m);

// The pipeline's tables. Ingress admits a frame from a port (port security and VLAN
// admission: the frame leaves it tagged with its VLAN); L2 forwards by (VLAN, dst MAC).
enum Group : uint32_t { kGroupIngress = 0, kGroupL2 = 1 };

// Only the fields a decision consulted are set (megaflow-style); unset = wildcard.
struct RuleMatch {
  std::optional<uint16_t> in_port;   // REPRESENTED_PORT ethdev id
  std::optional<Mac> eth_src;
  std::optional<Mac> eth_dst;
  std::optional<bool> has_vlan;      // ETH has_vlan
  std::optional<uint16_t> vlan_vid;  // VLAN item, VID exact

  auto operator<=>(const RuleMatch&) const = default;
};

enum class ActionKind : uint8_t { count, drop, jump, port, push_vlan, set_vlan_vid, pop_vlan };

struct RuleAction {
  ActionKind kind;
  uint32_t arg = 0;  // jump: group; port: ethdev id; push_vlan: TPID; set_vlan_vid: VID

  auto operator<=>(const RuleAction&) const = default;
};

struct RuleSpec {
  uint32_t group = 0;
  uint32_t priority = 0;
  RuleMatch match;
  std::vector<RuleAction> actions;

  auto operator<=>(const RuleSpec&) const = default;
};

// testpmd-style text: "represented_port ethdev_port_id is 1 / eth src is ... / end"
std::string match_text(const RuleSpec& r);
std::string actions_text(const RuleSpec& r);
// A full `flow create PORT transfer group G priority P pattern ... / end actions ... / end`.
std::string testpmd_text(const RuleSpec& r, uint16_t proxy_port);

inline RuleAction act_count() { return {ActionKind::count, 0}; }
inline RuleAction act_drop() { return {ActionKind::drop, 0}; }
inline RuleAction act_jump(uint32_t g) { return {ActionKind::jump, g}; }
inline RuleAction act_port(uint16_t p) { return {ActionKind::port, p}; }
inline RuleAction act_push_vlan(uint16_t tpid = 0x8100) { return {ActionKind::push_vlan, tpid}; }
inline RuleAction act_set_vid(uint16_t vid) { return {ActionKind::set_vlan_vid, vid}; }
inline RuleAction act_pop_vlan() { return {ActionKind::pop_vlan, 0}; }

}  // namespace vfs::offload
