// slowpath/daemon/daemon_options.h owns vfswitchd's command line and config file
// (Boost.Program_options; a --config file takes the same long names, `name = value`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace vfs::daemon {

struct DaemonOptions {
  std::string driver = "sim";
  int sim_vfs = 4;
  std::string sim_name = "vfs";
  uint32_t sim_capacity = 65536;
  std::vector<std::string> sim_unsupported;
  std::vector<int> sim_tap_vfs;  // drivers::ESwitchOptions::sim_tap_vfs
  uint32_t sim_insert_latency_us = 0;
  double sim_fail_rate = 0.0;
  bool sim_teardown = false;
  std::string pci;
  std::string representors = "vf[0-3]";
  std::string socket = "/run/vfswitch/vfswitchd.sock";
  std::string state_dir = "/var/lib/vfswitch";
  std::string startup_config;  // default: <state-dir>/startup-config if it exists
  std::string config;
  bool foreground = false;
  uint32_t mac_aging_s = 300;
  std::string log_level = "info";
  bool help = false;
  bool version = false;
  std::string help_text;
};

// Parses argv (and the --config file it names). Errors name the option, or the file and
// line of the config file.
Result<DaemonOptions> parse_daemon_options(int argc, const char* const* argv);

}  // namespace vfs::daemon
