#include "vsm/cli_failure.h"

namespace vfs::vsm {

std::string render_failure(std::string_view line, const CliFailure& f) {
  std::string out;
  if (f.column >= 0) {
    out.append(line);
    out += '\n';
    out.append(static_cast<size_t>(f.column), ' ');
    out += "^\n";
  }
  out += "% ";
  out += f.message;
  return out;
}

}  // namespace vfs::vsm
