// tools/common/cli_text.h owns how the CLI client turns what the user typed into
// commands, and the daemon's answers back into NX-OS text: CLI errors (caret under the
// token), the `?` list of next words and what TAB inserts. Pure functions of the API's
// responses, so the interactive terminal stays a thin shell around them.
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

// The `?` list for a "complete" response: one "  WORD  HELP" line per choice, padded to
// one column, then "  <CR>" when the line is a whole command; for a failed response the
// error with its caret (render_cli_error).
std::string render_choices(const nlohmann::json& response, size_t caret_indent);

// What TAB does with a "complete" response for line (the text up to the cursor).
struct TabAction {
  std::string insert;  // text to insert at the cursor ("" = nothing)
  bool list = false;   // nothing unique to insert: show the `?` list instead
};
TabAction tab_completion(const nlohmann::json& response, std::string_view line);

}  // namespace vfs::tools
