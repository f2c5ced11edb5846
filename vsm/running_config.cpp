#include "vsm/running_config.h"

#include <arpa/inet.h>

#include <set>
#include <tuple>

#include <fmt/core.h>

#include "vsm/vlan_list.h"

namespace vfs::vsm {

std::string_view switchport_mode_name(SwitchportMode m) {
  return m == SwitchportMode::trunk ? "trunk" : "access";
}

namespace {

std::string_view violation_name(ViolationMode m) {
  switch (m) {
    case ViolationMode::protect:
      return "protect";
    case ViolationMode::restrict:
      return "restrict";
    case ViolationMode::shutdown:
      return "shutdown";
  }
  return "shutdown";
}

std::string format_level(uint16_t hundredths) {
  return fmt::format("{}.{:02}", hundredths / 100, hundredths % 100);
}

std::string format_binding_ip(const IpSourceBinding& b) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(b.v6 ? AF_INET6 : AF_INET, b.ip.data(), buf, sizeof(buf));
  return buf;
}

std::string_view span_direction_name(SpanDirection d) {
  return d == SpanDirection::rx ? "rx" : d == SpanDirection::tx ? "tx" : "both";
}

std::string render_allowed(const std::vector<uint16_t>& vlans) {
  if (vlans.empty()) return "none";
  if (vlans.size() == kMaxVlan) return "all";
  return format_vlan_list(vlans);
}

// The lines a profile and an interface share, in an order that replays (maximum before
// the static MACs it bounds).
void render_policy(const PortPolicy& p, std::string& out) {
  for (auto [kw, in, out_] : {std::tuple{"ip port access-group", &p.ip_acl_in, &p.ip_acl_out},
                              {"ipv6 port traffic-filter", &p.ipv6_acl_in, &p.ipv6_acl_out}}) {
    if (!in->empty()) out += fmt::format("  {} {} in\n", kw, *in);
    if (!out_->empty()) out += fmt::format("  {} {} out\n", kw, *out_);
  }
  if (!p.mac_acl_in.empty()) out += fmt::format("  mac port access-group {}\n", p.mac_acl_in);
  if (!p.mac_acl_out.empty()) out += fmt::format("  mac port access-group {} out\n", p.mac_acl_out);
  if (!p.policy_in.empty()) out += fmt::format("  service-policy input {}\n", p.policy_in);
  if (!p.policy_out.empty()) out += fmt::format("  service-policy output {}\n", p.policy_out);
  if (p.port_security)
    out += *p.port_security ? "  switchport port-security\n" : "  no switchport port-security\n";
  if (p.port_security_maximum)
    out += fmt::format("  switchport port-security maximum {}\n", *p.port_security_maximum);
  for (const auto& mac : p.port_security_macs)
    out += fmt::format("  switchport port-security mac-address {}\n", format_mac(mac));
  if (p.port_security_violation)
    out += fmt::format("  switchport port-security violation {}\n",
                       violation_name(*p.port_security_violation));
  if (p.ip_verify_source)
    out += *p.ip_verify_source ? "  ip verify source\n" : "  no ip verify source\n";
  for (auto [kind, level] : {std::pair{"broadcast", &p.storm_broadcast},
                             {"multicast", &p.storm_multicast},
                             {"unicast", &p.storm_unicast}}) {
    if (*level) out += fmt::format("  storm-control {} level {}\n", kind, format_level(**level));
  }
}

void render_profile(const PortProfile& p, std::string& out) {
  out += fmt::format("\nport-profile type vethernet {}\n", p.name);
  if (!p.inherit.empty()) out += fmt::format("  inherit port-profile {}\n", p.inherit);
  if (!p.description.empty()) out += fmt::format("  description {}\n", p.description);
  if (p.mode_set) out += fmt::format("  switchport mode {}\n", switchport_mode_name(p.mode));
  if (p.access_vlan_set) out += fmt::format("  switchport access vlan {}\n", p.access_vlan);
  if (p.trunk_allowed)
    out += fmt::format("  switchport trunk allowed vlan {}\n", render_allowed(*p.trunk_allowed));
  if (p.native_vlan) out += fmt::format("  switchport trunk native vlan {}\n", *p.native_vlan);
  render_policy(p, out);
  if (p.shutdown_set) out += p.shutdown ? "  shutdown\n" : "  no shutdown\n";
  if (p.max_ports > 0) out += fmt::format("  max-ports {}\n", p.max_ports);
  if (p.state_enabled) out += "  state enabled\n";
}

// Parents before the profiles that inherit them, so that the text replays.
void render_profile_tree(const SwitchModel& model, const std::string& name,
                         std::set<std::string>& done, std::string& out) {
  if (done.contains(name)) return;
  done.insert(name);  // first: a (never valid) loop cannot recurse forever
  auto it = model.profiles.find(name);
  if (it == model.profiles.end()) return;
  if (!it->second.inherit.empty()) render_profile_tree(model, it->second.inherit, done, out);
  render_profile(it->second, out);
}

template <class T>
nlohmann::json optional_json(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json port_security_json(const PortPolicy& p) {
  nlohmann::json macs = nlohmann::json::array();
  for (const auto& m : p.port_security_macs) macs.push_back(format_mac(m));
  return {{"enabled", optional_json(p.port_security)},
          {"maximum", optional_json(p.port_security_maximum)},
          {"mac_addresses", macs},
          {"violation", p.port_security_violation
                            ? nlohmann::json(violation_name(*p.port_security_violation))
                            : nlohmann::json(nullptr)}};
}

nlohmann::json storm_json(const PortPolicy& p) {
  auto level = [](const std::optional<uint16_t>& l) {
    return l ? nlohmann::json(format_level(*l)) : nlohmann::json(nullptr);
  };
  return {{"broadcast", level(p.storm_broadcast)},
          {"multicast", level(p.storm_multicast)},
          {"unicast", level(p.storm_unicast)}};
}

}  // namespace

std::string render_running_config(const SwitchModel& model) {
  std::string out = "!Command: show running-config\n";
  out += fmt::format("!vfswitch version {}\n", kVersion);

  if (!model.users.empty()) out += "\n";
  for (const auto& [name, u] : model.users)
    out += fmt::format("username {} role {}\n", name, role_name(u.role));

  std::vector<uint16_t> ids;
  for (const auto& [id, v] : model.vlans) ids.push_back(id);
  out += fmt::format("\nvlan {}\n", format_vlan_list(ids));
  for (const auto& [id, v] : model.vlans) {
    if (v.name != default_vlan_name(id)) out += fmt::format("vlan {}\n  name {}\n", id, v.name);
  }

  for (AclFamily f : {AclFamily::ipv4, AclFamily::ipv6, AclFamily::mac}) {
    for (const auto& [name, a] : model.acls(f)) {
      out += fmt::format("\n{} access-list {}\n", acl_family_keyword(f), name);
      if (a.statistics_per_entry) out += "  statistics per-entry\n";
      for (const auto& [seq, e] : a.entries)
        out += fmt::format("  {} {}\n", seq, render_acl_entry(e, f));
    }
  }

  for (const auto& [name, pm] : model.policy_maps) {
    out += fmt::format("\npolicy-map type qos {}\n", name);
    if (pm.class_default) out += "  class class-default\n";
    if (pm.police) out += fmt::format("    {}\n", render_police(*pm.police));
  }

  std::set<std::string> rendered;
  for (const auto& [name, p] : model.profiles) render_profile_tree(model, name, rendered, out);

  for (const auto& [n, i] : model.interfaces) {
    out += fmt::format("\ninterface vethernet {}\n", n);
    if (!i.profile.empty()) out += fmt::format("  inherit port-profile {}\n", i.profile);
    if (!i.description.empty()) out += fmt::format("  description {}\n", i.description);
    if (i.access_vlan) out += fmt::format("  switchport access vlan {}\n", *i.access_vlan);
    render_policy(i, out);
    if (i.shutdown) out += "  shutdown\n";
  }

  if (!model.source_bindings.empty()) out += "\n";
  for (const auto& b : model.source_bindings)
    out += fmt::format("ip source binding {} {} vlan {} interface vethernet {}\n",
                       format_binding_ip(b), format_mac(b.mac), b.vlan, b.veth);

  for (const auto& [id, m] : model.monitor_sessions) {
    out += fmt::format("\nmonitor session {}\n", id);
    for (const auto& [n, d] : m.sources)
      out += fmt::format("  source interface vethernet {} {}\n", n, span_direction_name(d));
    if (m.destination) out += fmt::format("  destination interface vethernet {}\n", *m.destination);
    out += m.shut ? "  shut\n" : "  no shut\n";
  }
  return out;
}

nlohmann::json model_json(const SwitchModel& model) {
  nlohmann::json vlans = nlohmann::json::array();
  for (const auto& [id, v] : model.vlans) vlans.push_back({{"id", id}, {"name", v.name}});
  nlohmann::json profiles = nlohmann::json::array();
  for (const auto& [name, p] : model.profiles) {
    profiles.push_back(
        {{"name", name},
         {"type", "vethernet"},
         {"description", p.description},
         {"switchport_mode", switchport_mode_name(p.mode)},
         {"access_vlan", p.access_vlan},
         {"shutdown", p.shutdown},
         {"state_enabled", p.state_enabled},
         {"ip_port_access_group", {{"in", p.ip_acl_in}, {"out", p.ip_acl_out}}},
         {"ipv6_port_traffic_filter", {{"in", p.ipv6_acl_in}, {"out", p.ipv6_acl_out}}},
         {"mac_port_access_group", {{"in", p.mac_acl_in}, {"out", p.mac_acl_out}}},
         {"service_policy", {{"input", p.policy_in}, {"output", p.policy_out}}},
         {"port_security", port_security_json(p)},
         {"ip_verify_source", optional_json(p.ip_verify_source)},
         {"storm_control", storm_json(p)},
         {"set",
          {{"switchport_mode", p.mode_set},
           {"access_vlan", p.access_vlan_set},
           {"shutdown", p.shutdown_set}}},
         {"trunk_allowed_vlan",
          p.trunk_allowed ? nlohmann::json(render_allowed(*p.trunk_allowed)) : nullptr},
         {"trunk_native_vlan", optional_json(p.native_vlan)},
         {"inherit_port_profile", p.inherit},
         {"max_ports", p.max_ports}});
  }
  nlohmann::json itfs = nlohmann::json::array();
  for (const auto& [n, i] : model.interfaces) {
    itfs.push_back({{"vethernet", n},
                    {"inherit_port_profile", i.profile},
                    {"access_vlan", optional_json(i.access_vlan)},
                    {"ip_port_access_group", {{"in", i.ip_acl_in}, {"out", i.ip_acl_out}}},
                    {"ipv6_port_traffic_filter", {{"in", i.ipv6_acl_in}, {"out", i.ipv6_acl_out}}},
                    {"mac_port_access_group", {{"in", i.mac_acl_in}, {"out", i.mac_acl_out}}},
                    {"service_policy", {{"input", i.policy_in}, {"output", i.policy_out}}},
                    {"port_security", port_security_json(i)},
                    {"ip_verify_source", optional_json(i.ip_verify_source)},
                    {"storm_control", storm_json(i)},
                    {"description", i.description},
                    {"shutdown", i.shutdown}});
  }
  nlohmann::json users = nlohmann::json::array();
  for (const auto& [name, u] : model.users)
    users.push_back({{"username", name}, {"role", role_name(u.role)}});
  nlohmann::json acls = nlohmann::json::array();
  for (AclFamily f : {AclFamily::ipv4, AclFamily::ipv6, AclFamily::mac}) {
    for (const auto& [name, a] : model.acls(f)) {
      nlohmann::json entries = nlohmann::json::array();
      for (const auto& [seq, e] : a.entries)
        entries.push_back({{"seq", seq}, {"entry", render_acl_entry(e, f)}});
      acls.push_back({{"family", acl_family_keyword(f)},
                      {"name", name},
                      {"statistics_per_entry", a.statistics_per_entry},
                      {"entries", entries}});
    }
  }
  nlohmann::json pmaps = nlohmann::json::array();
  for (const auto& [name, pm] : model.policy_maps) {
    nlohmann::json police = nullptr;
    if (pm.police) {
      auto r = resolve_policer(name, *pm.police);
      police = {{"text", render_police(*pm.police)},
                {"cir_bytes_per_s", r ? r->cir_bytes_per_s : 0},
                {"cbs_bytes", r ? r->cbs_bytes : 0}};
    }
    pmaps.push_back({{"name", name}, {"class_default", pm.class_default}, {"police", police}});
  }
  nlohmann::json sessions = nlohmann::json::array();
  for (const auto& [id, m] : model.monitor_sessions) {
    nlohmann::json sources = nlohmann::json::array();
    for (const auto& [n, d] : m.sources)
      sources.push_back({{"vethernet", n}, {"direction", span_direction_name(d)}});
    sessions.push_back({{"session", id},
                        {"sources", sources},
                        {"destination", optional_json(m.destination)},
                        {"shut", m.shut}});
  }
  nlohmann::json bindings = nlohmann::json::array();
  for (const auto& b : model.source_bindings)
    bindings.push_back({{"address", format_binding_ip(b)},
                        {"mac", format_mac(b.mac)},
                        {"vlan", b.vlan},
                        {"vethernet", b.veth}});
  return {{"users", users},
          {"access_lists", acls},
          {"policy_maps", pmaps},
          {"monitor_sessions", sessions},
          {"ip_source_bindings", bindings},
          {"vlans", vlans},
          {"port_profiles", profiles},
          {"interfaces", itfs}};
}

}  // namespace vfs::vsm
