#include "vsm/dataplane_config.h"

#include <algorithm>
#include <optional>
#include <tuple>

#include <fmt/core.h>

#include "vsm/acl.h"
#include "vsm/effective_port.h"

namespace vfs::vsm {
namespace {

// Records the first reason the port cannot forward; later ones do not overwrite it.
void close_port(ResolvedVeth& v, std::string reason) {
  if (v.forwarding || v.reason.empty()) v.reason = std::move(reason);
  v.forwarding = false;
}

std::string owner_text(const VethInterface& itf, const EffectivePort& e) {
  if (e.chain.empty()) return fmt::format("Vethernet{}", itf.number);
  return fmt::format("port-profile {}", e.chain.front());
}

void resolve_filters(const SwitchModel& model, const EffectivePort& e, const std::string& owner,
                     ResolvedVeth& v) {
  const PortPolicy& p = e.policy;
  struct Slot {
    AclFamily family;
    const std::string& name;
    std::optional<ResolvedAcl>& out;
    const char* what;
  };
  // A filter that cannot be resolved closes the port rather than forward unfiltered.
  for (const Slot& s : {Slot{AclFamily::ipv4, p.ip_acl_in, v.ip_acl_in, "in"},
                        Slot{AclFamily::ipv4, p.ip_acl_out, v.ip_acl_out, "out"},
                        Slot{AclFamily::ipv6, p.ipv6_acl_in, v.ipv6_acl_in, "in"},
                        Slot{AclFamily::ipv6, p.ipv6_acl_out, v.ipv6_acl_out, "out"},
                        Slot{AclFamily::mac, p.mac_acl_in, v.mac_acl_in, "in"},
                        Slot{AclFamily::mac, p.mac_acl_out, v.mac_acl_out, "out"}}) {
    if (s.name.empty()) continue;
    const auto& acls = model.acls(s.family);
    auto a = acls.find(s.name);
    if (a == acls.end()) {
      close_port(v, fmt::format("{} access-list {} ({}) of {} does not exist",
                                acl_family_keyword(s.family), s.name, s.what, owner));
      continue;
    }
    s.out = resolve_acl(a->second);
  }
  for (auto [name, out, dir] : {std::tuple{&p.policy_in, &v.police_in, "input"},
                                std::tuple{&p.policy_out, &v.police_out, "output"}}) {
    if (name->empty()) continue;
    auto pm = model.policy_maps.find(*name);
    if (pm == model.policy_maps.end()) {
      close_port(v, fmt::format("policy-map {} (service-policy {}) of {} does not exist", *name,
                                dir, owner));
      continue;
    }
    if (!pm->second.police) continue;  // a policy-map without police: nothing to enforce
    auto r = resolve_policer(*name, *pm->second.police);
    if (!r) {
      close_port(v, r.error().message);
      continue;
    }
    *out = std::move(*r);
  }
}

void resolve_security(const SwitchModel& model, const EffectivePort& e, const std::string& owner,
                      ResolvedVeth& v) {
  const PortPolicy& p = e.policy;
  v.port_security.enabled = p.port_security.value_or(false);
  v.port_security.maximum = p.port_security_maximum.value_or(1);
  v.port_security.static_macs = p.port_security_macs;
  v.port_security.violation = p.port_security_violation.value_or(ViolationMode::shutdown);
  if (v.port_security.enabled && v.port_security.static_macs.size() > v.port_security.maximum)
    close_port(v, fmt::format("{} has {} static port-security MACs, more than its maximum {}",
                              owner, v.port_security.static_macs.size(), v.port_security.maximum));
  v.ip_verify_source = p.ip_verify_source.value_or(false);
  for (const auto& b : model.source_bindings) {
    if (b.veth == v.number) v.source_bindings.push_back(SourceBinding{b.ip, b.v6, b.mac, b.vlan});
  }
  auto level = [](const std::optional<uint16_t>& l) { return l ? *l / 100.0 : -1.0; };
  v.storm =
      StormControl{level(p.storm_broadcast), level(p.storm_multicast), level(p.storm_unicast)};
}

void resolve_vlans(const SwitchModel& model, const EffectivePort& e, const std::string& owner,
                   ResolvedVeth& v) {
  v.mode = e.mode;
  v.access_vlan = e.access_vlan;
  if (e.mode == SwitchportMode::access) {
    if (!model.vlans.contains(e.access_vlan))
      close_port(v, fmt::format("access VLAN {} of {} is not defined", e.access_vlan, owner));
    return;
  }
  // A trunk carries the allowed VLANs that exist on the switch.
  for (uint16_t id : e.trunk_allowed) {
    if (model.vlans.contains(id)) v.trunk_allowed.push_back(id);
  }
  const bool allowed = std::ranges::binary_search(e.trunk_allowed, e.native_vlan);
  if (e.native_vlan_set) {
    if (!allowed)
      close_port(
          v, fmt::format("native VLAN {} of {} is not in its allowed VLANs", e.native_vlan, owner));
    else if (!model.vlans.contains(e.native_vlan))
      close_port(v, fmt::format("native VLAN {} of {} is not defined", e.native_vlan, owner));
    else
      v.native_vlan = e.native_vlan;
  } else if (allowed && model.vlans.contains(e.native_vlan)) {
    v.native_vlan = e.native_vlan;  // default native VLAN 1, when the trunk carries it
  }
}

}  // namespace

ResolvedVeth resolve_veth(const SwitchModel& model, const VethRecord& record) {
  ResolvedVeth v;
  v.number = record.number;
  v.vf = record.vf;
  v.vm = record.vm;
  v.vm_uuid = record.vm_uuid;
  v.mac = record.mac;
  auto itf = model.interfaces.find(record.number);
  if (itf == model.interfaces.end() || itf->second.profile.empty()) {
    v.reason = "no port-profile inherited";
    return v;
  }
  v.profile = itf->second.profile;
  auto prof = model.profiles.find(v.profile);
  if (prof == model.profiles.end()) {
    v.reason = fmt::format("port-profile {} does not exist", v.profile);
    return v;
  }
  const PortProfile& p = prof->second;
  auto e = effective_interface(model, itf->second);
  if (!e) {
    v.reason = e.error().message;
    return v;
  }
  v.forwarding = true;
  if (!p.state_enabled) {
    close_port(v, fmt::format("port-profile {} is not enabled", p.name));
  } else if (e->shutdown) {
    close_port(v, fmt::format("port-profile {} is shut down", p.name));
  } else if (itf->second.shutdown) {
    close_port(v, fmt::format("Vethernet{} is shut down", record.number));
  }
  const std::string owner = owner_text(itf->second, *e);
  resolve_vlans(model, *e, owner, v);
  resolve_filters(model, *e, owner, v);
  resolve_security(model, *e, owner, v);
  return v;
}

DataplaneConfig resolve_dataplane_config(const SwitchModel& model, const VethRegistry& registry) {
  DataplaneConfig cfg;
  for (const auto& [id, vlan] : model.vlans) cfg.vlans.push_back(id);
  for (const auto& [n, r] : registry.records()) {
    if (r.vf >= 0) cfg.veths.push_back(resolve_veth(model, r));
  }
  for (const auto& [id, m] : model.monitor_sessions) {
    ResolvedMonitorSession s;
    s.id = id;
    for (const auto& [n, d] : m.sources) {
      if (d != SpanDirection::tx) s.rx_sources.push_back(n);
      if (d != SpanDirection::rx) s.tx_sources.push_back(n);
    }
    s.destination = m.destination;
    s.shut = m.shut;
    cfg.monitor_sessions.push_back(std::move(s));
  }
  return cfg;
}

namespace {
// Every field of the resolved structs: a field left out here would let a change go
// unapplied. tests/unit/vsm/dataplane_config_test.cpp changes each one.
auto fields(const PortMatch& p) { return std::tie(p.op, p.lo, p.hi); }
auto fields(const AddressMatch& m) { return std::tie(m.addr, m.mask); }

bool same(const ResolvedAce& a, const ResolvedAce& b) {
  auto f = [](const ResolvedAce& e) {
    return std::tie(e.seq, e.permit, e.protocol, e.icmp_type, e.icmp_code, e.established, e.src_mac,
                    e.src_mac_mask, e.dst_mac, e.dst_mac_mask, e.ethertype);
  };
  return f(a) == f(b) && fields(a.src) == fields(b.src) && fields(a.dst) == fields(b.dst) &&
         fields(a.src_port) == fields(b.src_port) && fields(a.dst_port) == fields(b.dst_port);
}

bool same(const std::optional<ResolvedAcl>& a, const std::optional<ResolvedAcl>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  if (std::tie(a->name, a->family, a->statistics_per_entry) !=
          std::tie(b->name, b->family, b->statistics_per_entry) ||
      a->entries.size() != b->entries.size())
    return false;
  for (size_t i = 0; i < a->entries.size(); ++i) {
    if (!same(a->entries[i], b->entries[i])) return false;
  }
  return true;
}

bool same(const std::optional<ResolvedPolicer>& a, const std::optional<ResolvedPolicer>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || std::tie(a->policy_map, a->cir_bytes_per_s, a->cbs_bytes) ==
                   std::tie(b->policy_map, b->cir_bytes_per_s, b->cbs_bytes);
}

auto fields(const ResolvedPortSecurity& p) {
  return std::tie(p.enabled, p.maximum, p.static_macs, p.violation);
}
auto fields(const SourceBinding& s) { return std::tie(s.ip, s.v6, s.mac, s.vlan); }
auto fields(const StormControl& s) { return std::tie(s.broadcast, s.multicast, s.unicast); }

auto fields(const ResolvedVeth& v) {
  return std::tie(v.number, v.vf, v.vm, v.vm_uuid, v.mac, v.profile, v.mode, v.access_vlan,
                  v.forwarding, v.reason, v.trunk_allowed, v.native_vlan, v.ip_verify_source);
}

bool same(const ResolvedVeth& a, const ResolvedVeth& b) {
  if (fields(a) != fields(b) || fields(a.port_security) != fields(b.port_security) ||
      fields(a.storm) != fields(b.storm) || a.source_bindings.size() != b.source_bindings.size())
    return false;
  for (size_t i = 0; i < a.source_bindings.size(); ++i) {
    if (fields(a.source_bindings[i]) != fields(b.source_bindings[i])) return false;
  }
  return same(a.ip_acl_in, b.ip_acl_in) && same(a.ip_acl_out, b.ip_acl_out) &&
         same(a.ipv6_acl_in, b.ipv6_acl_in) && same(a.ipv6_acl_out, b.ipv6_acl_out) &&
         same(a.mac_acl_in, b.mac_acl_in) && same(a.mac_acl_out, b.mac_acl_out) &&
         same(a.police_in, b.police_in) && same(a.police_out, b.police_out);
}

auto fields(const ResolvedMonitorSession& m) {
  return std::tie(m.id, m.rx_sources, m.tx_sources, m.destination, m.shut);
}
}  // namespace

bool same_dataplane_config(const DataplaneConfig& a, const DataplaneConfig& b) {
  if (a.vlans != b.vlans || a.veths.size() != b.veths.size() ||
      a.monitor_sessions.size() != b.monitor_sessions.size())
    return false;
  for (size_t i = 0; i < a.veths.size(); ++i) {
    if (!same(a.veths[i], b.veths[i])) return false;
  }
  for (size_t i = 0; i < a.monitor_sessions.size(); ++i) {
    if (fields(a.monitor_sessions[i]) != fields(b.monitor_sessions[i])) return false;
  }
  return true;
}

}  // namespace vfs::vsm
