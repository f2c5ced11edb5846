// vsm/running_config.h owns the text form of the model, NX-OS style: top-level commands
// with their sub-mode lines indented two spaces, sections separated by blank lines, `!`
// comment header. It replays through the same parser to the same model, byte for byte.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "vsm/model.h"

namespace vfs::vsm {

inline constexpr const char* kVersion = "0.1.0";  // keep equal to project() in CMakeLists.txt

std::string render_running_config(const SwitchModel& model);

// The same content as data (`show running-config | json`).
nlohmann::json model_json(const SwitchModel& model);

std::string_view switchport_mode_name(SwitchportMode m);

}  // namespace vfs::vsm
