// vsm/cli_commands.h owns the command table of this supervisor — every command of the CLI
// as a row (modes, path, help, handler) — and what a handler may touch: the working copy
// of the model, the session, the registry (read-only) and, for exec commands, the
// ExecEnvironment. Handlers validate before they edit, but the caller discards the working
// copies on any error anyway.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "vsm/accounting_log.h"
#include "vsm/checkpoint_store.h"
#include "vsm/cli_engine.h"
#include "vsm/model.h"
#include "vsm/veth_registry.h"

namespace vfs::vsm {

// What exec commands reach beyond the model.
class ExecEnvironment {
 public:
  virtual ~ExecEnvironment() = default;
  virtual int vf_count() const = 0;
  virtual nlohmann::json counters() const = 0;  // Dataplane::counters_json()
  virtual const std::string& startup_config_path() const = 0;
  virtual Result<void> save_startup_config(const std::string& text) = 0;
  virtual std::vector<AccountingRecord> accounting() const = 0;
  virtual CheckpointStore& checkpoints() = 0;
  virtual const std::string& user() const = 0;  // who runs the command, as accounted
};

struct CommandContext {
  const std::vector<Arg>& args;
  SwitchModel& model;   // working copy
  CliSession& session;  // working copy
  const VethRegistry& registry;
  ExecEnvironment* env;  // null while replaying a configuration file
};

// All rows, built once.
std::span<const CommandSpec> command_table();

// The parts, for command_table().
std::vector<CommandSpec> config_command_rows();
std::vector<CommandSpec> exec_command_rows();
std::vector<CommandSpec> acl_command_rows();
std::vector<CommandSpec> profile_command_rows();  // cli_profile_commands.cpp
std::vector<CommandSpec> qos_command_rows();      // cli_qos_commands.cpp
std::vector<CommandSpec> monitor_command_rows();  // cli_monitor_commands.cpp

// The policy settings the session's sub-mode edits: its port-profile's or its interface's.
Result<PortPolicy*> current_port_policy(CommandContext& c);
// What policy lives in: "port-profile web" / "Vethernet3".
std::string port_policy_owner(const CommandContext& c);

// Refused (naming max-ports) when binding one more vEthernet, veth, to profile would
// exceed its max-ports; vEthernets already inheriting it do not count twice.
Result<void> check_max_ports(const SwitchModel& model, const VethRegistry& registry,
                             const std::string& profile, uint32_t veth);

}  // namespace vfs::vsm
