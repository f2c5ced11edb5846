// tools/libvirt-hook/hook_config.h owns the hook's settings: the config file
// (configs/libvirt-hook.conf, installed as /etc/vfswitch/libvirt-hook.conf; `name = value`
// lines like vfswitchd.conf) and the environment variables that override it, so that
// tests point the hook at their own daemon without touching /etc.
//
//   VFSWITCH_HOOK_CONFIG   the config file (default /etc/vfswitch/libvirt-hook.conf; the
//                          default may be missing, then built-in defaults apply)
//   VFSWITCH_SOCKET        the daemon's API socket (config `socket`)
//   VFSWITCH_HOOK_TIMEOUT  seconds the whole hook may take (config `timeout`, default 5)
//   VFSWITCH_HOOK_LOG      log file, or "syslog" (config `log`)
#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vfs::tools::libvirt {

inline constexpr const char* kDefaultHookConfig = "/etc/vfswitch/libvirt-hook.conf";
inline constexpr const char* kDefaultHookLog = "/var/log/vfswitch/libvirt-hook.log";

struct HookConfig {
  std::string socket;  // "" = the daemon's default socket
  std::chrono::milliseconds timeout{5000};
  std::string pf;                     // PF netdev whose VFs vfswitch switches
  std::string sim_name = "vfs";       // sim VF wires are <sim_name>vf<i>
  std::set<std::string> networks;     // libvirt networks that are vfswitch's
  std::string log = kDefaultHookLog;  // a file, or "syslog"
  std::string sysfs_root = "/sys";    // where PF VFs are looked up (tests: a fake)
};

// Parses a config file's text; errors are "PATH:LINE: ..." and change nothing.
Result<HookConfig> parse_hook_config(std::string_view text, const std::string& path);

using EnvLookup = std::function<const char*(const char*)>;

// The config the hook runs with: the file named by VFSWITCH_HOOK_CONFIG (which must
// exist) or the default file (which may not), then the environment overrides.
Result<HookConfig> load_hook_config(const EnvLookup& env);

// "5", "0.5", "2.25": seconds, > 0 and at most 300.
Result<std::chrono::milliseconds> parse_timeout(std::string_view text);

}  // namespace vfs::tools::libvirt
