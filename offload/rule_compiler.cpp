#include "offload/rule_compiler.h"

namespace vfs::offload {
namespace {
constexpr uint32_t kPrioLearned = 0;   // specific matches first
constexpr uint32_t kPrioCatchAll = 1;  // per-port drops
constexpr uint16_t kTpid8021Q = 0x8100;
}  // namespace

bool admits(const PolicySnapshot& policy, uint16_t port, uint16_t vid) {
  const PortPolicy* p = policy.port(port);
  if (!p || !p->bound || !p->forwarding || vid == 0 || vid >= 4095 || !policy.vlans.test(vid))
    return false;
  if (p->kind == PortKind::uplink) return true;
  return p->access_vlan == vid;
}

void compile_port_rules(const PolicySnapshot& policy, uint16_t port, std::vector<CompiledRule>& out) {
  const PortPolicy* p = policy.port(port);
  if (!p || !p->bound || p->kind == PortKind::uplink) return;
  RuleSpec r;
  r.group = kGroupIngress;
  r.priority = kPrioCatchAll;
  r.match.in_port = port;
  if (p->forwarding) r.match.has_vlan = true;  // an access port takes no tagged frames
  r.actions = {act_count(), act_drop()};
  out.push_back({std::move(r), p->veth, port});
}

void compile_learned_mac(const PolicySnapshot& policy, const LearnedMac& e, std::vector<CompiledRule>& out) {
  if (!admits(policy, e.port, e.vid)) return;
  const PortPolicy& p = *policy.port(e.port);
  const bool to_access = p.kind == PortKind::vf;

  RuleSpec in;
  in.group = kGroupIngress;
  in.priority = kPrioLearned;
  in.match.in_port = e.port;
  in.match.eth_src = e.mac;
  if (to_access) {
    in.match.has_vlan = false;
    in.actions = {act_count(), act_push_vlan(kTpid8021Q), act_set_vid(e.vid), act_jump(kGroupL2)};
  } else {
    in.match.vlan_vid = e.vid;
    in.actions = {act_count(), act_jump(kGroupL2)};
  }
  out.push_back({std::move(in), p.veth, e.port});

  RuleSpec hairpin;
  hairpin.group = kGroupL2;
  hairpin.priority = kPrioLearned;
  hairpin.match.in_port = e.port;
  hairpin.match.eth_dst = e.mac;
  hairpin.match.vlan_vid = e.vid;
  hairpin.actions = {act_count(), act_drop()};
  out.push_back({std::move(hairpin), p.veth, e.port});

  RuleSpec fwd;
  fwd.group = kGroupL2;
  fwd.priority = kPrioCatchAll;
  fwd.match.eth_dst = e.mac;
  fwd.match.vlan_vid = e.vid;
  fwd.actions = {act_count()};
  if (to_access) fwd.actions.push_back(act_pop_vlan());
  fwd.actions.push_back(act_port(e.port));
  out.push_back({std::move(fwd), p.veth, e.port});
}

}  // namespace vfs::offload
