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

}  // namespace vfs::vsm
