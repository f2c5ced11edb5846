// The show rows about ports: vEthernet interfaces (status and why a port is down, owner,
// VF, settings, counters per the counters contract), VLANs and the policy-maps applied to
// an interface. Settings come from resolve_veth(), so what is shown
// is what the datapath enforces.
#include <algorithm>
#include <map>

#include <fmt/core.h>
#include <fmt/format.h>

#include "vsm/cli_show.h"
#include "vsm/qos.h"
#include "vsm/running_config.h"
#include "vsm/vlan_list.h"

namespace vfs::vsm {
namespace {

using nlohmann::json;

const std::string kRule(80, '-');

bool has_profile(const CommandContext& c, const InterfaceStatus& s) {
  return !s.resolved.profile.empty() && c.model.profiles.contains(s.resolved.profile);
}

// The VLANs a port carries: its access VLAN, or the allowed VLANs of a trunk.
std::vector<uint16_t> carried_vlans(const ResolvedVeth& v) {
  if (v.mode == SwitchportMode::trunk) return v.trunk_allowed;
  return {v.access_vlan};
}

Result<CommandOutput> show_vlan_brief(CommandContext& c) {
  std::map<uint16_t, std::vector<uint32_t>> ports;
  for (const auto& [n, itf] : c.model.interfaces) {
    auto s = status_of(c, n);
    if (!s.bound() || !has_profile(c, s)) continue;
    for (uint16_t vlan : carried_vlans(s.resolved)) ports[vlan].push_back(n);
  }
  CommandOutput out;
  out.text =
      "\nVLAN Name                             Status    Ports\n"
      "---- -------------------------------- --------- -------------------------------\n";
  out.data = {{"vlans", json::array()}};
  for (const auto& [id, v] : c.model.vlans) {
    std::vector<std::string> names;
    for (auto n : ports[id]) names.push_back(veth_short(n));
    out.text +=
        fmt::format("{:<4} {:<32} {:<9} {}\n", id, v.name, "active", fmt::join(names, ", "));
    out.data["vlans"].push_back(
        {{"id", id}, {"name", v.name}, {"status", "active"}, {"ports", names}});
  }
  out.text = trim_lines(out.text);
  return out;
}

std::string vlan_column(const CommandContext& c, const InterfaceStatus& s) {
  if (!has_profile(c, s)) return "-";
  if (s.resolved.mode == SwitchportMode::access) return std::to_string(s.resolved.access_vlan);
  return s.resolved.native_vlan ? std::to_string(*s.resolved.native_vlan) : "-";
}

Result<CommandOutput> show_interface_brief(CommandContext& c) {
  CommandOutput out;
  out.text = kRule + "\n" +
             fmt::format("{:<13} {:<5} {:<7} {:<7} {:<20} {}\n", "Interface", "VLAN", "Mode",
                         "Status", "Port-profile", "Reason") +
             kRule + "\n";
  out.data = {{"interfaces", json::array()}};
  for (const auto& [n, itf] : c.model.interfaces) {
    auto s = status_of(c, n);
    std::string vlan = vlan_column(c, s);
    std::string mode = has_profile(c, s) ? std::string(switchport_mode_name(s.resolved.mode)) : "-";
    out.text += fmt::format("{:<13} {:<5} {:<7} {:<7} {:<20} {}\n", veth_short(n), vlan, mode,
                            s.up() ? "up" : "down", itf.profile.empty() ? "-" : itf.profile,
                            s.up() ? "none" : s.reason());
    out.data["interfaces"].push_back({{"interface", veth_name(n)},
                                      {"vethernet", n},
                                      {"vlan", vlan == "-" ? json(nullptr) : json(std::stoi(vlan))},
                                      {"mode", mode},
                                      {"status", s.up() ? "up" : "down"},
                                      {"port_profile", itf.profile},
                                      {"reason", s.up() ? "" : s.reason()}});
  }
  out.text = trim_lines(out.text);
  return out;
}

Result<CommandOutput> show_interface_virtual(CommandContext& c) {
  CommandOutput out;
  out.text = kRule + "\n" +
             fmt::format("{:<13} {:<5} {:<24} {:<18} {}\n", "Port", "VF", "Owner (VM)", "MAC",
                         "Port-profile") +
             kRule + "\n";
  out.data = {{"interfaces", json::array()}};
  for (const auto& [n, r] : c.registry.records()) {
    if (r.vf < 0) continue;
    auto itf = c.model.interfaces.find(n);
    std::string profile = itf == c.model.interfaces.end() ? "" : itf->second.profile;
    std::string owner = r.vm.empty() ? r.vm_uuid : r.vm;
    out.text += fmt::format("{:<13} {:<5} {:<24} {:<18} {}\n", veth_short(n), r.vf, owner,
                            r.mac.empty() ? "-" : r.mac, profile.empty() ? "-" : profile);
    out.data["interfaces"].push_back({{"interface", veth_name(n)},
                                      {"vethernet", n},
                                      {"vf", r.vf},
                                      {"vm", r.vm},
                                      {"vm_uuid", r.vm_uuid},
                                      {"mac", r.mac},
                                      {"port_profile", profile}});
  }
  out.text = trim_lines(out.text);
  return out;
}

constexpr const char* kTraffic[] = {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes"};

uint64_t total_drops(const json& counters) {
  uint64_t sum = 0;
  if (counters.contains("drops") && counters["drops"].is_object())
    for (const auto& [reason, n] : counters["drops"].items())
      sum += counter(counters["drops"], reason.c_str());
  return sum;
}

// The contract's traffic counters and the total of drops, aligned.
std::string render_traffic(const json& counters, const std::string& indent) {
  std::string out;
  std::vector<std::pair<std::string, uint64_t>> rows;
  for (const char* k : kTraffic)
    if (counters.contains(k)) rows.emplace_back(k, counter(counters, k));
  if (counters.contains("drops")) rows.emplace_back("drops", total_drops(counters));
  if (rows.empty()) return indent + "(no counters)\n";
  size_t w = 0;
  for (const auto& r : rows) w = std::max(w, r.first.size());
  for (const auto& [k, v] : rows) out += fmt::format("{}{:<{}}  {}\n", indent, k, w, v);
  return out;
}

std::string acl_summary(const ResolvedVeth& v) {
  std::vector<std::string> parts;
  auto add = [&](const std::optional<ResolvedAcl>& a, const char* kind, const char* dir) {
    if (a) parts.push_back(fmt::format("{} {} {}", kind, a->name, dir));
  };
  add(v.ip_acl_in, "ip", "in");
  add(v.ip_acl_out, "ip", "out");
  add(v.ipv6_acl_in, "ipv6", "in");
  add(v.ipv6_acl_out, "ipv6", "out");
  add(v.mac_acl_in, "mac", "in");
  add(v.mac_acl_out, "mac", "out");
  return fmt::format("{}", fmt::join(parts, ", "));
}

Result<uint32_t> configured_veth(const CommandContext& c) {
  uint32_t n = c.args[0].number;
  if (!c.model.interfaces.contains(n)) return make_error(ENOENT, "{} does not exist", veth_name(n));
  return n;
}

Result<CommandOutput> show_interface_veth(CommandContext& c) {
  auto env = need_env(c);
  if (!env) return env.error();
  auto n = configured_veth(c);
  if (!n) return n.error();
  json counters = veth_counters((*env)->counters(), *n);
  const VethInterface& itf = c.model.interfaces.at(*n);
  auto s = status_of(c, *n);
  const ResolvedVeth& v = s.resolved;
  CommandOutput out;
  out.text = fmt::format("{} is {}\n", veth_name(*n), s.up() ? "up" : "down");
  if (!s.up()) out.text += fmt::format("  Reason: {}\n", s.reason());
  if (!itf.description.empty())
    out.text += fmt::format("  Port description is {}\n", itf.description);
  if (s.record) {
    const VethRecord& r = *s.record;
    out.text += fmt::format("  Owner is VM \"{}\"", r.vm);
    if (!r.vm_uuid.empty()) out.text += fmt::format(", uuid {}", r.vm_uuid);
    if (!r.mac.empty()) out.text += fmt::format(", address {}", r.mac);
    out.text += "\n";
    out.text += s.bound() ? fmt::format("  Active on VF {}\n", r.vf) : "  Not attached to a VF\n";
  }
  out.text += fmt::format("  Port-Profile is {}\n", itf.profile.empty() ? "(none)" : itf.profile);
  std::string filters = acl_summary(v);
  if (has_profile(c, s)) {
    out.text += fmt::format("  Port mode is {}\n", switchport_mode_name(v.mode));
    if (v.mode == SwitchportMode::access) {
      out.text += fmt::format("  Access VLAN is {}\n", v.access_vlan);
    } else {
      out.text += fmt::format("  Trunk VLANs allowed are {}\n",
                              v.trunk_allowed.empty() ? "none" : format_vlan_list(v.trunk_allowed));
      if (v.native_vlan) out.text += fmt::format("  Native VLAN is {}\n", *v.native_vlan);
    }
    if (!filters.empty()) out.text += fmt::format("  Access lists: {}\n", filters);
    if (v.police_in)
      out.text += fmt::format("  Service-policy input: {}\n", v.police_in->policy_map);
    if (v.police_out)
      out.text += fmt::format("  Service-policy output: {}\n", v.police_out->policy_map);
    if (v.port_security.enabled)
      out.text +=
          fmt::format("  Port-security: maximum {}, violation {}\n", v.port_security.maximum,
                      violation_mode_name(v.port_security.violation));
    if (v.ip_verify_source) out.text += "  IP source guard: enabled\n";
  }
  out.text += "  Counters:\n" + render_traffic(counters, "    ");
  out.data = {{"interface", veth_name(*n)},
              {"vethernet", *n},
              {"status", s.up() ? "up" : "down"},
              {"reason", s.up() ? "" : s.reason()},
              {"description", itf.description},
              {"port_profile", itf.profile},
              {"vf", s.bound() ? json(s.record->vf) : json(nullptr)},
              {"vm", s.record ? s.record->vm : ""},
              {"vm_uuid", s.record ? s.record->vm_uuid : ""},
              {"mac", s.record ? s.record->mac : ""},
              {"counters", counters}};
  if (has_profile(c, s)) {
    out.data["mode"] = switchport_mode_name(v.mode);
    out.data["access_vlan"] = v.access_vlan;
    if (v.mode == SwitchportMode::trunk) {
      out.data["trunk_allowed_vlans"] = v.trunk_allowed;
      out.data["native_vlan"] = v.native_vlan ? json(*v.native_vlan) : json(nullptr);
    }
    out.data["access_lists"] = filters;
    out.data["service_policy"] = {
        {"input", v.police_in ? json(v.police_in->policy_map) : json(nullptr)},
        {"output", v.police_out ? json(v.police_out->policy_map) : json(nullptr)}};
  }
  return out;
}

std::string render_police_counters(const json& counters, const char* direction,
                                   const std::string& indent) {
  if (!counters.contains("police") || !counters["police"].is_object() ||
      !counters["police"].contains(direction))
    return indent + "(no policer counters)\n";
  const json& p = counters["police"][direction];
  return fmt::format("{}conform  {} packets, {} bytes; action: transmit\n", indent,
                     counter(p, "conform_packets"), counter(p, "conform_bytes")) +
         fmt::format("{}violate  {} packets, {} bytes; action: drop\n", indent,
                     counter(p, "violate_packets"), counter(p, "violate_bytes"));
}

Result<CommandOutput> show_interface_counters(CommandContext& c, bool detail) {
  auto env = need_env(c);
  if (!env) return env.error();
  auto n = configured_veth(c);
  if (!n) return n.error();
  json counters = veth_counters((*env)->counters(), *n);
  CommandOutput out;
  out.data = {{"interface", veth_name(*n)}, {"counters", counters}};
  if (!detail) {
    out.text = fmt::format("{} counters\n", veth_name(*n)) + render_traffic(counters, "  ");
    return out;
  }
  out.text = fmt::format("{} counters detail\n", veth_name(*n)) + render_traffic(counters, "  ");
  out.text += "  Drops by reason:\n";
  if (counters.contains("drops") && counters["drops"].is_object() && !counters["drops"].empty()) {
    size_t w = 0;
    for (const auto& [reason, v] : counters["drops"].items()) w = std::max(w, reason.size());
    for (const auto& [reason, v] : counters["drops"].items())
      out.text +=
          fmt::format("    {:<{}}  {}\n", reason, w, counter(counters["drops"], reason.c_str()));
  } else {
    out.text += "    (none reported)\n";
  }
  for (const char* dir : {"input", "output"}) {
    if (counters.contains("police") && counters["police"].is_object() &&
        counters["police"].contains(dir))
      out.text +=
          fmt::format("  Police {}:\n", dir) + render_police_counters(counters, dir, "    ");
  }
  json rest = json::object();
  for (const auto& [k, v] : counters.items()) {
    bool known = k == "drops" || k == "police" || k == "vm" || k == "vf";
    for (const char* t : kTraffic) known = known || k == t;
    if (!known) rest[k] = v;
  }
  if (!rest.empty()) out.text += "  Hardware and software:\n" + render_counters(rest, "    ");
  return out;
}

std::string bps(uint64_t bytes_per_s) { return fmt::format("{} bps", bytes_per_s * 8); }

Result<CommandOutput> show_policy_map_interface(CommandContext& c) {
  auto env = need_env(c);
  if (!env) return env.error();
  auto n = configured_veth(c);
  if (!n) return n.error();
  json counters = veth_counters((*env)->counters(), *n);
  auto s = status_of(c, *n);
  CommandOutput out;
  out.text = fmt::format("\n{}\n", veth_name(*n));
  out.data = {{"interface", veth_name(*n)}, {"service_policies", json::array()}};
  bool any = false;
  for (auto [dir, pol] :
       {std::pair{"input", &s.resolved.police_in}, std::pair{"output", &s.resolved.police_out}}) {
    if (!*pol) continue;
    any = true;
    const ResolvedPolicer& p = **pol;
    out.text += fmt::format("\n  Service-policy (qos) {}:   {}\n", dir, p.policy_map);
    out.text += "\n    Class-map (qos):   class-default (match-any)\n";
    auto pm = c.model.policy_maps.find(p.policy_map);
    if (pm != c.model.policy_maps.end() && pm->second.police)
      out.text += fmt::format("      {}\n", render_police(*pm->second.police));
    out.text += fmt::format("      cir {} bc {} bytes\n", bps(p.cir_bytes_per_s), p.cbs_bytes);
    out.text += render_police_counters(counters, dir, "        ");
    json police = counters.contains("police") && counters["police"].is_object() &&
                          counters["police"].contains(dir)
                      ? counters["police"][dir]
                      : json::object();
    out.data["service_policies"].push_back({{"direction", dir},
                                            {"policy_map", p.policy_map},
                                            {"cir_bps", p.cir_bytes_per_s * 8},
                                            {"bc_bytes", p.cbs_bytes},
                                            {"counters", police}});
  }
  if (!any) out.text += "\n  no service-policy\n";
  return out;
}

}  // namespace

std::vector<CommandSpec> interface_show_rows() {
  const TokenSpec veth = keyword("vethernet", "Virtual Ethernet interface");
  const TokenSpec number = number_arg("N", 1, kMaxVeth, "Vethernet number");
  std::vector<CommandSpec> rows;
  rows.push_back(show_row({keyword("vlan", "VLAN information"), keyword("brief")},
                          "Show VLANs and their ports", show_vlan_brief));
  rows.push_back(
      show_row({keyword("interface", "Interface status and configuration"), keyword("brief")},
               "Show the status of every vEthernet interface", show_interface_brief));
  rows.push_back(show_row({keyword("interface"), keyword("virtual")},
                          "Show which VM vNIC and VF each attached vEthernet has",
                          show_interface_virtual));
  rows.push_back(show_row({keyword("interface"), veth, number}, "Show one vEthernet interface",
                          show_interface_veth));
  rows.push_back(show_row({keyword("interface"), veth, number, keyword("counters")},
                          "Show the counters of one vEthernet interface",
                          [](CommandContext& c) { return show_interface_counters(c, false); }));
  rows.push_back(
      show_row({keyword("interface"), veth, number, keyword("counters"), keyword("detail")},
               "Show its drops by reason and policer counters too",
               [](CommandContext& c) { return show_interface_counters(c, true); }));
  rows.push_back(show_row(
      {keyword("policy-map", "Policy-map information"), keyword("interface"), veth, number},
      "Show the service-policies of one vEthernet and their counters", show_policy_map_interface));
  return rows;
}

}  // namespace vfs::vsm
