// The exec rows of the command table: show commands (text and the same data as JSON,
// for `| json`) and copy.
#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>

#include "base/atomic_file.h"
#include "vsm/cli_commands.h"
#include "vsm/cli_tokens.h"
#include "vsm/dataplane_config.h"
#include "vsm/running_config.h"

namespace vfs::vsm {
namespace {

const std::string kRule(80, '-');

CommandSpec show_row(std::vector<TokenSpec> path, std::string help, CommandHandler h) {
  path.insert(path.begin(), keyword("show", "Show running system information"));
  return CommandSpec{in_mode(Mode::exec), std::move(path), std::move(help), true, std::move(h)};
}

Result<ExecEnvironment*> need_env(CommandContext& c) {
  if (!c.env) return make_error(ENOTSUP, "this command is not available here");
  return c.env;
}

// NX-OS tables pad every column; trailing blanks are noise.
std::string trim_lines(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line(text.data() + start,
                          (nl == std::string::npos ? text.size() : nl) - start);
    out.append(trim_right(line));
    if (nl == std::string::npos) break;
    out += '\n';
    start = nl + 1;
  }
  return out;
}

std::string veth_name(uint32_t n) { return fmt::format("Vethernet{}", n); }
std::string veth_short(uint32_t n) { return fmt::format("Veth{}", n); }

// Status of every configured interface: bound ones resolved exactly as the datapath gets
// them, the others down for "not attached".
struct InterfaceStatus {
  uint32_t number = 0;
  const VethRecord* record = nullptr;  // null = never attached
  ResolvedVeth resolved;
  bool bound() const { return record && record->vf >= 0; }
  bool up() const { return bound() && resolved.forwarding; }
  std::string reason() const { return bound() ? resolved.reason : "not attached"; }
};

InterfaceStatus status_of(const CommandContext& c, const VethInterface& itf) {
  InterfaceStatus s;
  s.number = itf.number;
  s.record = c.registry.find(itf.number);
  VethRecord probe = s.record ? *s.record : VethRecord{itf.number, {}, {}, {}, {}, -1};
  s.resolved = resolve_veth(c.model, probe);
  return s;
}

// Counters arrive as JSON of unknown shape: nested objects flatten to dotted keys.
void flatten(const nlohmann::json& j, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    out.emplace_back(
        prefix, j.is_string() ? j.get<std::string>()
                              : j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

std::string render_counters(const nlohmann::json& j, const std::string& indent) {
  std::vector<std::pair<std::string, std::string>> rows;
  flatten(j, "", rows);
  if (rows.empty()) return indent + "(no counters)\n";
  size_t w = 0;
  for (const auto& r : rows) w = std::max(w, r.first.size());
  std::string out;
  for (const auto& [k, v] : rows) out += fmt::format("{}{:<{}}  {}\n", indent, k, w, v);
  return out;
}

nlohmann::json veth_counters(CommandContext& c, uint32_t n) {
  nlohmann::json all = c.env->counters();
  std::string key = std::to_string(n);
  if (all.is_object() && all.contains("veths") && all["veths"].is_object() &&
      all["veths"].contains(key))
    return all["veths"][key];
  return nlohmann::json::object();
}

Result<CommandOutput> show_vlan_brief(CommandContext& c) {
  std::map<uint16_t, std::vector<uint32_t>> ports;
  for (const auto& [n, itf] : c.model.interfaces) {
    auto s = status_of(c, itf);
    if (s.bound() && !s.resolved.profile.empty()) ports[s.resolved.access_vlan].push_back(n);
  }
  CommandOutput out;
  out.text =
      "\nVLAN Name                             Status    Ports\n"
      "---- -------------------------------- --------- -------------------------------\n";
  out.data = {{"vlans", nlohmann::json::array()}};
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

Result<CommandOutput> show_port_profiles(CommandContext& c, const std::string* only) {
  if (only && !c.model.profiles.contains(*only))
    return make_error(ENOENT, "port-profile {} does not exist", *only);
  CommandOutput out;
  out.data = {{"port_profiles", nlohmann::json::array()}};
  for (const auto& [name, p] : c.model.profiles) {
    if (only && name != *only) continue;
    auto users = c.model.interfaces_inheriting(name);
    if (!out.text.empty()) out.text += "\n";
    out.text += fmt::format("port-profile {}\n type: Vethernet\n description: {}\n status: {}\n",
                            name, p.description, p.state_enabled ? "enabled" : "disabled");
    out.text += " config attributes:\n";
    out.text += fmt::format("  switchport mode {}\n", switchport_mode_name(p.mode));
    out.text += fmt::format("  switchport access vlan {}\n", p.access_vlan);
    out.text += p.shutdown ? "  shutdown\n" : "  no shutdown\n";
    out.text += " assigned interfaces:\n";
    for (auto n : users) out.text += fmt::format("  {}\n", veth_name(n));
    out.data["port_profiles"].push_back({{"name", name},
                                         {"type", "vethernet"},
                                         {"description", p.description},
                                         {"state_enabled", p.state_enabled},
                                         {"switchport_mode", switchport_mode_name(p.mode)},
                                         {"access_vlan", p.access_vlan},
                                         {"shutdown", p.shutdown},
                                         {"interfaces", users}});
  }
  out.text = trim_lines(out.text);
  return out;
}

Result<CommandOutput> show_interface_brief(CommandContext& c) {
  CommandOutput out;
  out.text = kRule + "\n" +
             fmt::format("{:<13} {:<5} {:<7} {:<7} {:<20} {}\n", "Interface", "VLAN", "Mode",
                         "Status", "Port-profile", "Reason") +
             kRule + "\n";
  out.data = {{"interfaces", nlohmann::json::array()}};
  for (const auto& [n, itf] : c.model.interfaces) {
    auto s = status_of(c, itf);
    bool has_profile = !s.resolved.profile.empty() && c.model.profiles.contains(s.resolved.profile);
    std::string vlan = has_profile ? std::to_string(s.resolved.access_vlan) : "-";
    std::string mode = has_profile ? std::string(switchport_mode_name(s.resolved.mode)) : "-";
    std::string reason = s.up() ? "none" : s.reason();
    out.text +=
        fmt::format("{:<13} {:<5} {:<7} {:<7} {:<20} {}\n", veth_short(n), vlan, mode,
                    s.up() ? "up" : "down", itf.profile.empty() ? "-" : itf.profile, reason);
    out.data["interfaces"].push_back(
        {{"interface", veth_name(n)},
         {"vethernet", n},
         {"vlan", has_profile ? nlohmann::json(s.resolved.access_vlan) : nlohmann::json(nullptr)},
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
  out.data = {{"interfaces", nlohmann::json::array()}};
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

Result<CommandOutput> show_interface_veth(CommandContext& c, bool counters_only) {
  auto env = need_env(c);
  if (!env) return env.error();
  uint32_t n = c.args[0].number;
  auto it = c.model.interfaces.find(n);
  if (it == c.model.interfaces.end()) return make_error(ENOENT, "Vethernet{} does not exist", n);
  nlohmann::json counters = veth_counters(c, n);
  CommandOutput out;
  if (counters_only) {
    out.text = fmt::format("{} counters\n", veth_name(n)) + render_counters(counters, "  ");
    out.data = {{"interface", veth_name(n)}, {"counters", counters}};
    return out;
  }
  const VethInterface& itf = it->second;
  auto s = status_of(c, itf);
  out.text = fmt::format("{} is {}\n", veth_name(n), s.up() ? "up" : "down");
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
  if (!s.resolved.profile.empty()) {
    out.text += fmt::format("  Port mode is {}\n", switchport_mode_name(s.resolved.mode));
    out.text += fmt::format("  Access VLAN is {}\n", s.resolved.access_vlan);
  }
  out.text += "  Counters:\n" + render_counters(counters, "    ");
  out.data = {{"interface", veth_name(n)},
              {"vethernet", n},
              {"status", s.up() ? "up" : "down"},
              {"reason", s.up() ? "" : s.reason()},
              {"description", itf.description},
              {"port_profile", itf.profile},
              {"vf", s.bound() ? nlohmann::json(s.record->vf) : nlohmann::json(nullptr)},
              {"vm", s.record ? s.record->vm : ""},
              {"vm_uuid", s.record ? s.record->vm_uuid : ""},
              {"mac", s.record ? s.record->mac : ""},
              {"counters", counters}};
  if (!s.resolved.profile.empty()) {
    out.data["mode"] = switchport_mode_name(s.resolved.mode);
    out.data["access_vlan"] = s.resolved.access_vlan;
  }
  return out;
}

Result<CommandOutput> show_slowpath_counters(CommandContext& c) {
  auto env = need_env(c);
  if (!env) return env.error();
  nlohmann::json all = (*env)->counters();
  nlohmann::json sp =
      all.is_object() && all.contains("slowpath") ? all["slowpath"] : nlohmann::json::object();
  CommandOutput out;
  out.text = "Slow-path counters\n" + render_counters(sp, "  ");
  out.data = sp;
  return out;
}

Result<CommandOutput> show_version(CommandContext& c) {
  auto env = need_env(c);
  if (!env) return env.error();
  CommandOutput out;
  int vfs = (*env)->vf_count();
  out.text = fmt::format(
      "vfswitch Software\n  version: {}\n  supervisor: embedded\n  VFs on this host: {}\n",
      kVersion, vfs);
  out.data = {{"version", kVersion}, {"supervisor", "embedded"}, {"vf_count", vfs}};
  return out;
}

Result<CommandOutput> show_startup_config(CommandContext& c) {
  auto env = need_env(c);
  if (!env) return env.error();
  const std::string& path = (*env)->startup_config_path();
  auto text = read_file(path);
  if (!text) return make_error(text.error().code, "no startup-config: {}", text.error().message);
  CommandOutput out;
  out.text = *text;
  out.data = {{"path", path}, {"text", *text}};
  return out;
}

Result<CommandOutput> show_user_account(CommandContext& c) {
  CommandOutput out;
  out.data = nlohmann::json::array();
  out.text = "user:root\n        roles:network-admin (built in)\n\n";
  out.data.push_back({{"username", "root"}, {"role", "network-admin"}, {"builtin", true}});
  for (const auto& [name, u] : c.model.users) {
    out.text += fmt::format("user:{}\n        roles:{}\n\n", name, role_name(u.role));
    out.data.push_back({{"username", name}, {"role", role_name(u.role)}, {"builtin", false}});
  }
  return out;
}

Result<CommandOutput> show_accounting_log(CommandContext& c) {
  auto env = need_env(c);
  if (!env) return env.error();
  CommandOutput out;
  out.data = nlohmann::json::array();
  for (const auto& r : (*env)->accounting()) {
    out.text += format_accounting_record(r) + "\n";
    out.data.push_back(
        {{"time", r.time}, {"user", r.user}, {"command", r.command}, {"result", r.result}});
  }
  return out;
}

}  // namespace

std::vector<CommandSpec> exec_command_rows() {
  std::vector<CommandSpec> rows;
  rows.push_back(
      show_row({keyword("running-config")}, "Show the current operating configuration",
               [](CommandContext& c) -> Result<CommandOutput> {
                 return CommandOutput{render_running_config(c.model), model_json(c.model)};
               }));
  rows.push_back(show_row({keyword("startup-config")}, "Show the configuration loaded at startup",
                          show_startup_config));
  rows.push_back(
      show_row({keyword("vlan"), keyword("brief")}, "Show VLANs and their ports", show_vlan_brief));
  rows.push_back(show_row({keyword("port-profile")}, "Show all port-profiles",
                          [](CommandContext& c) { return show_port_profiles(c, nullptr); }));
  rows.push_back(show_row(
      {keyword("port-profile"), keyword("name"), word_arg("NAME", 80)}, "Show one port-profile",
      [](CommandContext& c) { return show_port_profiles(c, &c.args[0].text); }));
  rows.push_back(show_row({keyword("interface"), keyword("brief")},
                          "Show the status of every vEthernet interface", show_interface_brief));
  rows.push_back(show_row({keyword("interface"), keyword("virtual")},
                          "Show which VM vNIC and VF each attached vEthernet has",
                          show_interface_virtual));
  rows.push_back(
      show_row({keyword("interface"), keyword("vethernet"), number_arg("N", 1, kMaxVeth)},
               "Show one vEthernet interface",
               [](CommandContext& c) { return show_interface_veth(c, false); }));
  rows.push_back(show_row({keyword("interface"), keyword("vethernet"), number_arg("N", 1, kMaxVeth),
                           keyword("counters")},
                          "Show the counters of one vEthernet interface",
                          [](CommandContext& c) { return show_interface_veth(c, true); }));
  rows.push_back(show_row({keyword("slowpath"), keyword("counters")},
                          "Show the slow path's packet and drop counters", show_slowpath_counters));
  rows.push_back(show_row({keyword("version")}, "Show the software version", show_version));
  rows.push_back(
      show_row({keyword("user-account")}, "Show the users and their roles", show_user_account));
  rows.push_back(show_row({keyword("accounting"), keyword("log")},
                          "Show who changed the configuration, when and how it ended",
                          show_accounting_log));
  rows.push_back(
      CommandSpec{in_mode(Mode::exec),
                  {keyword("copy"), keyword("running-config"), keyword("startup-config")},
                  "Save the running configuration as the startup configuration",
                  false,
                  [](CommandContext& c) -> Result<CommandOutput> {
                    auto env = need_env(c);
                    if (!env) return env.error();
                    auto w = (*env)->save_startup_config(render_running_config(c.model));
                    if (!w) return w.error();
                    return CommandOutput{"Copy complete.\n", nullptr};
                  }});
  return rows;
}

}  // namespace vfs::vsm
