#include "vsm/model.h"

#include <fmt/core.h>

namespace vfs::vsm {

std::string default_vlan_name(uint16_t id) {
  return id == kDefaultVlan ? "default" : fmt::format("VLAN{:04}", id);
}

SwitchModel::SwitchModel() {
  vlans[kDefaultVlan] = Vlan{kDefaultVlan, default_vlan_name(kDefaultVlan)};
}

std::vector<std::string> SwitchModel::profiles_using_vlan(uint16_t vlan) const {
  std::vector<std::string> users;
  for (const auto& [name, p] : profiles) {
    if (p.access_vlan == vlan) users.push_back(name);
  }
  return users;
}

std::vector<uint32_t> SwitchModel::interfaces_inheriting(const std::string& profile) const {
  std::vector<uint32_t> users;
  for (const auto& [n, i] : interfaces) {
    if (i.profile == profile) users.push_back(n);
  }
  return users;
}

}  // namespace vfs::vsm
