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
  CliFailure failure;  // when !ok
};

// env == null: a configuration file is being replayed; exec commands are not reachable.
LineResult run_line(std::string_view line, SwitchModel& model, CliSession& session,
                    const VethRegistry& registry, ExecEnvironment* env);

}  // namespace vfs::vsm
