// vsm/cli_engine.h owns the CLI grammar machinery. A command is a row of data — the modes
// it is available in, its path of tokens (keywords and typed arguments), its help text
// and its handler — and one matcher resolves a line against the rows: NX-OS unique-prefix
// abbreviations (`conf t`, `sh run`) fall out of the table, and every failure carries the
// column of the offending token for the caret. This file knows nothing of VLANs or
// profiles; the rows live in cli_commands.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "vsm/cli_failure.h"
#include "vsm/cli_pipes.h"
#include "vsm/cli_session.h"

namespace vfs::vsm {

struct CommandContext;  // vsm/cli_commands.h

using ModeSet = uint32_t;
constexpr ModeSet in_mode(Mode m) { return 1u << static_cast<unsigned>(m); }
inline constexpr ModeSet kSubModes =
    in_mode(Mode::config_vlan) | in_mode(Mode::config_port_prof) | in_mode(Mode::config_if) |
    in_mode(Mode::config_acl) | in_mode(Mode::config_ipv6_acl) | in_mode(Mode::config_mac_acl) |
    in_mode(Mode::config_pmap) | in_mode(Mode::config_pmap_class) | in_mode(Mode::config_monitor);
inline constexpr ModeSet kConfigModes = in_mode(Mode::config) | kSubModes;

struct TokenSpec {
  enum class Kind : uint8_t {
    keyword,    // matched case-insensitively by any unique prefix
    number,     // decimal in [min, max]
    vlan_list,  // "10", "10-20,30"
    word,       // one printable token of at most max characters
    text,       // the rest of the line (trimmed), at most max characters; last in a path
  };
  Kind kind = Kind::keyword;
  std::string name;  // the keyword itself, or the placeholder shown in syntax ("NAME")
  std::string help;
  uint32_t min = 0;
  uint32_t max = 0;
};

TokenSpec keyword(std::string name, std::string help = {});
TokenSpec number_arg(std::string name, uint32_t min, uint32_t max, std::string help = {});
TokenSpec vlan_list_arg(std::string name, std::string help = {});
TokenSpec word_arg(std::string name, uint32_t max_len, std::string help = {});
TokenSpec text_arg(std::string name, uint32_t max_len, std::string help = {});

// One argument as parsed, in path order (keywords are not recorded).
struct Arg {
  std::string text;  // as typed; for text tokens the rest of the line, trimmed
  uint32_t number = 0;
  std::vector<uint16_t> vlans;
};

struct CommandOutput {
  std::string text;
  nlohmann::json data;  // show commands: the same content as data, for `| json`
};

using CommandHandler = std::function<Result<CommandOutput>(CommandContext&)>;

struct CommandSpec {
  ModeSet modes = 0;
  std::vector<TokenSpec> path;
  std::string help;
  bool is_show = false;  // output may be piped (`| json`, `| include RE`...)
  CommandHandler handler;

  std::string syntax() const;  // "switchport access vlan N"
};

struct CommandMatch {
  const CommandSpec* command = nullptr;
  std::vector<Arg> args;
  std::vector<PipeStage> pipes;
};

// Resolves line against the rows available in modes[0], then modes[1], ... (a session's
// mode followed by its parents): the first mode in which the whole line parses wins. On
// failure, the failure of the mode that matched the most tokens (modes[0] on a tie).
// Lines may contain only printable ASCII and tabs.
std::variant<CommandMatch, CliFailure> match_command(std::span<const CommandSpec> table,
                                                     std::string_view line,
                                                     std::span<const Mode> modes);

}  // namespace vfs::vsm
