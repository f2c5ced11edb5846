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
#include <string_view>
#include <vector>

#include "base/small_vector.h"

namespace vfs::offload {

using Mac = std::array<uint8_t, 6>;

std::string mac_str(const Mac& m);
// "02:00:00:00:00:0a" (1-2 hex digits a byte), as mac_str() prints it; nullopt otherwise.
std::optional<Mac> parse_mac(std::string_view s);

// The pipeline's tables (offload/rule_compiler.h). Frames enter group 0; every group past
// it sees them tagged with their VLAN. A frame that misses in any group goes to the slow
// path exactly as it entered the eSwitch.
enum Group : uint32_t {
  kGroupIngress = 0,         // per port: admission (source MAC, VLAN), tagging, rx mirroring
  kGroupMacAclIn = 1,        // per VF port: the input MAC ACL
  kGroupAclIn = 2,           // per VF port: the input IPv4 / IPv6 ACLs (first match by sequence)
  kGroupQosIn = 3,           // per VF port: the input policer
  kGroupL2 = 4,              // per (VLAN, destination MAC): forward, or jump to egress groups
  kGroupSpanL2 = 50,         // + source ethdev port: group 4 again, with that port's rx SPAN copies
  kGroupEgressMacAcl = 100,  // + destination ethdev port: its output MAC ACL
  kGroupEgressAcl = 200,     // + destination ethdev port: its output IP ACLs, then delivery
};

// An IPv4 (bytes 0-3) or IPv6 address under a bit mask.
struct IpMatch {
  std::array<uint8_t, 16> addr{};
  std::array<uint8_t, 16> mask{};
  auto operator<=>(const IpMatch&) const = default;
};

struct U16Match {
  uint16_t value = 0;
  uint16_t mask = 0xffff;
  auto operator<=>(const U16Match&) const = default;
};

struct U8Match {
  uint8_t value = 0;
  uint8_t mask = 0xff;
  auto operator<=>(const U8Match&) const = default;
};

// Only the fields a decision consulted are set (megaflow-style); unset = wildcard.
struct RuleMatch {
  std::optional<uint16_t> in_port;  // REPRESENTED_PORT ethdev id
  std::optional<Mac> eth_src;       // exact, or under eth_src_mask
  std::optional<Mac> eth_src_mask;  // unset: all ones
  std::optional<Mac> eth_dst;
  std::optional<Mac> eth_dst_mask;
  std::optional<bool> has_vlan;  // ETH has_vlan
  std::optional<uint16_t> tpid;  // ETH type in front of a VLAN item: the outer tag's TPID
  // A VLAN item: present when tagged, tpid, vlan_vid or more_vlan is set.
  bool tagged = false;
  std::optional<uint16_t> vlan_vid;  // VID exact
  std::optional<bool> more_vlan;     // VLAN has_more_vlan: another tag follows this one
  // The frame's payload EtherType: VLAN inner_type when a VLAN item is present, ETH type
  // otherwise.
  std::optional<uint16_t> ether_type;
  uint8_t l3 = 0;  // 0: no L3 item; 4: IPV4; 6: IPV6
  std::optional<IpMatch> ip_src, ip_dst;
  std::optional<uint8_t> ip_proto;  // IPv4 next_proto_id / IPv6 proto
  // L4 item (TCP or UDP by ip_proto; ICMP/ICMP6 by l3), present when any of these is set.
  std::optional<U16Match> l4_src, l4_dst;
  std::optional<U8Match> tcp_flags;
  std::optional<uint8_t> icmp_type, icmp_code;

  bool has_l4() const { return l4_src || l4_dst || tcp_flags || icmp_type || icmp_code; }
  auto operator<=>(const RuleMatch&) const = default;
};

enum class ActionKind : uint8_t {
  count,
  drop,
  jump,          // arg: group
  port,          // arg: ethdev id (REPRESENTED_PORT: out of the eSwitch to that port's wire)
  push_vlan,     // arg: TPID
  set_vlan_vid,  // arg: VID
  pop_vlan,
  meter,         // arg: meter id (rte_mtr object)
  mirror,        // arg: ethdev id; SAMPLE ratio 1 whose copy goes out REPRESENTED_PORT
  to_slow_path,  // arg: ethdev id; PORT_REPRESENTOR: the representor of that port
};

struct RuleAction {
  ActionKind kind;
  uint32_t arg = 0;

  auto operator<=>(const RuleAction&) const = default;
};

// A rule's actions, in order. Most rules have two to four: they are kept inline
// (base/small_vector.h), so that a rule costs no allocation of its own.
using ActionList = SmallVector<RuleAction, 4>;

struct RuleSpec {
  uint32_t group = 0;
  uint32_t priority = 0;
  RuleMatch match;
  ActionList actions;

  auto operator<=>(const RuleSpec&) const = default;
};

// Equal specs hash equal; what the rule table indexes its entries by.
uint64_t hash_value(const RuleSpec& r);
struct RuleSpecHash {
  size_t operator()(const RuleSpec& r) const { return static_cast<size_t>(hash_value(r)); }
};

// testpmd-style text: "represented_port ethdev_port_id is 1 / eth src is ... / end"
std::string match_text(const RuleSpec& r);
std::string actions_text(const RuleSpec& r);
// A full `flow create PORT transfer group G priority P pattern ... / end actions ... / end`.
// A rule with mirror actions is preceded by the `set sample_actions N ...` lines testpmd
// needs (one line per mirror, separated by '\n').
std::string testpmd_text(const RuleSpec& r, uint16_t proxy_port);

inline RuleAction act_count() { return {ActionKind::count, 0}; }
inline RuleAction act_drop() { return {ActionKind::drop, 0}; }
inline RuleAction act_jump(uint32_t g) { return {ActionKind::jump, g}; }
inline RuleAction act_port(uint16_t p) { return {ActionKind::port, p}; }
inline RuleAction act_push_vlan(uint16_t tpid = 0x8100) { return {ActionKind::push_vlan, tpid}; }
inline RuleAction act_set_vid(uint16_t vid) { return {ActionKind::set_vlan_vid, vid}; }
inline RuleAction act_pop_vlan() { return {ActionKind::pop_vlan, 0}; }
inline RuleAction act_meter(uint32_t id) { return {ActionKind::meter, id}; }
inline RuleAction act_mirror(uint16_t p) { return {ActionKind::mirror, p}; }
inline RuleAction act_to_slow_path(uint16_t p) { return {ActionKind::to_slow_path, p}; }

}  // namespace vfs::offload
