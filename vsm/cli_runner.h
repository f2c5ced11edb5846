// vsm/cli_runner.h owns running one CLI line: match it in the session's mode and its
// parents, move the session to the mode where a configuration command was found (as
// NX-OS does), run the handler on the caller's working copies and pipe a show's output.
// The caller commits the copies only if the line succeeded.
#pragma once

#include <string>
#include <string_view>

#include "vsm/cli_commands.h"

namespace vfs::vsm {

struct LineResult {
  bool ok = true;
  std::string output;
  CliFailure failure;    // when !ok
  bool is_show = false;  // the line matched a show command (not a configuration change)
};

// What the caller's role lets a line do: show_only refuses every other command with
// refusal before its handler runs.
struct LineAccess {
  bool show_only = false;
  std::string refusal;
};

// env == null: a configuration file is being replayed; exec commands are not reachable.
LineResult run_line(std::string_view line, SwitchModel& model, CliSession& session,
                    const VethRegistry& registry, ExecEnvironment* env,
                    const LineAccess& access = {});

}  // namespace vfs::vsm
