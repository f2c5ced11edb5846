#include "vsm/model.h"

#include <fmt/core.h>

namespace vfs::vsm {

std::string default_vlan_name(uint16_t id) {
  return id == kDefaultVlan ? "default" : fmt::format("VLAN{:04}", id);
}

std::string_view role_name(Role r) {
  switch (r) {
    case Role::network_admin:
      return "network-admin";
    case Role::network_operator:
      return "network-operator";
    case Role::server_admin:
      return "server-admin";
  }
  return "network-operator";
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

std::vector<std::string> SwitchModel::profiles_using_acl(AclFamily family,
                                                         const std::string& name) const {
  std::vector<std::string> users;
  for (const auto& [pname, p] : profiles) {
    const std::string& in = family == AclFamily::ipv6 ? p.ipv6_acl_in : p.ip_acl_in;
    const std::string& out = family == AclFamily::ipv6 ? p.ipv6_acl_out : p.ip_acl_out;
    if (in == name) users.push_back(pname + " (in)");
    if (out == name) users.push_back(pname + " (out)");
  }
  return users;
}

}  // namespace vfs::vsm
