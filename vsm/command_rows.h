// vsm/command_rows.h owns the builders the command tables (vsm/cli_*_commands.cpp) are
// written with. They are shared, not copied per file, so that a unity build (several
// .cpp files in one translation unit) sees each once.
#pragma once

#include <cerrno>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "base/result.h"
#include "vsm/cli_commands.h"

namespace vfs::vsm {

// A command's refusal of bad input: EINVAL with the message.
template <class... A>
Error refuse(fmt::format_string<A...> f, A&&... a) {
  return make_error(EINVAL, f, std::forward<A>(a)...);
}

// Row builders keep the tables readable.
inline CommandSpec row(ModeSet modes, std::vector<TokenSpec> path, std::string help,
                       CommandHandler h) {
  return CommandSpec{modes, std::move(path), std::move(help), false, std::move(h)};
}

inline Result<CommandOutput> done() { return CommandOutput{}; }

// config-port-profile: the profile the session is in, which may have been deleted since.
inline Result<PortProfile*> current_profile(CommandContext& c) {
  auto it = c.model.profiles.find(c.session.profile);
  if (it == c.model.profiles.end())
    return refuse("port-profile {} no longer exists", c.session.profile);
  return &it->second;
}

// A handler that edits the profile the session is in.
inline CommandHandler on_profile(
    std::function<Result<CommandOutput>(CommandContext&, PortProfile&)> f) {
  return [f = std::move(f)](CommandContext& c) -> Result<CommandOutput> {
    auto p = current_profile(c);
    if (!p) return p.error();
    return f(c, **p);
  };
}

}  // namespace vfs::vsm
