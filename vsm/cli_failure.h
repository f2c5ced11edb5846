// vsm/cli_failure.h owns the shape of a CLI error: NX-OS words ("Invalid command at '^'
// marker.", or the semantic reason) and, for syntax errors, the column the caret points at.
#pragma once

#include <string>
#include <string_view>

namespace vfs::vsm {

struct CliFailure {
  std::string message;  // without the leading "% "
  int column = -1;      // caret position in the line; -1 when not positional
};

// NX-OS rendering: for positional failures the line and a caret under the column, then
// "% message".
std::string render_failure(std::string_view line, const CliFailure& f);

}  // namespace vfs::vsm
