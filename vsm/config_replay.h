// vsm/config_replay.h owns reading a configuration file (startup-config, or a rendered
// running-config): every line goes through the CLI parser in configuration mode onto a
// scratch copy of the model. Unindented lines are top-level (config mode); indented lines
// continue the sub-mode above them, as NX-OS renders them; `!` and blank lines are
// comments. The first bad line fails the whole file with "SOURCE:LINE: message".
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "vsm/model.h"
#include "vsm/veth_registry.h"

namespace vfs::vsm {

Result<SwitchModel> replay_config(const SwitchModel& base, const VethRegistry& registry,
                                  std::string_view text, const std::string& source);

}  // namespace vfs::vsm
