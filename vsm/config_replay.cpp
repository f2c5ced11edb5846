#include "vsm/config_replay.h"

#include <fmt/core.h>

#include "vsm/cli_runner.h"
#include "vsm/cli_tokens.h"

namespace vfs::vsm {

Result<SwitchModel> replay_config(const SwitchModel& base, const VethRegistry& registry,
                                  std::string_view text, const std::string& source) {
  SwitchModel model = base;
  CliSession session;
  session.enter(Mode::config);
  size_t lineno = 0;
  while (!text.empty()) {
    ++lineno;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) continue;
    if (!is_blank(line.front())) session.enter(Mode::config);
    LineResult r = run_line(line, model, session, registry, nullptr);
    if (!r.ok) {
      std::string msg = fmt::format("{}:{}: {}", source, lineno, r.failure.message);
      if (r.failure.column >= 0)
        msg += fmt::format("\n  {}\n  {}^", line,
                           std::string(static_cast<size_t>(r.failure.column), ' '));
      return make_error(EINVAL, "{}", msg);
    }
  }
  return model;
}

}  // namespace vfs::vsm
