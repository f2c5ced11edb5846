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
  config_acl,         // ip access-list NAME
  config_ipv6_acl,    // ipv6 access-list NAME
  config_mac_acl,     // mac access-list NAME
  config_pmap,        // policy-map type qos NAME
  config_pmap_class,  // class class-default (in a policy-map)
  config_monitor,     // monitor session N
};

// "exec", "config", "config-vlan", "config-port-prof", "config-if", "config-acl",
// "config-ipv6-acl", "config-mac-acl", "config-pmap-qos", "config-pmap-c-qos",
// "config-monitor".
std::string_view mode_name(Mode m);

// The mode `exit` returns to: config-pmap-c-qos -> config-pmap-qos -> config -> exec.
Mode parent_mode(Mode m);

struct CliSession {
  Mode mode = Mode::exec;
  std::vector<uint16_t> vlans;  // config-vlan: the VLANs `vlan LIST` entered
  std::string profile;          // config-port-prof
  uint32_t veth = 0;            // config-if
  std::string acl;              // config-acl, config-ipv6-acl, config-mac-acl
  std::string policy_map;       // config-pmap-qos, config-pmap-c-qos
  uint32_t monitor = 0;         // config-monitor

  // "vfsw# ", "vfsw(config-port-prof)# "
  std::string prompt() const;
  void enter(Mode m);  // clears the sub-mode objects
  // Moves to parent_mode(mode) (or an ancestor), keeping the objects that mode edits.
  void leave_to(Mode ancestor);
};

}  // namespace vfs::vsm
