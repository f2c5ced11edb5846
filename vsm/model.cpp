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
    if ((p.access_vlan_set && p.access_vlan == vlan) || p.native_vlan == vlan)
      users.push_back(name);
  }
  return users;
}

std::vector<uint32_t> SwitchModel::interfaces_using_vlan(uint16_t vlan) const {
  std::vector<uint32_t> users;
  for (const auto& [n, i] : interfaces) {
    if (i.access_vlan == vlan) users.push_back(n);
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

std::vector<std::string> SwitchModel::profiles_inheriting(const std::string& profile) const {
  std::vector<std::string> users;
  for (const auto& [name, p] : profiles) {
    if (p.inherit == profile) users.push_back(name);
  }
  return users;
}

namespace {

void acl_users(const PortPolicy& p, AclFamily family, const std::string& acl,
               const std::string& who, std::vector<std::string>& users) {
  const std::string* in = &p.ip_acl_in;
  const std::string* out = &p.ip_acl_out;
  if (family == AclFamily::ipv6) {
    in = &p.ipv6_acl_in;
    out = &p.ipv6_acl_out;
  } else if (family == AclFamily::mac) {
    in = &p.mac_acl_in;
    out = &p.mac_acl_out;
  }
  if (*in == acl) users.push_back(who + " (in)");
  if (*out == acl) users.push_back(who + " (out)");
}

void policy_users(const PortPolicy& p, const std::string& name, const std::string& who,
                  std::vector<std::string>& users) {
  if (p.policy_in == name) users.push_back(who + " (input)");
  if (p.policy_out == name) users.push_back(who + " (output)");
}

}  // namespace

std::vector<std::string> SwitchModel::users_of_acl(AclFamily family,
                                                   const std::string& name) const {
  std::vector<std::string> users;
  for (const auto& [pname, p] : profiles)
    acl_users(p, family, name, "port-profile " + pname, users);
  for (const auto& [n, i] : interfaces)
    acl_users(i, family, name, fmt::format("Vethernet{}", n), users);
  return users;
}

std::vector<std::string> SwitchModel::users_of_policy_map(const std::string& name) const {
  std::vector<std::string> users;
  for (const auto& [pname, p] : profiles) policy_users(p, name, "port-profile " + pname, users);
  for (const auto& [n, i] : interfaces) policy_users(i, name, fmt::format("Vethernet{}", n), users);
  return users;
}

std::vector<std::string> SwitchModel::users_of_interface(uint32_t n) const {
  std::vector<std::string> users;
  for (const auto& [id, m] : monitor_sessions) {
    if (m.sources.contains(n)) users.push_back(fmt::format("monitor session {} (source)", id));
    if (m.destination == n) users.push_back(fmt::format("monitor session {} (destination)", id));
  }
  size_t bindings = 0;
  for (const auto& b : source_bindings) bindings += b.veth == n ? 1 : 0;
  if (bindings > 0)
    users.push_back(fmt::format("{} ip source binding{}", bindings, bindings > 1 ? "s" : ""));
  return users;
}

}  // namespace vfs::vsm
