#include "vsm/running_config.h"

#include <fmt/core.h>

#include "vsm/vlan_list.h"

namespace vfs::vsm {

std::string_view switchport_mode_name(SwitchportMode m) {
  return m == SwitchportMode::trunk ? "trunk" : "access";
}

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

  for (AclFamily f : {AclFamily::ipv4, AclFamily::ipv6}) {
    for (const auto& [name, a] : model.acls(f)) {
      out += fmt::format("\n{} access-list {}\n", acl_family_keyword(f), name);
      if (a.statistics_per_entry) out += "  statistics per-entry\n";
      for (const auto& [seq, e] : a.entries)
        out += fmt::format("  {} {}\n", seq, render_acl_entry(e, f));
    }
  }

  for (const auto& [name, p] : model.profiles) {
    out += fmt::format("\nport-profile type vethernet {}\n", name);
    if (!p.description.empty()) out += fmt::format("  description {}\n", p.description);
    out += fmt::format("  switchport mode {}\n", switchport_mode_name(p.mode));
    if (p.access_vlan != kDefaultVlan)
      out += fmt::format("  switchport access vlan {}\n", p.access_vlan);
    if (!p.ip_acl_in.empty()) out += fmt::format("  ip port access-group {} in\n", p.ip_acl_in);
    if (!p.ip_acl_out.empty()) out += fmt::format("  ip port access-group {} out\n", p.ip_acl_out);
    if (!p.ipv6_acl_in.empty())
      out += fmt::format("  ipv6 port traffic-filter {} in\n", p.ipv6_acl_in);
    if (!p.ipv6_acl_out.empty())
      out += fmt::format("  ipv6 port traffic-filter {} out\n", p.ipv6_acl_out);
    out += p.shutdown ? "  shutdown\n" : "  no shutdown\n";
    if (p.state_enabled) out += "  state enabled\n";
  }

  for (const auto& [n, i] : model.interfaces) {
    out += fmt::format("\ninterface vethernet {}\n", n);
    if (!i.profile.empty()) out += fmt::format("  inherit port-profile {}\n", i.profile);
    if (!i.description.empty()) out += fmt::format("  description {}\n", i.description);
    if (i.shutdown) out += "  shutdown\n";
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
         {"ipv6_port_traffic_filter", {{"in", p.ipv6_acl_in}, {"out", p.ipv6_acl_out}}}});
  }
  nlohmann::json itfs = nlohmann::json::array();
  for (const auto& [n, i] : model.interfaces) {
    itfs.push_back({{"vethernet", n},
                    {"inherit_port_profile", i.profile},
                    {"description", i.description},
                    {"shutdown", i.shutdown}});
  }
  nlohmann::json users = nlohmann::json::array();
  for (const auto& [name, u] : model.users)
    users.push_back({{"username", name}, {"role", role_name(u.role)}});
  nlohmann::json acls = nlohmann::json::array();
  for (AclFamily f : {AclFamily::ipv4, AclFamily::ipv6}) {
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
  return {{"users", users},
          {"access_lists", acls},
          {"vlans", vlans},
          {"port_profiles", profiles},
          {"interfaces", itfs}};
}

}  // namespace vfs::vsm
