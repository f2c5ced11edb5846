#include "vsm/cli_runner.h"

#include "vsm/cli_tokens.h"

namespace vfs::vsm {
namespace {

std::vector<Mode> mode_chain(Mode m, bool with_exec) {
  std::vector<Mode> chain{m};
  for (Mode p = parent_mode(m); p != Mode::exec; p = parent_mode(p)) chain.push_back(p);
  if (with_exec && m != Mode::exec) chain.push_back(Mode::exec);
  return chain;
}

LineResult fail(CliFailure f) { return {false, {}, std::move(f)}; }

}  // namespace

LineResult run_line(std::string_view line, SwitchModel& model, CliSession& session,
                    const VethRegistry& registry, ExecEnvironment* env, const LineAccess& access) {
  std::string_view content = trim(line);
  if (content.empty() || content.front() == '!') return {};

  auto chain = mode_chain(session.mode, env != nullptr);
  auto matched = match_command(command_table(), line, chain);
  if (auto* f = std::get_if<CliFailure>(&matched)) return fail(std::move(*f));
  auto& m = std::get<CommandMatch>(matched);
  if (access.show_only && !m.command->is_show) return fail({access.refusal, -1});

  // A configuration command typed in a sub-mode leaves the sub-mode (NX-OS); exec commands
  // such as show run from any mode without moving it.
  if (!(m.command->modes & in_mode(session.mode)) && !(m.command->modes & in_mode(Mode::exec))) {
    for (Mode parent : chain) {
      if (m.command->modes & in_mode(parent)) {
        session.leave_to(parent);
        break;
      }
    }
  }

  CommandContext ctx{m.args, model, session, registry, env};
  auto out = m.command->handler(ctx);
  if (!out) {
    LineResult r = fail({out.error().message, -1});
    r.is_show = m.command->is_show;
    return r;
  }
  if (m.pipes.empty()) return {true, std::move(out->text), {}, m.command->is_show};
  auto piped = apply_pipes(out->text, out->data, m.pipes);
  if (!piped) {
    LineResult r = fail({piped.error().message, -1});
    r.is_show = true;
    return r;
  }
  return {true, std::move(*piped), {}, true};
}

}  // namespace vfs::vsm
