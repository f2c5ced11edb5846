// vsm/cli_show.h owns what the exec rows (show commands, copy, checkpoints) share: the row
// builder, the interface status as the datapath resolves it, the counters of a vEthernet
// as Dataplane::counters_json() reports them, and the table padding. The rows themselves
// live in cli_show_commands.cpp (configuration, system), cli_show_interfaces.cpp
// (interfaces, VLANs, policy-maps), cli_show_profiles.cpp, cli_show_acl.cpp (access lists) and
// cli_checkpoint_commands.cpp; exec_command_rows() gathers them, except acl_show_rows(),
// which command_table() takes directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "vsm/cli_commands.h"
#include "vsm/dataplane.h"

namespace vfs::vsm {

// `show PATH...`, an exec row whose output may be piped.
CommandSpec show_row(std::vector<TokenSpec> path, std::string help, CommandHandler handler);
// An exec row that is not a show (its lines are accounted).
CommandSpec exec_row(std::vector<TokenSpec> path, std::string help, CommandHandler handler);

// The environment of an exec command; an error while replaying a file.
Result<ExecEnvironment*> need_env(CommandContext& c);

// NX-OS tables pad every column; trailing blanks are noise.
std::string trim_lines(const std::string& text);

std::string veth_name(uint32_t n);   // "Vethernet3"
std::string veth_short(uint32_t n);  // "Veth3"

// Status of a configured interface: a bound one resolved exactly as the datapath gets it,
// the others down for "not attached".
struct InterfaceStatus {
  uint32_t number = 0;
  const VethRecord* record = nullptr;  // null = never attached
  ResolvedVeth resolved;
  bool bound() const { return record && record->vf >= 0; }
  bool up() const { return bound() && resolved.forwarding; }
  std::string reason() const { return bound() ? resolved.reason : "not attached"; }
};
InterfaceStatus status_of(const CommandContext& c, uint32_t number);

// counters_json()["veths"]["N"], or an empty object; never throws on a malformed answer.
nlohmann::json veth_counters(const nlohmann::json& all, uint32_t n);
// A counter as a number (0 when absent or not a number).
uint64_t counter(const nlohmann::json& j, const char* key);
// Nested objects flattened to dotted keys, one "indent key  value" line each.
std::string render_counters(const nlohmann::json& j, const std::string& indent);

// "shutdown", "restrict", "protect".
std::string_view violation_mode_name(ViolationMode m);

// The lines of a rendered running-config from the one equal to header up to the next
// top-level line, after the `!` header lines: NX-OS's `show running-config SECTION`.
std::string running_config_section(const std::string& text, const std::string& header);

// The rows of each file.
std::vector<CommandSpec> interface_show_rows();
std::vector<CommandSpec> profile_show_rows();
std::vector<CommandSpec> acl_show_rows();
std::vector<CommandSpec> checkpoint_command_rows();
std::vector<CommandSpec> dhcp_snooping_show_rows();  // cli_show_dhcp_snooping.cpp

}  // namespace vfs::vsm
