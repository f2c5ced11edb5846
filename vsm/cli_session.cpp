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
  }
  return "?";
}

std::string CliSession::prompt() const {
  if (mode == Mode::exec) return "vfsw# ";
  return "vfsw(" + std::string(mode_name(mode)) + ")# ";
}

void CliSession::enter(Mode m) {
  mode = m;
  vlans.clear();
  profile.clear();
  veth = 0;
  acl.clear();
}

}  // namespace vfs::vsm
