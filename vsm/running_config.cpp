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

  std::vector<uint16_t> ids;
  for (const auto& [id, v] : model.vlans) ids.push_back(id);
  out += fmt::format("\nvlan {}\n", format_vlan_list(ids));
  for (const auto& [id, v] : model.vlans) {
    if (v.name != default_vlan_name(id)) out += fmt::format("vlan {}\n  name {}\n", id, v.name);
  }

  for (const auto& [name, p] : model.profiles) {
    out += fmt::format("\nport-profile type vethernet {}\n", name);
    if (!p.description.empty()) out += fmt::format("  description {}\n", p.description);
    out += fmt::format("  switchport mode {}\n", switchport_mode_name(p.mode));
    if (p.access_vlan != kDefaultVlan)
      out += fmt::format("  switchport access vlan {}\n", p.access_vlan);
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
    profiles.push_back({{"name", name},
                        {"type", "vethernet"},
                        {"description", p.description},
                        {"switchport_mode", switchport_mode_name(p.mode)},
                        {"access_vlan", p.access_vlan},
                        {"shutdown", p.shutdown},
                        {"state_enabled", p.state_enabled}});
  }
  nlohmann::json itfs = nlohmann::json::array();
  for (const auto& [n, i] : model.interfaces) {
    itfs.push_back({{"vethernet", n},
                    {"inherit_port_profile", i.profile},
                    {"description", i.description},
                    {"shutdown", i.shutdown}});
  }
  return {{"vlans", vlans}, {"port_profiles", profiles}, {"interfaces", itfs}};
}

}  // namespace vfs::vsm
