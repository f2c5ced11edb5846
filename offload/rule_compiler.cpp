#include "offload/rule_compiler.h"

#include <algorithm>

#include "offload/acl_match.h"
#include "offload/policy_eval.h"

namespace vfs::offload {
namespace {

// Group 0, by precedence: inspection (DHCP servers dropped, ARP/ND to software), bound
// sources admitted, other IP from a guarded port dropped, learned MACs admitted, per-port
// catch-alls.
constexpr uint32_t kPrioInspect = 0;
constexpr uint32_t kPrioLearnedBinding = 1;  // a bound source whose MAC the slow path learned
constexpr uint32_t kPrioBinding = 2;
constexpr uint32_t kPrioGuard = 3;
constexpr uint32_t kPrioAdmit = 4;
constexpr uint32_t kPrioPortDrop = 5;
// Group 4 (L2): the hairpin guard before forwarding.
constexpr uint32_t kPrioHairpin = 0;
constexpr uint32_t kPrioForward = 1;
constexpr uint32_t kPrioDefault = 0xffff;  // a port's "no ACL / nothing matched: go on"

CompiledRule owned(RuleSpec spec, uint32_t veth, uint16_t port) {
  CompiledRule c;
  c.spec = std::move(spec);
  c.veth = veth;
  c.port = port;
  return c;
}

CompiledRule dropping(RuleSpec spec, uint32_t veth, uint16_t port, DropReason why) {
  spec.actions = {act_count(), act_drop()};
  CompiledRule c = owned(std::move(spec), veth, port);
  c.drop_reason = why;
  return c;
}

bool is_vf(const PortPolicy& p) { return p.kind == PortKind::vf; }
bool trunk(const PortPolicy& p) { return is_vf(p) && p.cfg.mode == vsm::SwitchportMode::trunk; }

bool trunk_allows(const PortPolicy& p, uint16_t vid) {
  return std::binary_search(p.cfg.trunk_allowed.begin(), p.cfg.trunk_allowed.end(), vid);
}

// Frames to this port leave untagged in this VLAN (access, or a trunk's native VLAN).
bool untagged_out(const PortPolicy& p, uint16_t vid) {
  if (!is_vf(p)) return false;
  if (!trunk(p)) return true;
  return p.cfg.native_vlan && *p.cfg.native_vlan == vid;
}

bool has_in_mac_acl(const PortPolicy& p) { return p.cfg.mac_acl_in.has_value(); }
bool has_out_mac_acl(const PortPolicy& p) { return p.cfg.mac_acl_out.has_value(); }
bool has_out_ip_acl(const PortPolicy& p) { return p.cfg.ip_acl_out || p.cfg.ipv6_acl_out; }

// The group a frame for this port enters after L2, 0 = none (deliver directly).
uint32_t first_egress_group(const PortPolicy& p, uint16_t port) {
  if (!is_vf(p)) return 0;
  if (has_out_mac_acl(p)) return kGroupEgressMacAcl + port;
  if (has_out_ip_acl(p)) return kGroupEgressAcl + port;
  return 0;
}

// What delivering a frame of VLAN vid to port takes: output policer, untag, tx SPAN,
// then out of the eSwitch.
void delivery_actions(const PortPolicy& p, uint16_t port, uint16_t vid, ActionList& a) {
  if (p.cfg.police_out) a.push_back(act_meter(meter_id(port, false)));
  if (untagged_out(p, vid)) a.push_back(act_pop_vlan());
  for (uint16_t m : p.mirror_tx) a.push_back(act_mirror(m));
  a.push_back(act_port(port));
}

// One ACL's entries in `group`, at priorities from *prio on; each permit continues with
// `permit_actions`. Ends with the implicit deny for the frames the ACL applies to.
void compile_acl(const vsm::ResolvedAcl& acl, uint32_t group, std::optional<uint16_t> in_port,
                 const PortPolicy& owner, uint16_t owner_port, ChainId chain,
                 const ActionList& permit_actions, uint32_t& prio, std::vector<CompiledRule>& out,
                 AceMatchMemo* memo) {
  const std::string key = acl_key(acl);
  const std::vector<std::vector<RuleMatch>>* memoized = memo ? &memo->matches(acl) : nullptr;
  std::vector<RuleMatch> own;
  for (size_t k = 0; k < acl.entries.size(); ++k) {
    const vsm::ResolvedAce& e = acl.entries[k];
    if (!memoized) own = ace_rule_matches(e, acl.family);
    for (const RuleMatch& m : memoized ? (*memoized)[k] : own) {
      // Built in place: a large ACL on many ports is most of what the compiler emits.
      CompiledRule& c = out.emplace_back();
      RuleSpec& r = c.spec;
      r.group = group;
      r.priority = prio;
      r.match = m;
      r.match.in_port = in_port;
      r.match.tagged = true;
      c.veth = owner.veth;
      c.port = owner_port;
      if (e.permit) {
        r.actions.reserve(1 + permit_actions.size());
        r.actions.push_back(act_count());
        r.actions.insert(r.actions.end(), permit_actions.begin(), permit_actions.end());
      } else {
        r.actions = {act_count(), act_drop()};
        c.drop_reason = DropReason::acl;
      }
      c.acl = key;
      c.ace_seq = e.seq;
      c.chain = chain;
    }
    ++prio;
  }
  RuleSpec deny;
  deny.group = group;
  deny.priority = prio++;
  deny.match.in_port = in_port;
  deny.match.tagged = true;
  if (uint16_t et = acl_ether_type(acl.family)) deny.match.ether_type = et;
  CompiledRule c = dropping(std::move(deny), owner.veth, owner_port, DropReason::acl);
  c.acl = key;
  c.ace_seq = 0;
  c.chain = chain;
  out.push_back(std::move(c));
}

void add_default(uint32_t group, std::optional<uint16_t> in_port, ActionList actions,
                 const PortPolicy& p, uint16_t port, ChainId chain,
                 std::vector<CompiledRule>& out) {
  RuleSpec r;
  r.group = group;
  r.priority = kPrioDefault;
  r.match.in_port = in_port;
  if (group != kGroupIngress) r.match.tagged = true;
  r.actions = {act_count()};
  r.actions.insert(r.actions.end(), actions.begin(), actions.end());
  CompiledRule c = owned(std::move(r), p.veth, port);
  c.chain = chain;
  out.push_back(std::move(c));
}

// Groups 1-3 of a forwarding VF port: its input ACLs and policer.
void compile_input_chain(const PortPolicy& p, uint16_t port, std::vector<CompiledRule>& out,
                         AceMatchMemo* memo) {
  const ChainId chain = chain_in(port);
  uint32_t prio = 0;
  if (has_in_mac_acl(p))
    compile_acl(*p.cfg.mac_acl_in, kGroupMacAclIn, port, p, port, chain, {act_jump(kGroupAclIn)},
                prio, out, memo);
  else
    add_default(kGroupMacAclIn, port, {act_jump(kGroupAclIn)}, p, port, chain, out);

  prio = 0;
  if (p.cfg.ip_acl_in)
    compile_acl(*p.cfg.ip_acl_in, kGroupAclIn, port, p, port, chain, {act_jump(kGroupQosIn)}, prio,
                out, memo);
  if (p.cfg.ipv6_acl_in)
    compile_acl(*p.cfg.ipv6_acl_in, kGroupAclIn, port, p, port, chain, {act_jump(kGroupQosIn)},
                prio, out, memo);
  add_default(kGroupAclIn, port, {act_jump(kGroupQosIn)}, p, port, chain, out);

  ActionList qos;
  if (p.cfg.police_in) qos.push_back(act_meter(meter_id(port, true)));
  qos.push_back(act_jump(p.mirror_rx.empty() ? kGroupL2 : kGroupSpanL2 + port));
  add_default(kGroupQosIn, port, std::move(qos), p, port, chain, out);
}

// The egress groups of a forwarding VF port with output ACLs, one delivery per VLAN the
// port carries (the delivery differs by VLAN only in untagging).
void compile_output_chain(const PolicySnapshot& policy, const PortPolicy& p, uint16_t port,
                          std::vector<CompiledRule>& out, AceMatchMemo* memo) {
  if (!has_out_mac_acl(p) && !has_out_ip_acl(p)) return;
  const ChainId chain = chain_out(port);
  std::vector<uint16_t> vids;
  if (trunk(p)) {
    for (uint16_t v : p.cfg.trunk_allowed)
      if (policy.vlans.test(v)) vids.push_back(v);
  } else {
    vids.push_back(p.access_vlan);
  }
  // Per VLAN so that each delivery knows whether to untag; ACL rules match the VID.
  for (uint16_t vid : vids) {
    ActionList deliver;
    delivery_actions(p, port, vid, deliver);
    const ActionList after_mac =
        has_out_ip_acl(p) ? ActionList{act_jump(kGroupEgressAcl + port)} : deliver;
    auto with_vid = [&](size_t first) {
      for (size_t i = first; i < out.size(); ++i) {
        out[i].spec.match.vlan_vid = vid;
      }
    };
    if (has_out_mac_acl(p)) {
      uint32_t prio = 0;
      const size_t first = out.size();
      compile_acl(*p.cfg.mac_acl_out, kGroupEgressMacAcl + port, std::nullopt, p, port, chain,
                  after_mac, prio, out, memo);
      with_vid(first);
    }
    if (has_out_ip_acl(p)) {
      uint32_t prio = 0;
      const size_t first = out.size();
      if (p.cfg.ip_acl_out)
        compile_acl(*p.cfg.ip_acl_out, kGroupEgressAcl + port, std::nullopt, p, port, chain,
                    deliver, prio, out, memo);
      if (p.cfg.ipv6_acl_out)
        compile_acl(*p.cfg.ipv6_acl_out, kGroupEgressAcl + port, std::nullopt, p, port, chain,
                    deliver, prio, out, memo);
      add_default(kGroupEgressAcl + port, std::nullopt, deliver, p, port, chain, out);
      with_vid(first);
    }
  }
}

// What admitting a frame from VF port p in VLAN vid takes: tagging, then its input chain.
ActionList admit_actions(const PortPolicy& p, uint16_t vid, bool untagged_in) {
  ActionList a{act_count()};
  if (untagged_in) {
    a.push_back(act_push_vlan(kTpidC));
    a.push_back(act_set_vid(vid));
  }
  a.push_back(act_jump(is_vf(p) ? kGroupMacAclIn : kGroupL2));
  return a;
}

CompiledRule guard_rule(const PortPolicy& p, uint16_t port, uint32_t prio, RuleMatch m) {
  RuleSpec r;
  r.group = kGroupIngress;
  r.priority = prio;
  m.in_port = port;
  r.match = m;
  CompiledRule c = owned(std::move(r), p.veth, port);
  c.chain = chain_guard(port);
  return c;
}

RuleMatch binding_match(const vsm::SourceBinding& b) {
  RuleMatch m;
  m.eth_src = b.mac;
  m.has_vlan = false;
  m.l3 = b.v6 ? 6 : 4;
  m.ip_src = IpMatch{};
  m.ip_src->addr = b.ip;
  for (size_t i = 0; i < (b.v6 ? 16u : 4u); ++i) m.ip_src->mask[i] = 0xff;
  return m;
}

// Group 0 rules of offload/policy_eval.h's source guard, for a forwarding VF.
void compile_source_guard(const PortPolicy& p, uint16_t port, std::vector<CompiledRule>& out) {
  if (snoops_dhcp(p.cfg)) {
    for (bool v6 : {false, true}) {
      RuleMatch m;
      m.l3 = v6 ? 6 : 4;
      m.ip_proto = 17;
      m.l4_src = U16Match{static_cast<uint16_t>(v6 ? 547 : 67), 0xffff};
      CompiledRule c = guard_rule(p, port, kPrioInspect, m);
      c.spec.actions = {act_count(), act_drop()};
      c.drop_reason = DropReason::dhcp_snooping;
      out.push_back(std::move(c));
    }
    // DHCP snooping (slowpath/dhcp_snooping.h) sees the client's DHCPRELEASE/DECLINE,
    // which a bound source would otherwise send past it.
    RuleMatch client;
    client.l3 = 4;
    client.ip_proto = 17;
    client.l4_src = U16Match{68, 0xffff};
    client.l4_dst = U16Match{67, 0xffff};
    CompiledRule c = guard_rule(p, port, kPrioInspect, client);
    c.spec.actions = {act_count(), act_to_slow_path(port)};
    out.push_back(std::move(c));
  }
  if (!guards_sources(p.cfg)) return;
  auto to_software = [&](uint32_t prio, RuleMatch m) {
    m.has_vlan = false;
    CompiledRule c = guard_rule(p, port, prio, m);
    c.spec.actions = {act_count(), act_to_slow_path(port)};
    out.push_back(std::move(c));
  };
  {  // ARP and ND advertisements are inspected in software
    RuleMatch arp;
    arp.ether_type = kEtherArp;
    to_software(kPrioInspect, arp);
    RuleMatch nd;
    nd.l3 = 6;
    nd.ip_proto = 58;
    nd.icmp_type = 136;
    to_software(kPrioInspect, nd);
  }
  {  // DHCP discovery, IPv6 link-local and unspecified sources: software decides
    RuleMatch dhcp;
    dhcp.l3 = 4;
    dhcp.ip_src = IpMatch{};
    dhcp.ip_src->mask = {0xff, 0xff, 0xff, 0xff};
    dhcp.ip_proto = 17;
    dhcp.l4_dst = U16Match{67, 0xffff};
    to_software(kPrioBinding, dhcp);
    RuleMatch ll;
    ll.l3 = 6;
    ll.ip_src = IpMatch{};
    ll.ip_src->addr[0] = 0xfe;
    ll.ip_src->addr[1] = 0x80;
    ll.ip_src->mask[0] = 0xff;
    ll.ip_src->mask[1] = 0xc0;
    to_software(kPrioBinding, ll);
    RuleMatch unspec;
    unspec.l3 = 6;
    unspec.ip_src = IpMatch{};
    unspec.ip_src->mask.fill(0xff);
    to_software(kPrioBinding, unspec);
  }
  // A bound source goes to the slow path until its MAC is learned there (port security
  // counts it, the FDB knows where it is); then compile_learned_mac admits it above this.
  for (const auto& b : p.cfg.source_bindings) {
    if (b.vlan != p.access_vlan) continue;  // never admitted: the guard drops it
    to_software(kPrioBinding, binding_match(b));
  }
  for (bool v6 : {false, true}) {  // any other IP source
    RuleMatch m;
    m.has_vlan = false;
    m.ether_type = v6 ? kEtherIpv6 : kEtherIpv4;
    CompiledRule c = guard_rule(p, port, kPrioGuard, m);
    c.spec.actions = {act_count(), act_drop()};
    c.drop_reason = DropReason::ip_source_guard;
    c.chain = chain_port_drops(port);
    c.needs = {chain_guard(port)};
    out.push_back(std::move(c));
  }
}

}  // namespace

ChainId chain_same_port(uint16_t port, uint16_t vid, const Mac& mac) {
  // FNV-1a over port, VID and MAC, folded into the ids no other chain kind uses.
  uint32_t h = 2166136261u;
  auto mix = [&h](uint8_t b) { h = (h ^ b) * 16777619u; };
  mix(static_cast<uint8_t>(port));
  mix(static_cast<uint8_t>(port >> 8));
  mix(static_cast<uint8_t>(vid));
  mix(static_cast<uint8_t>(vid >> 8));
  for (uint8_t b : mac) mix(b);
  return 0x80000000u | h;
}

uint32_t meter_id(uint16_t port, bool input) { return 1u + port * 2u + (input ? 0u : 1u); }

bool admits(const PolicySnapshot& policy, uint16_t port, uint16_t vid) {
  const PortPolicy* p = policy.port(port);
  if (!p || !p->bound || !p->forwarding || vid == 0 || vid >= 4095 || !policy.vlans.test(vid))
    return false;
  if (p->kind == PortKind::uplink) return true;
  if (trunk(*p)) return trunk_allows(*p, vid) || (p->cfg.native_vlan && *p->cfg.native_vlan == vid);
  return p->access_vlan == vid;
}

const std::vector<std::vector<RuleMatch>>& AceMatchMemo::matches(const vsm::ResolvedAcl& acl) {
  constexpr size_t kItems = 8;
  for (size_t i = items_.size(); i-- > 0;) {
    if (items_[i].family != acl.family || items_[i].entries != acl.entries) continue;
    if (i + 1 != items_.size()) std::swap(items_[i], items_.back());
    return items_.back().matches;
  }
  if (items_.size() >= kItems) items_.erase(items_.begin());
  Item& it = items_.emplace_back();
  it.family = acl.family;
  it.entries = acl.entries;
  it.matches.reserve(acl.entries.size());
  for (const auto& e : acl.entries) it.matches.push_back(ace_rule_matches(e, acl.family));
  return it.matches;
}

void compile_port_rules(const PolicySnapshot& policy, uint16_t port, std::vector<CompiledRule>& out,
                        AceMatchMemo* memo) {
  const PortPolicy* p = policy.port(port);
  if (p && p->bound && p->kind == PortKind::uplink && p->traps_dhcp_replies) {
    // DHCP snooping: server replies from the trusted uplink go through the slow path,
    // which binds what they lease and forwards them.
    RuleSpec trap;
    trap.group = kGroupIngress;
    trap.priority = kPrioInspect;
    trap.match.in_port = port;
    trap.match.l3 = 4;
    trap.match.ip_proto = 17;
    trap.match.l4_src = U16Match{67, 0xffff};
    trap.match.l4_dst = U16Match{68, 0xffff};
    trap.actions = {act_count(), act_to_slow_path(port)};
    CompiledRule c = owned(std::move(trap), p->veth, port);
    c.chain = chain_guard(port);
    out.push_back(std::move(c));
  }
  if (!p || !p->bound || p->kind == PortKind::uplink) return;
  RuleSpec r;
  r.group = kGroupIngress;
  r.priority = kPrioPortDrop;
  r.match.in_port = port;
  if (!p->forwarding) {
    out.push_back(dropping(std::move(r), p->veth, port, DropReason::port_disabled));
    return;
  }
  if (!trunk(*p)) {
    // An access port takes no tagged frames but priority tags (VID 0), which the slow
    // path admits as untagged.
    r.match.has_vlan = true;
    CompiledRule tagged = dropping(r, p->veth, port, DropReason::vlan);
    tagged.chain = chain_port_drops(port);
    tagged.needs = {chain_guard(port)};
    out.push_back(std::move(tagged));
    RuleSpec prio_tag;
    prio_tag.group = kGroupIngress;
    prio_tag.priority = kPrioInspect;
    prio_tag.match.in_port = port;
    prio_tag.match.tpid = kTpidC;
    prio_tag.match.vlan_vid = 0;
    prio_tag.actions = {act_count(), act_to_slow_path(port)};
    CompiledRule trap = owned(std::move(prio_tag), p->veth, port);
    trap.chain = chain_guard(port);
    out.push_back(std::move(trap));
  }
  compile_source_guard(*p, port, out);
  compile_input_chain(*p, port, out, memo);
  compile_output_chain(policy, *p, port, out, memo);
}

void compile_learned_mac(const PolicySnapshot& policy, const LearnedMac& e,
                         std::vector<CompiledRule>& out) {
  if (!admits(policy, e.port, e.vid)) return;
  const PortPolicy& p = *policy.port(e.port);

  RuleSpec in;
  in.group = kGroupIngress;
  in.priority = kPrioAdmit;
  in.match.in_port = e.port;
  in.match.eth_src = e.mac;
  const bool untagged_in = is_vf(p) && untagged_out(p, e.vid);
  if (untagged_in) {
    in.match.has_vlan = false;
  } else {
    in.match.tpid = kTpidC;
    in.match.vlan_vid = e.vid;
    in.match.more_vlan = false;
  }
  in.actions = admit_actions(p, e.vid, untagged_in);
  CompiledRule cin = owned(std::move(in), p.veth, e.port);
  if (is_vf(p))
    cin.needs = {chain_in(e.port), chain_guard(e.port), chain_port_drops(e.port)};
  else
    cin.needs = {chain_guard(e.port)};
  out.push_back(std::move(cin));
  // Under `ip verify source`, the MAC's bound addresses pass the guard's catch-all drop.
  if (is_vf(p) && guards_sources(p.cfg) && e.vid == p.access_vlan) {
    for (const auto& b : p.cfg.source_bindings) {
      if (b.vlan != p.access_vlan || b.mac != e.mac) continue;
      RuleSpec bound;
      bound.group = kGroupIngress;
      bound.priority = kPrioLearnedBinding;
      bound.match = binding_match(b);
      bound.match.in_port = e.port;
      bound.actions = admit_actions(p, e.vid, true);
      CompiledRule cb = owned(std::move(bound), p.veth, e.port);
      cb.needs = {chain_in(e.port), chain_guard(e.port)};
      out.push_back(std::move(cb));
    }
  }

  RuleSpec hairpin;
  hairpin.group = kGroupL2;
  hairpin.priority = kPrioHairpin;
  hairpin.match.in_port = e.port;
  hairpin.match.eth_dst = e.mac;
  hairpin.match.vlan_vid = e.vid;
  const ChainId same_port = chain_same_port(e.port, e.vid, e.mac);
  CompiledRule drop_same = dropping(std::move(hairpin), p.veth, e.port, DropReason::same_port);
  drop_same.chain = same_port;
  out.push_back(std::move(drop_same));

  RuleSpec fwd;
  fwd.group = kGroupL2;
  fwd.priority = kPrioForward;
  fwd.match.eth_dst = e.mac;
  fwd.match.vlan_vid = e.vid;
  fwd.actions = {act_count()};
  const uint32_t egress = first_egress_group(p, e.port);
  if (egress)
    fwd.actions.push_back(act_jump(egress));
  else
    delivery_actions(p, e.port, e.vid, fwd.actions);
  CompiledRule cf = owned(fwd, p.veth, e.port);
  cf.needs = {same_port};
  if (egress) cf.needs.push_back(chain_out(e.port));
  out.push_back(std::move(cf));

  // rx SPAN: frames from a mirrored source s take group 50+s instead of group 4, where
  // each forward first copies the frame as s sent it (untagged again for an access or
  // native-VLAN source). A frame that is dropped for a hairpin is not copied, and one
  // that misses is copied by the slow path: each frame is copied once.
  for (uint16_t s = 0; s < policy.ports.size(); ++s) {
    const PortPolicy& src = policy.ports[s];
    if (src.mirror_rx.empty() || !is_vf(src) || !admits(policy, s, e.vid)) continue;
    RuleSpec span;
    span.group = kGroupSpanL2 + s;
    span.match.eth_dst = e.mac;
    span.match.vlan_vid = e.vid;
    if (s == e.port) {
      span.priority = kPrioHairpin;
      out.push_back(dropping(std::move(span), p.veth, e.port, DropReason::same_port));
      continue;
    }
    span.priority = kPrioForward;
    span.actions = {act_count()};
    const bool was_untagged = untagged_out(src, e.vid);
    if (was_untagged) span.actions.push_back(act_pop_vlan());
    for (uint16_t m : src.mirror_rx) span.actions.push_back(act_mirror(m));
    if (was_untagged) {
      span.actions.push_back(act_push_vlan(kTpidC));
      span.actions.push_back(act_set_vid(e.vid));
    }
    span.actions.insert(span.actions.end(), fwd.actions.begin() + 1, fwd.actions.end());
    CompiledRule cs = owned(std::move(span), p.veth, e.port);
    if (egress) cs.needs = {chain_out(e.port)};
    out.push_back(std::move(cs));
  }
}

void compile_meters(const PolicySnapshot& policy, std::vector<CompiledMeter>& out) {
  for (uint16_t port = 0; port < policy.ports.size(); ++port) {
    const PortPolicy& p = policy.ports[port];
    if (!p.bound || !p.forwarding || !is_vf(p)) continue;
    for (bool input : {true, false}) {
      const auto& pol = input ? p.cfg.police_in : p.cfg.police_out;
      if (!pol) continue;
      CompiledMeter m;
      m.id = meter_id(port, input);
      m.veth = p.veth;
      m.port = port;
      m.input = input;
      m.cir_bytes_per_s = pol->cir_bytes_per_s;
      m.cbs_bytes = pol->cbs_bytes;
      out.push_back(m);
    }
  }
}

}  // namespace vfs::offload
