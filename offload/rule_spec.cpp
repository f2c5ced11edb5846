#include "offload/rule_spec.h"

#include <fmt/format.h>

namespace vfs::offload {

std::string mac_str(const Mac& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
}

std::string match_text(const RuleSpec& r) {
  std::string out;
  const auto& m = r.match;
  if (m.in_port) out += fmt::format("represented_port ethdev_port_id is {} / ", *m.in_port);
  if (m.eth_src || m.eth_dst || m.has_vlan) {
    out += "eth";
    if (m.eth_src) out += " src is " + mac_str(*m.eth_src);
    if (m.eth_dst) out += " dst is " + mac_str(*m.eth_dst);
    if (m.has_vlan) out += fmt::format(" has_vlan is {}", *m.has_vlan ? 1 : 0);
    out += " / ";
  }
  if (m.vlan_vid) out += fmt::format("vlan vid is {} / ", *m.vlan_vid);
  out += "end";
  return out;
}

std::string actions_text(const RuleSpec& r) {
  std::string out;
  for (const auto& a : r.actions) {
    switch (a.kind) {
      case ActionKind::count: out += "count / "; break;
      case ActionKind::drop: out += "drop / "; break;
      case ActionKind::jump: out += fmt::format("jump group {} / ", a.arg); break;
      case ActionKind::port: out += fmt::format("represented_port ethdev_port_id {} / ", a.arg); break;
      case ActionKind::push_vlan: out += fmt::format("of_push_vlan ethertype 0x{:04x} / ", a.arg); break;
      case ActionKind::set_vlan_vid: out += fmt::format("of_set_vlan_vid vlan_vid {} / ", a.arg); break;
      case ActionKind::pop_vlan: out += "of_pop_vlan / "; break;
    }
  }
  out += "end";
  return out;
}

std::string testpmd_text(const RuleSpec& r, uint16_t proxy_port) {
  return fmt::format("flow create {} transfer group {} priority {} pattern {} actions {}", proxy_port,
                     r.group, r.priority, match_text(r), actions_text(r));
}

}  // namespace vfs::offload
