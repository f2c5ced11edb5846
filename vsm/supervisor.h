// vsm/supervisor.h owns the embedded supervisor: the configuration model, the vEthernet
// registry and the Dataplane they drive. Every change — a CLI command, attach, detach, a
// startup-config — is made on a copy of the state; the copy is resolved into a
// DataplaneConfig, applied, the registry persisted, and only then swapped in. So a change
// the datapath (or the disk) refuses changes nothing.
//
// Threading: every public member may be called from any thread; they are serialised by
// one mutex (control plane only — the datapath never takes it). Dataplane calls are made
// with that mutex held.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "vsm/accounting_log.h"
#include "vsm/checkpoint_store.h"
#include "vsm/cli_commands.h"
#include "vsm/cli_failure.h"
#include "vsm/cli_session.h"
#include "vsm/dataplane.h"
#include "vsm/model.h"
#include "vsm/veth_registry.h"

namespace vfs::vsm {

struct SupervisorOptions {
  std::string state_dir;            // holds veths.json; created if missing
  std::string startup_config_path;  // "" = <state_dir>/startup-config
};

struct AttachRequest {
  int vf = -1;
  std::string profile;
  std::string vm;       // VM name; may be empty if vm_uuid is given
  std::string vm_uuid;  // optional
  std::string mac;      // optional, xx:xx:xx:xx:xx:xx
};

// Who is asking: the Unix login behind the API connection (SO_PEERCRED). uid 0 is always
// network-admin; any other user needs a `username NAME role ROLE`.
struct Caller {
  uid_t uid = 0;
  std::string user;  // login name; "" if the uid has none
};

struct CliOutcome {
  bool ok = true;
  std::string output;
  CliFailure failure;  // when !ok: message without "% ", caret column or -1
};

class Supervisor final : private ExecEnvironment {
 public:
  Supervisor(Dataplane& dataplane, SupervisorOptions options);

  // Daemon startup: reads <state-dir>/veths.json (a corrupt file is an error naming it),
  // the checkpoints in <state-dir>/checkpoints, then the startup-config if it exists,
  // re-binds the registered VFs to their vEthernets and profiles, and applies once.
  // Nothing is changed if it fails.
  Result<void> restore();

  // Replays a configuration file onto a copy of the current model (so it merges, as
  // `copy FILE running-config` would); the first bad line fails it all ("FILE:LINE: ...").
  Result<void> load_startup_config(const std::string& path);

  // Runs one CLI line in session, which it may move to another mode, with the rights of
  // caller's role (the two-argument form: as root). Every line but a show command goes to
  // the accounting log with its result.
  CliOutcome execute(CliSession& session, std::string_view line);
  CliOutcome execute(CliSession& session, std::string_view line, const Caller& caller);

  // caller's role, or why caller may not use the switch at all.
  Result<Role> authorize(const Caller& caller) const;

  // Binds VF request.vf to the vNIC's vEthernet (the same number as last time for the
  // same vNIC) inheriting request.profile. Refused, with the reason, if the profile is
  // missing or not enabled, its max-ports is reached, the VF is out of range or bound to
  // another vNIC.
  Result<uint32_t> attach(const AttachRequest& request);
  Result<void> detach(int vf);
  // The same for caller: network-admin or server-admin only; accounted.
  Result<uint32_t> attach(const AttachRequest& request, const Caller& caller);
  Result<void> detach(int vf, const Caller& caller);

  std::vector<AccountingRecord> accounting_records() const;

  // Dataplane::rules_json(), each rule given the "vm" of its vEthernet if it has none.
  nlohmann::json rules_json() const;
  nlohmann::json counters_json() const;

  std::string running_config() const;
  SwitchModel model() const;
  VethRegistry registry() const;
  const std::string& startup_config_path() const override { return startup_path_; }
  const std::string& registry_path() const { return registry_path_; }

 private:
  // ExecEnvironment, called by handlers while mu_ is held.
  int vf_count() const override;
  nlohmann::json counters() const override;
  std::vector<AccountingRecord> accounting() const override { return accounting_.records(); }
  Result<void> save_startup_config(const std::string& text) override;
  CheckpointStore& checkpoints() override { return checkpoints_; }
  const std::string& user() const override { return current_user_; }

  Result<Role> authorize_locked(const Caller& caller) const;
  void account(const Caller& caller, std::string command, const std::string& failure);

  // Applies and persists (model, registry), then makes them current. mu_ held.
  Result<void> commit(SwitchModel model, VethRegistry registry);

  Dataplane& dataplane_;
  const std::string state_dir_;
  const std::string startup_path_;
  const std::string registry_path_;

  mutable std::mutex mu_;
  SwitchModel model_;
  VethRegistry registry_;
  DataplaneConfig applied_;
  bool applied_once_ = false;
  std::string persisted_;  // content of veths.json as last written
  AccountingLog accounting_;
  CheckpointStore checkpoints_;  // <state-dir>/checkpoints
  std::string current_user_;     // the caller of the line execute() is running
};

}  // namespace vfs::vsm
