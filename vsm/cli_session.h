// vsm/cli_session.h owns the state of one CLI session: the mode it is in (exec, config,
// or a sub-mode) and which objects a sub-mode edits. A session is plain data held by its
// user (an API connection, a config-file replay); commands receive a copy and it is
// replaced only when the command succeeds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vfs::vsm {

enum class Mode : uint8_t {
  exec,
  config,
  config_vlan,
  config_port_prof,
  config_if,
  config_acl,       // ip access-list NAME
  config_ipv6_acl,  // ipv6 access-list NAME
};

// "exec", "config", "config-vlan", "config-port-prof", "config-if", "config-acl",
// "config-ipv6-acl".
std::string_view mode_name(Mode m);

struct CliSession {
  Mode mode = Mode::exec;
  std::vector<uint16_t> vlans;  // config-vlan: the VLANs `vlan LIST` entered
  std::string profile;          // config-port-prof
  uint32_t veth = 0;            // config-if
  std::string acl;              // config-acl, config-ipv6-acl

  // "vfsw# ", "vfsw(config-port-prof)# "
  std::string prompt() const;
  void enter(Mode m);  // clears the sub-mode objects
};

}  // namespace vfs::vsm
