#include "vsm/cli_commands.h"
#include "vsm/command_rows.h"

#include "vsm/cli_show.h"
#include "vsm/vlan_list.h"

#include <fmt/core.h>
#include <fmt/format.h>

namespace vfs::vsm {
namespace {

constexpr uint32_t kMaxNameLen = 80;      // port-profile names
constexpr uint32_t kMaxVlanNameLen = 32;  // NX-OS VLAN names
constexpr uint32_t kMaxDescriptionLen = 254;
constexpr uint32_t kMaxUserNameLen = 32;  // Linux login names

std::string list_veths(const std::vector<uint32_t>& ns) {
  std::vector<std::string> names;
  for (auto n : ns) names.push_back(fmt::format("Vethernet{}", n));
  return fmt::format("{}", fmt::join(names, ", "));
}

Result<VethInterface*> current_interface(CommandContext& c) {
  auto it = c.model.interfaces.find(c.session.veth);
  if (it == c.model.interfaces.end()) return refuse("Vethernet{} no longer exists", c.session.veth);
  return &it->second;
}

// "conf; port-profile type vethernet web": the commands that lead to the session's mode.
std::string where_text(const CliSession& s) {
  switch (s.mode) {
    case Mode::exec:
      return "exec";
    case Mode::config:
      return "conf";
    case Mode::config_vlan:
      return "conf; vlan " + format_vlan_list(s.vlans);
    case Mode::config_port_prof:
      return "conf; port-profile type vethernet " + s.profile;
    case Mode::config_if:
      return fmt::format("conf; interface Vethernet{}", s.veth);
    case Mode::config_acl:
      return "conf; ip access-list " + s.acl;
    case Mode::config_ipv6_acl:
      return "conf; ipv6 access-list " + s.acl;
    case Mode::config_mac_acl:
      return "conf; mac access-list " + s.acl;
    case Mode::config_pmap:
      return "conf; policy-map type qos " + s.policy_map;
    case Mode::config_pmap_class:
      return "conf; policy-map type qos " + s.policy_map + "; class class-default";
    case Mode::config_monitor:
      return fmt::format("conf; monitor session {}", s.monitor);
  }
  return std::string(mode_name(s.mode));
}

std::string role_help(Role r) {
  switch (r) {
    case Role::network_admin:
      return "Every command";
    case Role::network_operator:
      return "Show commands only";
    case Role::server_admin:
      return "Attach/detach VM vNICs and show commands";
  }
  return {};
}

// Debian's NAME_REGEX: what useradd accepts.
Result<void> check_user_name(const std::string& name) {
  auto lower = [](char ch) { return ch >= 'a' && ch <= 'z'; };
  bool good = !name.empty() && (lower(name[0]) || name[0] == '_');
  for (size_t i = 1; good && i < name.size(); ++i) {
    char ch = name[i];
    good = lower(ch) || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
           (ch == '$' && i + 1 == name.size());
  }
  if (!good)
    return refuse("'{}' is not a Unix user name (lower-case letters, digits, '_' and '-')", name);
  if (name == "root") return refuse("root is always network-admin and cannot be given a role");
  return ok();
}

// config-if: edit the interface the session is in.
CommandHandler on_interface(
    std::function<Result<CommandOutput>(CommandContext&, VethInterface&)> f) {
  return [f = std::move(f)](CommandContext& c) -> Result<CommandOutput> {
    auto i = current_interface(c);
    if (!i) return i.error();
    return f(c, **i);
  };
}

Result<CommandOutput> enter_profile(CommandContext& c, const std::string& name, bool create) {
  if (!c.model.profiles.contains(name)) {
    if (!create)
      return refuse(
          "port-profile {} does not exist (create it with 'port-profile type vethernet {}')", name,
          name);
    PortProfile p;
    p.name = name;
    c.model.profiles[name] = p;
  }
  c.session.enter(Mode::config_port_prof);
  c.session.profile = name;
  return done();
}

Result<CommandOutput> delete_profile(CommandContext& c, const std::string& name) {
  if (!c.model.profiles.contains(name)) return refuse("port-profile {} does not exist", name);
  std::vector<std::string> users;
  if (auto veths = c.model.interfaces_inheriting(name); !veths.empty())
    users.push_back(list_veths(veths));
  for (const auto& p : c.model.profiles_inheriting(name)) users.push_back("port-profile " + p);
  if (!users.empty())
    return refuse("port-profile {} is inherited by {}", name, fmt::join(users, ", "));
  c.model.profiles.erase(name);
  return done();
}

Result<CommandOutput> set_vlan_name(CommandContext& c, const std::string* name) {
  for (uint16_t id : c.session.vlans) {
    if (id == kDefaultVlan) return refuse("VLAN 1 is the default VLAN and cannot be renamed");
    if (!c.model.vlans.contains(id)) return refuse("VLAN {} no longer exists", id);
  }
  for (uint16_t id : c.session.vlans) c.model.vlans[id].name = name ? *name : default_vlan_name(id);
  return done();
}

}  // namespace

std::vector<CommandSpec> config_command_rows() {
  const ModeSet config = in_mode(Mode::config);
  const ModeSet vlan = in_mode(Mode::config_vlan);
  const ModeSet prof = in_mode(Mode::config_port_prof);
  const ModeSet itf = in_mode(Mode::config_if);
  std::vector<CommandSpec> rows;

  rows.push_back(row(in_mode(Mode::exec), {keyword("configure"), keyword("terminal")},
                     "Enter configuration mode", [](CommandContext& c) {
                       c.session.enter(Mode::config);
                       return done();
                     }));
  rows.push_back(row(kConfigModes, {keyword("end")}, "Return to exec mode", [](CommandContext& c) {
    c.session.enter(Mode::exec);
    return done();
  }));
  rows.push_back(
      row(kConfigModes, {keyword("exit")}, "Leave this mode for its parent", [](CommandContext& c) {
        c.session.leave_to(parent_mode(c.session.mode));
        return done();
      }));

  {  // `where`: the configuration context, as NX-OS prints it. Reads nothing but the session.
    CommandSpec where = row(in_mode(Mode::exec) | kConfigModes, {keyword("where")},
                            "Show the current configuration context", [](CommandContext& c) {
                              CommandOutput out;
                              out.text = "  " + where_text(c.session) + "\n";
                              out.data = {{"mode", std::string(mode_name(c.session.mode))},
                                          {"context", where_text(c.session)}};
                              return Result<CommandOutput>(std::move(out));
                            });
    where.is_show = true;
    rows.push_back(std::move(where));
  }

  // VLANs
  rows.push_back(row(config, {keyword("vlan"), vlan_list_arg("LIST", "VLANs, e.g. 10 or 10-20,30")},
                     "Create VLANs and enter their configuration", [](CommandContext& c) {
                       const auto& ids = c.args[0].vlans;
                       for (uint16_t id : ids) {
                         if (!c.model.vlans.contains(id))
                           c.model.vlans[id] = Vlan{id, default_vlan_name(id)};
                       }
                       c.session.enter(Mode::config_vlan);
                       c.session.vlans = ids;
                       return done();
                     }));
  rows.push_back(row(
      config, {keyword("no"), keyword("vlan"), vlan_list_arg("LIST")},
      "Delete VLANs no profile or interface uses", [](CommandContext& c) -> Result<CommandOutput> {
        for (uint16_t id : c.args[0].vlans) {
          if (id == kDefaultVlan) return refuse("VLAN 1 is the default VLAN and cannot be deleted");
          auto profiles = c.model.profiles_using_vlan(id);
          auto veths = c.model.interfaces_using_vlan(id);
          std::vector<std::string> users;
          if (!profiles.empty())
            users.push_back(fmt::format("port-profile{} {}", profiles.size() > 1 ? "s" : "",
                                        fmt::join(profiles, ", ")));
          if (!veths.empty()) users.push_back(list_veths(veths));
          if (!users.empty()) return refuse("VLAN {} is in use by {}", id, fmt::join(users, ", "));
        }
        for (uint16_t id : c.args[0].vlans) c.model.vlans.erase(id);
        return done();
      }));
  rows.push_back(row(vlan, {keyword("name"), word_arg("NAME", kMaxVlanNameLen)},
                     "Set the VLAN name",
                     [](CommandContext& c) { return set_vlan_name(c, &c.args[0].text); }));
  rows.push_back(row(vlan, {keyword("no"), keyword("name")}, "Restore the default VLAN name",
                     [](CommandContext& c) { return set_vlan_name(c, nullptr); }));

  // Port-profiles
  rows.push_back(row(config,
                     {keyword("port-profile"), keyword("type"), keyword("vethernet"),
                      word_arg("NAME", kMaxNameLen)},
                     "Create a vEthernet port-profile (or edit it if it exists)",
                     [](CommandContext& c) { return enter_profile(c, c.args[0].text, true); }));
  rows.push_back(row(config, {keyword("port-profile"), word_arg("NAME", kMaxNameLen)},
                     "Edit an existing port-profile",
                     [](CommandContext& c) { return enter_profile(c, c.args[0].text, false); }));
  rows.push_back(row(config,
                     {keyword("no"), keyword("port-profile"), word_arg("NAME", kMaxNameLen)},
                     "Delete a port-profile no interface inherits",
                     [](CommandContext& c) { return delete_profile(c, c.args[0].text); }));
  rows.push_back(row(config,
                     {keyword("no"), keyword("port-profile"), keyword("type"), keyword("vethernet"),
                      word_arg("NAME", kMaxNameLen)},
                     "Delete a port-profile no interface inherits",
                     [](CommandContext& c) { return delete_profile(c, c.args[0].text); }));
  rows.push_back(row(prof, {keyword("switchport"), keyword("mode"), keyword("access")},
                     "Ports carry one untagged VLAN",
                     on_profile([](CommandContext&, PortProfile& p) {
                       p.mode = SwitchportMode::access;
                       p.mode_set = true;
                       return done();
                     })));
  rows.push_back(row(prof, {keyword("switchport"), keyword("mode"), keyword("trunk")},
                     "Ports carry the allowed VLANs tagged, the native VLAN untagged",
                     on_profile([](CommandContext&, PortProfile& p) {
                       p.mode = SwitchportMode::trunk;
                       p.mode_set = true;
                       return done();
                     })));
  rows.push_back(row(prof, {keyword("no"), keyword("switchport"), keyword("mode")},
                     "Inherit the switchport mode (default access)",
                     on_profile([](CommandContext&, PortProfile& p) {
                       p.mode = SwitchportMode::access;
                       p.mode_set = false;
                       return done();
                     })));
  rows.push_back(row(prof,
                     {keyword("switchport"), keyword("access"), keyword("vlan"),
                      number_arg("VLAN", 1, kMaxVlan, "VLAN ID 1-4094")},
                     "Set the access VLAN", on_profile([](CommandContext& c, PortProfile& p) {
                       p.access_vlan = static_cast<uint16_t>(c.args[0].number);
                       p.access_vlan_set = true;
                       CommandOutput out;
                       if (!c.model.vlans.contains(p.access_vlan))
                         out.text = fmt::format(
                             "Warning: VLAN {} is not defined; ports of port-profile {} will not "
                             "forward until it is\n",
                             p.access_vlan, p.name);
                       return Result<CommandOutput>(std::move(out));
                     })));
  rows.push_back(
      row(prof, {keyword("no"), keyword("switchport"), keyword("access"), keyword("vlan")},
          "Inherit the access VLAN (default 1)", on_profile([](CommandContext&, PortProfile& p) {
            p.access_vlan = kDefaultVlan;
            p.access_vlan_set = false;
            return done();
          })));
  rows.push_back(row(prof, {keyword("state"), keyword("enabled")},
                     "Let VM vNICs attach to this port-profile",
                     on_profile([](CommandContext&, PortProfile& p) {
                       p.state_enabled = true;
                       return done();
                     })));
  rows.push_back(row(prof, {keyword("no"), keyword("state"), keyword("enabled")},
                     "Disable the port-profile: its ports stop forwarding",
                     on_profile([](CommandContext&, PortProfile& p) {
                       p.state_enabled = false;
                       return done();
                     })));
  rows.push_back(row(prof, {keyword("shutdown")}, "Shut down the ports of this port-profile",
                     on_profile([](CommandContext&, PortProfile& p) {
                       p.shutdown = true;
                       p.shutdown_set = true;
                       return done();
                     })));
  rows.push_back(row(prof, {keyword("no"), keyword("shutdown")},
                     "Bring the ports of this port-profile up",
                     on_profile([](CommandContext&, PortProfile& p) {
                       p.shutdown = false;
                       p.shutdown_set = true;
                       return done();
                     })));
  rows.push_back(row(prof, {keyword("description"), text_arg("TEXT", kMaxDescriptionLen)},
                     "Describe the port-profile", on_profile([](CommandContext& c, PortProfile& p) {
                       p.description = c.args[0].text;
                       return done();
                     })));
  rows.push_back(row(prof, {keyword("no"), keyword("description")}, "Remove the description",
                     on_profile([](CommandContext&, PortProfile& p) {
                       p.description.clear();
                       return done();
                     })));

  // Users
  for (Role r : {Role::network_admin, Role::network_operator, Role::server_admin}) {
    rows.push_back(row(config,
                       {keyword("username"), word_arg("NAME", kMaxUserNameLen, "Unix login name"),
                        keyword("role"), keyword(std::string(role_name(r)), role_help(r))},
                       "Give a Unix user a role on this switch",
                       [r](CommandContext& c) -> Result<CommandOutput> {
                         const std::string& name = c.args[0].text;
                         if (auto v = check_user_name(name); !v) return v.error();
                         c.model.users[name] = UserAccount{name, r};
                         return done();
                       }));
  }
  rows.push_back(row(config,
                     {keyword("no"), keyword("username"), word_arg("NAME", kMaxUserNameLen)},
                     "Take a user's role away (the user can no longer connect)",
                     [](CommandContext& c) -> Result<CommandOutput> {
                       if (c.model.users.erase(c.args[0].text) == 0)
                         return refuse("user {} does not exist", c.args[0].text);
                       return done();
                     }));

  // vEthernet interfaces
  rows.push_back(row(config,
                     {keyword("interface"), keyword("vethernet"),
                      number_arg("N", 1, kMaxVeth, "vEthernet number")},
                     "Configure a vEthernet interface", [](CommandContext& c) {
                       uint32_t n = c.args[0].number;
                       if (!c.model.interfaces.contains(n)) {
                         VethInterface itf;
                         itf.number = n;
                         c.model.interfaces[n] = itf;
                       }
                       c.session.enter(Mode::config_if);
                       c.session.veth = n;
                       return done();
                     }));
  rows.push_back(row(config,
                     {keyword("no"), keyword("interface"), keyword("vethernet"),
                      number_arg("N", 1, kMaxVeth, "vEthernet number")},
                     "Remove the configuration of a detached vEthernet",
                     [](CommandContext& c) -> Result<CommandOutput> {
                       uint32_t n = c.args[0].number;
                       if (!c.model.interfaces.contains(n))
                         return refuse("Vethernet{} does not exist", n);
                       const VethRecord* r = c.registry.find(n);
                       if (r && r->vf >= 0)
                         return refuse("Vethernet{} is attached to VF {} (VM {}); detach it first",
                                       n, r->vf, r->vm.empty() ? r->vm_uuid : r->vm);
                       if (auto users = c.model.users_of_interface(n); !users.empty())
                         return refuse("Vethernet{} is in use by {}", n, fmt::join(users, ", "));
                       c.model.interfaces.erase(n);
                       return done();
                     }));
  rows.push_back(
      row(itf, {keyword("inherit"), keyword("port-profile"), word_arg("NAME", kMaxNameLen)},
          "Apply a port-profile to this interface",
          on_interface([](CommandContext& c, VethInterface& i) -> Result<CommandOutput> {
            const std::string& name = c.args[0].text;
            if (!c.model.profiles.contains(name))
              return refuse("port-profile {} does not exist", name);
            const VethRecord* bound = c.registry.find(i.number);
            if (i.profile != name && bound && bound->vf >= 0) {
              if (auto full = check_max_ports(c.model, c.registry, name, i.number); !full)
                return full.error();
            }
            i.profile = name;
            return done();
          })));
  rows.push_back(row(itf, {keyword("no"), keyword("inherit"), keyword("port-profile")},
                     "Remove the port-profile (the port stops forwarding)",
                     on_interface([](CommandContext&, VethInterface& i) {
                       i.profile.clear();
                       return done();
                     })));
  rows.push_back(row(itf, {keyword("description"), text_arg("TEXT", kMaxDescriptionLen)},
                     "Describe the interface",
                     on_interface([](CommandContext& c, VethInterface& i) {
                       i.description = c.args[0].text;
                       return done();
                     })));
  rows.push_back(row(itf, {keyword("no"), keyword("description")}, "Remove the description",
                     on_interface([](CommandContext&, VethInterface& i) {
                       i.description.clear();
                       return done();
                     })));
  rows.push_back(row(itf, {keyword("shutdown")}, "Shut the interface down",
                     on_interface([](CommandContext&, VethInterface& i) {
                       i.shutdown = true;
                       return done();
                     })));
  rows.push_back(row(itf, {keyword("no"), keyword("shutdown")}, "Bring the interface up",
                     on_interface([](CommandContext&, VethInterface& i) {
                       i.shutdown = false;
                       return done();
                     })));
  return rows;
}

std::span<const CommandSpec> command_table() {
  static const std::vector<CommandSpec> table = [] {
    auto rows = config_command_rows();
    // acl_show_rows() (cli_show_acl.cpp) took over the show rows cli_acl_commands.cpp had;
    // if exec_command_rows() gathers it one day, drop it here (the grammar test refuses
    // duplicate rows).
    for (auto part : {acl_command_rows(), acl_show_rows(), profile_command_rows(),
                      qos_command_rows(), monitor_command_rows()}) {
      rows.insert(rows.end(), std::make_move_iterator(part.begin()),
                  std::make_move_iterator(part.end()));
    }
    auto exec = exec_command_rows();
    rows.insert(rows.end(), std::make_move_iterator(exec.begin()),
                std::make_move_iterator(exec.end()));
    return rows;
  }();
  return table;
}

}  // namespace vfs::vsm
