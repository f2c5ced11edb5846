// tools/common/cli_text.h owns how the CLI client turns what the user typed into
// commands and the daemon's CLI errors back into NX-OS text (caret under the token).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace vfs::tools {

// "conf t ; vlan 10;exit" -> {"conf t", "vlan 10", "exit"}; blank commands are dropped.
std::vector<std::string> split_commands(std::string_view text);

// The error of a failed "cli" response: when it points at a column, a caret line first,
// indented by caret_indent (the width of whatever precedes the command on screen).
std::string render_cli_error(const nlohmann::json& response, size_t caret_indent);

}  // namespace vfs::tools
