// The exec rows about checkpoints: `checkpoint NAME`, `no checkpoint NAME`,
// `rollback running-config checkpoint NAME`, `show checkpoint summary` and
// `show checkpoint NAME`.
//
// A rollback replays the checkpoint's text through the configuration parser onto an empty
// model — the path a startup-config takes — and hands the result to the Supervisor as
// the command's new model: it is applied to the datapath once, and only if every line
// replayed; on any error nothing changes and the error names the failing line.
#include <ctime>

#include <fmt/core.h>

#include "vsm/cli_show.h"
#include "vsm/config_replay.h"
#include "vsm/running_config.h"

namespace vfs::vsm {
namespace {

using nlohmann::json;

std::string utc_time(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (!::gmtime_r(&tt, &tm)) return std::to_string(t);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S %Y", &tm);
  return std::string(buf, n);
}

Result<CommandOutput> create_checkpoint(CommandContext& c) {
  auto env = need_env(c);
  if (!env) return env.error();
  Checkpoint cp{c.args[0].text, static_cast<int64_t>(std::time(nullptr)), (*env)->user(),
                render_running_config(c.model), model_json(c.model)};
  if (auto a = (*env)->checkpoints().add(std::move(cp)); !a) return a.error();
  return CommandOutput{fmt::format("Checkpoint {} created.\n", c.args[0].text), nullptr};
}

Result<CommandOutput> delete_checkpoint(CommandContext& c) {
  auto env = need_env(c);
  if (!env) return env.error();
  if (auto r = (*env)->checkpoints().remove(c.args[0].text); !r) return r.error();
  return CommandOutput{};
}

// Attached vEthernets the checkpoint does not configure keep their current configuration,
// so a rollback does not take a running VM's port away; one whose port-profile the
// checkpoint lacks refuses the rollback instead of failing the port closed silently.
Result<void> keep_attached(const CommandContext& c, const std::string& name, SwitchModel& next) {
  for (const auto& [n, rec] : c.registry.records()) {
    if (rec.vf < 0 || next.interfaces.contains(n)) continue;
    auto now = c.model.interfaces.find(n);
    if (now == c.model.interfaces.end()) continue;
    const std::string& profile = now->second.profile;
    if (!profile.empty() && !next.profiles.contains(profile))
      return make_error(EBUSY,
                        "Rollback failed, nothing changed: Vethernet{} (VM {}, VF {}) inherits "
                        "port-profile {}, which checkpoint {} does not have; detach it first",
                        n, rec.vm.empty() ? rec.vm_uuid : rec.vm, rec.vf, profile, name);
    next.interfaces[n] = now->second;
  }
  return ok();
}

Result<CommandOutput> rollback(CommandContext& c) {
  auto env = need_env(c);
  if (!env) return env.error();
  const std::string& name = c.args[0].text;
  const Checkpoint* cp = (*env)->checkpoints().find(name);
  if (!cp) return make_error(ENOENT, "checkpoint {} does not exist", name);
  auto replayed =
      replay_config(SwitchModel{}, c.registry, cp->running_config, "checkpoint " + name);
  if (!replayed)
    return make_error(replayed.error().code, "Rollback failed, nothing changed: {}",
                      replayed.error().message);
  if (auto k = keep_attached(c, name, *replayed); !k) return k.error();
  c.model = std::move(*replayed);
  return CommandOutput{"Rollback completed successfully.\n", nullptr};
}

Result<CommandOutput> show_summary(CommandContext& c) {
  auto env = need_env(c);
  if (!env) return env.error();
  CommandOutput out;
  out.text = fmt::format("{:<24} {:<24}  {:<16} {}\n", "Name", "Created (UTC)", "User", "Size") +
             fmt::format("{:-<24} {:-<24}  {:-<16} {:-<8}\n", "", "", "", "");
  out.data = {{"checkpoints", json::array()}};
  for (const auto& [name, cp] : (*env)->checkpoints().all()) {
    out.text += fmt::format("{:<24} {:<24}  {:<16} {}\n", name, utc_time(cp.time), cp.user,
                            cp.running_config.size());
    out.data["checkpoints"].push_back({{"name", name},
                                       {"time", cp.time},
                                       {"created", utc_time(cp.time)},
                                       {"user", cp.user},
                                       {"size", cp.running_config.size()}});
  }
  return out;
}

Result<CommandOutput> show_one(CommandContext& c) {
  auto env = need_env(c);
  if (!env) return env.error();
  const Checkpoint* cp = (*env)->checkpoints().find(c.args[0].text);
  if (!cp) return make_error(ENOENT, "checkpoint {} does not exist", c.args[0].text);
  return CommandOutput{cp->running_config, cp->model};
}

}  // namespace

std::vector<CommandSpec> checkpoint_command_rows() {
  const TokenSpec name =
      word_arg("NAME", kMaxCheckpointNameLen, "Checkpoint name (letters, digits, _ - .)");
  std::vector<CommandSpec> rows;
  rows.push_back(exec_row({keyword("checkpoint", "Save the running configuration"), name},
                          "Save the running configuration as checkpoint NAME", create_checkpoint));
  rows.push_back(exec_row({keyword("no", "Negate a command"), keyword("checkpoint"), name},
                          "Delete checkpoint NAME", delete_checkpoint));
  rows.push_back(exec_row({keyword("rollback", "Roll the configuration back"),
                           keyword("running-config", "The current operating configuration"),
                           keyword("checkpoint", "To a checkpoint"), name},
                          "Replace the running configuration by checkpoint NAME, all or nothing",
                          rollback));
  rows.push_back(show_row({keyword("checkpoint", "Checkpoint information"), keyword("summary")},
                          "Show every checkpoint: name, time, user and size", show_summary));
  rows.push_back(show_row({keyword("checkpoint"), name},
                          "Show the configuration saved in a checkpoint", show_one));
  return rows;
}

}  // namespace vfs::vsm
