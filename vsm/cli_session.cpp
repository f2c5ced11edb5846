#include "vsm/cli_session.h"

namespace vfs::vsm {

std::string_view mode_name(Mode m) {
  switch (m) {
    case Mode::exec:
      return "exec";
    case Mode::config:
      return "config";
    case Mode::config_vlan:
      return "config-vlan";
    case Mode::config_port_prof:
      return "config-port-prof";
    case Mode::config_if:
      return "config-if";
    case Mode::config_acl:
      return "config-acl";
    case Mode::config_ipv6_acl:
      return "config-ipv6-acl";
    case Mode::config_mac_acl:
      return "config-mac-acl";
    case Mode::config_pmap:
      return "config-pmap-qos";
    case Mode::config_pmap_class:
      return "config-pmap-c-qos";
    case Mode::config_monitor:
      return "config-monitor";
  }
  return "?";
}

Mode parent_mode(Mode m) {
  switch (m) {
    case Mode::exec:
    case Mode::config:
      return Mode::exec;
    case Mode::config_pmap_class:
      return Mode::config_pmap;
    default:
      return Mode::config;
  }
}

std::string CliSession::prompt() const {
  if (mode == Mode::exec) return "vfsw# ";
  return "vfsw(" + std::string(mode_name(mode)) + ")# ";
}

void CliSession::leave_to(Mode ancestor) {
  std::string pmap = policy_map;
  enter(ancestor);
  if (ancestor == Mode::config_pmap) policy_map = std::move(pmap);
}

void CliSession::enter(Mode m) {
  mode = m;
  vlans.clear();
  profile.clear();
  veth = 0;
  acl.clear();
  policy_map.clear();
  monitor = 0;
}

}  // namespace vfs::vsm
