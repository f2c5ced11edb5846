// The show rows about port-profiles: each profile's own settings and the settings in force
// with inheritance (vsm/effective_port.h), and which interfaces inherit it.
#include <tuple>

#include <fmt/core.h>
#include <fmt/format.h>

#include "vsm/cli_show.h"
#include "vsm/effective_port.h"
#include "vsm/running_config.h"
#include "vsm/vlan_list.h"

namespace vfs::vsm {

std::string_view violation_mode_name(ViolationMode m) {
  switch (m) {
    case ViolationMode::shutdown:
      return "shutdown";
    case ViolationMode::restrict:
      return "restrict";
    case ViolationMode::protect:
      return "protect";
  }
  return "?";
}

namespace {

using nlohmann::json;

// "evaluated config attributes": the settings in force, inherited ones included.
std::string evaluated_attributes(const SwitchModel& model, const std::string& name) {
  auto e = effective_profile(model, name);
  if (!e) return fmt::format("  (cannot be resolved: {})\n", e.error().message);
  std::string out = fmt::format("  switchport mode {}\n", switchport_mode_name(e->mode));
  if (e->mode == SwitchportMode::access) {
    out += fmt::format("  switchport access vlan {}\n", e->access_vlan);
  } else {
    out += fmt::format("  switchport trunk allowed vlan {}\n",
                       e->trunk_allowed.empty() ? "none" : format_vlan_list(e->trunk_allowed));
    out += fmt::format("  switchport trunk native vlan {}\n", e->native_vlan);
  }
  const PortPolicy& p = e->policy;
  for (auto [kw, in, out_] : {std::tuple{"ip port access-group", &p.ip_acl_in, &p.ip_acl_out},
                              {"ipv6 port traffic-filter", &p.ipv6_acl_in, &p.ipv6_acl_out},
                              {"mac port access-group", &p.mac_acl_in, &p.mac_acl_out}}) {
    if (!in->empty()) out += fmt::format("  {} {} in\n", kw, *in);
    if (!out_->empty()) out += fmt::format("  {} {} out\n", kw, *out_);
  }
  if (!p.policy_in.empty()) out += fmt::format("  service-policy input {}\n", p.policy_in);
  if (!p.policy_out.empty()) out += fmt::format("  service-policy output {}\n", p.policy_out);
  if (p.port_security.value_or(false))
    out += fmt::format(
        "  switchport port-security maximum {} violation {}\n", p.port_security_maximum.value_or(1),
        violation_mode_name(p.port_security_violation.value_or(ViolationMode::shutdown)));
  if (p.ip_verify_source.value_or(false)) out += "  ip verify source\n";
  for (auto [kind, level] : {std::pair{"broadcast", &p.storm_broadcast},
                             {"multicast", &p.storm_multicast},
                             {"unicast", &p.storm_unicast}}) {
    if (*level)
      out += fmt::format("  storm-control {} level {}.{:02}\n", kind, **level / 100, **level % 100);
  }
  out += e->shutdown ? "  shutdown\n" : "  no shutdown\n";
  return out;
}

Result<CommandOutput> show_port_profiles(CommandContext& c, const std::string* only) {
  if (only && !c.model.profiles.contains(*only))
    return make_error(ENOENT, "port-profile {} does not exist", *only);
  const std::string running = render_running_config(c.model);
  CommandOutput out;
  out.data = {{"port_profiles", json::array()}};
  for (const auto& [name, p] : c.model.profiles) {
    if (only && name != *only) continue;
    auto users = c.model.interfaces_inheriting(name);
    if (!out.text.empty()) out.text += "\n";
    out.text += fmt::format("port-profile {}\n type: Vethernet\n description: {}\n status: {}\n",
                            name, p.description, p.state_enabled ? "enabled" : "disabled");
    out.text += fmt::format(" max-ports: {}\n",
                            p.max_ports ? std::to_string(p.max_ports) : std::string("no limit"));
    auto chain = inheritance_chain(c.model, name);
    std::vector<std::string> parents;
    if (chain) parents.assign(chain->begin() + 1, chain->end());
    out.text += fmt::format(" inherit: {}\n",
                            parents.empty() ? "-" : fmt::format("{}", fmt::join(parents, " -> ")));
    // Its own lines, as running-config has them (without the header and the ones above).
    out.text += " config attributes:\n";
    std::string own = running_config_section(running, "port-profile type vethernet " + name);
    size_t header = own.find("\nport-profile type vethernet ");
    if (header != std::string::npos) {
      size_t body = own.find('\n', header + 1);
      out.text += body == std::string::npos ? "" : own.substr(body + 1);
    }
    out.text += " evaluated config attributes:\n" + evaluated_attributes(c.model, name);
    out.text += " assigned interfaces:\n";
    for (auto n : users) out.text += fmt::format("  {}\n", veth_name(n));
    auto e = effective_profile(c.model, name);
    out.data["port_profiles"].push_back(
        {{"name", name},
         {"type", "vethernet"},
         {"description", p.description},
         {"state_enabled", p.state_enabled},
         {"max_ports", p.max_ports},
         {"inherits", parents},
         {"switchport_mode", switchport_mode_name(e ? e->mode : p.mode)},
         {"access_vlan", e ? e->access_vlan : p.access_vlan},
         {"shutdown", e ? e->shutdown : p.shutdown},
         {"interfaces", users}});
  }
  out.text = trim_lines(out.text);
  return out;
}

Result<CommandOutput> show_port_profile_usage(CommandContext& c) {
  CommandOutput out;
  out.data = {{"port_profiles", json::array()}};
  for (const auto& [name, p] : c.model.profiles) {
    auto users = c.model.interfaces_inheriting(name);
    out.text += fmt::format("port-profile {}\n", name);
    std::vector<std::string> names;
    for (auto n : users) {
      out.text += fmt::format(" {}\n", veth_name(n));
      names.push_back(veth_name(n));
    }
    out.data["port_profiles"].push_back({{"name", name}, {"interfaces", names}});
  }
  return out;
}

}  // namespace

std::vector<CommandSpec> profile_show_rows() {
  std::vector<CommandSpec> rows;
  rows.push_back(show_row({keyword("port-profile", "Port-profile information")},
                          "Show all port-profiles",
                          [](CommandContext& c) { return show_port_profiles(c, nullptr); }));
  rows.push_back(show_row(
      {keyword("port-profile"), keyword("name"), word_arg("NAME", 80, "Port-profile name")},
      "Show one port-profile",
      [](CommandContext& c) { return show_port_profiles(c, &c.args[0].text); }));
  rows.push_back(show_row({keyword("port-profile"), keyword("usage")},
                          "Show which interfaces inherit each port-profile",
                          show_port_profile_usage));
  return rows;
}

}  // namespace vfs::vsm
