// The exec rows about the configuration and the system (running-config and its sections,
// startup-config, version, users, accounting, copy), the helpers every show row shares
// (vsm/cli_show.h), and exec_command_rows(), which gathers the rows of every show file.
#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>

#include "base/atomic_file.h"
#include "vsm/cli_show.h"
#include "vsm/cli_tokens.h"
#include "vsm/dataplane_config.h"
#include "vsm/running_config.h"

namespace vfs::vsm {

CommandSpec show_row(std::vector<TokenSpec> path, std::string help, CommandHandler h) {
  path.insert(path.begin(), keyword("show", "Show running system information"));
  return CommandSpec{in_mode(Mode::exec), std::move(path), std::move(help), true, std::move(h)};
}

CommandSpec exec_row(std::vector<TokenSpec> path, std::string help, CommandHandler h) {
  return CommandSpec{in_mode(Mode::exec), std::move(path), std::move(help), false, std::move(h)};
}

Result<ExecEnvironment*> need_env(CommandContext& c) {
  if (!c.env) return make_error(ENOTSUP, "this command is not available here");
  return c.env;
}

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

InterfaceStatus status_of(const CommandContext& c, uint32_t number) {
  InterfaceStatus s;
  s.number = number;
  s.record = c.registry.find(number);
  VethRecord probe = s.record ? *s.record : VethRecord{number, {}, {}, {}, {}, -1};
  s.resolved = resolve_veth(c.model, probe);
  return s;
}

nlohmann::json veth_counters(const nlohmann::json& all, uint32_t n) {
  std::string key = std::to_string(n);
  if (all.is_object() && all.contains("veths") && all["veths"].is_object() &&
      all["veths"].contains(key) && all["veths"][key].is_object())
    return all["veths"][key];
  return nlohmann::json::object();
}

uint64_t counter(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return 0;
  const auto& v = j[key];
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer())
    return v.get<int64_t>() < 0 ? 0 : static_cast<uint64_t>(v.get<int64_t>());
  return 0;
}

namespace {

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

}  // namespace

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

namespace {}  // namespace

std::string running_config_section(const std::string& text, const std::string& header) {
  std::string out;
  std::string_view rest(text);
  bool in = false;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl == std::string_view::npos ? rest.size() : nl + 1);
    rest.remove_prefix(line.size());
    std::string_view bare = trim_right(line.substr(0, line.find('\n')));
    if (!bare.empty() && bare.front() == '!') {
      out.append(line);
      continue;
    }
    if (!bare.empty() && !is_blank(bare.front())) {
      if (in) break;
      in = bare == header;
      if (in) out += "\n";
    }
    if (in && !bare.empty()) out.append(line);
  }
  return out;
}

namespace {

Result<CommandOutput> show_running_section(CommandContext& c, bool profile) {
  std::string header;
  nlohmann::json data;
  nlohmann::json all = model_json(c.model);
  if (profile) {
    const std::string& name = c.args[0].text;
    if (!c.model.profiles.contains(name))
      return make_error(ENOENT, "port-profile {} does not exist", name);
    header = "port-profile type vethernet " + name;
    for (const auto& p : all["port_profiles"])
      if (p["name"] == name) data = p;
  } else {
    uint32_t n = c.args[0].number;
    if (!c.model.interfaces.contains(n))
      return make_error(ENOENT, "{} does not exist", veth_name(n));
    header = fmt::format("interface vethernet {}", n);
    for (const auto& i : all["interfaces"])
      if (i["vethernet"] == n) data = i;
  }
  return CommandOutput{running_config_section(render_running_config(c.model), header), data};
}

Result<CommandOutput> show_slowpath_counters(CommandContext& c) {
  auto env = need_env(c);
  if (!env) return env.error();
  nlohmann::json all = (*env)->counters();
  nlohmann::json sp = all.is_object() && all.contains("slowpath") && all["slowpath"].is_object()
                          ? all["slowpath"]
                          : nlohmann::json::object();
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
  rows.push_back(show_row({keyword("running-config"), keyword("port-profile"),
                           word_arg("NAME", 80, "Port-profile name")},
                          "Show the configuration of one port-profile",
                          [](CommandContext& c) { return show_running_section(c, true); }));
  rows.push_back(show_row({keyword("running-config"), keyword("interface"),
                           keyword("vethernet", "Virtual Ethernet interface"),
                           number_arg("N", 1, kMaxVeth, "Vethernet number")},
                          "Show the configuration of one vEthernet interface",
                          [](CommandContext& c) { return show_running_section(c, false); }));
  rows.push_back(show_row({keyword("startup-config")}, "Show the configuration loaded at startup",
                          show_startup_config));
  rows.push_back(show_row({keyword("slowpath"), keyword("counters")},
                          "Show the slow path's packet and drop counters", show_slowpath_counters));
  rows.push_back(show_row({keyword("version")}, "Show the software version", show_version));
  rows.push_back(
      show_row({keyword("user-account")}, "Show the users and their roles", show_user_account));
  rows.push_back(show_row({keyword("accounting"), keyword("log")},
                          "Show who changed the configuration, when and how it ended",
                          show_accounting_log));
  rows.push_back(exec_row({keyword("copy", "Copy a configuration"),
                           keyword("running-config", "The current operating configuration"),
                           keyword("startup-config", "The configuration loaded at startup")},
                          "Save the running configuration as the startup configuration",
                          [](CommandContext& c) -> Result<CommandOutput> {
                            auto env = need_env(c);
                            if (!env) return env.error();
                            auto w = (*env)->save_startup_config(render_running_config(c.model));
                            if (!w) return w.error();
                            return CommandOutput{"Copy complete.\n", nullptr};
                          }));
  for (auto part : {interface_show_rows(), profile_show_rows(), checkpoint_command_rows(),
                    dhcp_snooping_show_rows()})
    rows.insert(rows.end(), std::make_move_iterator(part.begin()),
                std::make_move_iterator(part.end()));
  return rows;
}

}  // namespace vfs::vsm
