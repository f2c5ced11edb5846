#include "vsm/effective_port.h"

#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>

namespace vfs::vsm {

std::vector<uint16_t> all_vlans() {
  std::vector<uint16_t> v(kMaxVlan);
  for (uint16_t i = 0; i < kMaxVlan; ++i) v[i] = static_cast<uint16_t>(i + 1);
  return v;
}

Result<std::vector<std::string>> inheritance_chain(const SwitchModel& model,
                                                   const std::string& name) {
  std::vector<std::string> chain;
  std::string next = name;
  while (!next.empty()) {
    if (std::find(chain.begin(), chain.end(), next) != chain.end()) {
      chain.push_back(next);
      return make_error(ELOOP, "port-profile inheritance loop: {}", fmt::join(chain, " -> "));
    }
    auto it = model.profiles.find(next);
    if (it == model.profiles.end()) {
      if (chain.empty()) return make_error(ENOENT, "port-profile {} does not exist", next);
      return make_error(ENOENT, "port-profile {} inherits port-profile {}, which does not exist",
                        chain.back(), next);
    }
    chain.push_back(next);
    next = it->second.inherit;
  }
  return chain;
}

void overlay_policy(const PortPolicy& l, PortPolicy& m) {
  for (auto [from, to] : {std::pair{&l.ip_acl_in, &m.ip_acl_in},
                          {&l.ip_acl_out, &m.ip_acl_out},
                          {&l.ipv6_acl_in, &m.ipv6_acl_in},
                          {&l.ipv6_acl_out, &m.ipv6_acl_out},
                          {&l.mac_acl_in, &m.mac_acl_in},
                          {&l.mac_acl_out, &m.mac_acl_out},
                          {&l.policy_in, &m.policy_in},
                          {&l.policy_out, &m.policy_out}}) {
    if (!from->empty()) *to = *from;
  }
  if (l.port_security) m.port_security = l.port_security;
  if (l.port_security_maximum) m.port_security_maximum = l.port_security_maximum;
  if (!l.port_security_macs.empty()) m.port_security_macs = l.port_security_macs;
  if (l.port_security_violation) m.port_security_violation = l.port_security_violation;
  if (l.ip_verify_source) m.ip_verify_source = l.ip_verify_source;
  if (l.storm_broadcast) m.storm_broadcast = l.storm_broadcast;
  if (l.storm_multicast) m.storm_multicast = l.storm_multicast;
  if (l.storm_unicast) m.storm_unicast = l.storm_unicast;
}

Result<EffectivePort> effective_profile(const SwitchModel& model, const std::string& name) {
  auto chain = inheritance_chain(model, name);
  if (!chain) return chain.error();
  EffectivePort e;
  e.trunk_allowed = all_vlans();
  // Farthest ancestor first, so that nearer profiles overwrite.
  for (auto it = chain->rbegin(); it != chain->rend(); ++it) {
    const PortProfile& p = model.profiles.at(*it);
    if (p.mode_set) e.mode = p.mode;
    if (p.access_vlan_set) e.access_vlan = p.access_vlan;
    if (p.shutdown_set) e.shutdown = p.shutdown;
    if (p.trunk_allowed) e.trunk_allowed = *p.trunk_allowed;
    if (p.native_vlan) {
      e.native_vlan = *p.native_vlan;
      e.native_vlan_set = true;
    }
    overlay_policy(p, e.policy);
  }
  e.chain = std::move(*chain);
  return e;
}

Result<EffectivePort> effective_interface(const SwitchModel& model, const VethInterface& itf) {
  EffectivePort e;
  e.trunk_allowed = all_vlans();
  if (!itf.profile.empty()) {
    auto p = effective_profile(model, itf.profile);
    if (!p) return p.error();
    e = std::move(*p);
  }
  if (itf.access_vlan) e.access_vlan = *itf.access_vlan;
  overlay_policy(itf, e.policy);
  return e;
}

}  // namespace vfs::vsm
