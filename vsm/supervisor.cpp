#include "vsm/supervisor.h"

#include <ctime>
#include <filesystem>
#include <system_error>

#include <fmt/core.h>

#include "base/atomic_file.h"
#include "base/log.h"
#include "vsm/cli_runner.h"
#include "vsm/cli_tokens.h"
#include "vsm/config_replay.h"
#include "vsm/dataplane_config.h"
#include "vsm/running_config.h"

namespace vfs::vsm {
namespace {

constexpr size_t kMaxVmFieldLen = 256;

Result<void> create_directories(const std::string& dir, const char* what) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(ec.value(), "{} {}: cannot create: {}", what, dir, ec.message());
  return ok();
}

std::string parent_dir(const std::string& path) {
  auto p = std::filesystem::path(path).parent_path();
  return p.empty() ? "." : p.string();
}

bool printable(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// "52:54:00:AB:cd:01" -> "52:54:00:ab:cd:01"; nullopt if not six hex pairs.
std::optional<std::string> normalize_mac(const std::string& mac) {
  if (mac.size() != 17) return std::nullopt;
  std::string out = mac;
  for (size_t i = 0; i < out.size(); ++i) {
    char& c = out[i];
    if (i % 3 == 2) {
      if (c != ':') return std::nullopt;
      continue;
    }
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return out;
}

Result<void> check_vm_field(const char* what, const std::string& v) {
  if (v.size() > kMaxVmFieldLen || !printable(v))
    return make_error(EINVAL, "{} must be printable ASCII of at most {} characters", what,
                      kMaxVmFieldLen);
  return ok();
}

}  // namespace

Supervisor::Supervisor(Dataplane& dataplane, SupervisorOptions options)
    : dataplane_(dataplane),
      state_dir_(options.state_dir),
      startup_path_(options.startup_config_path.empty() ? options.state_dir + "/startup-config"
                                                        : options.startup_config_path),
      registry_path_(options.state_dir + "/veths.json"),
      accounting_(options.state_dir.empty() ? std::string()
                                            : options.state_dir + "/accounting.log"),
      checkpoints_(options.state_dir.empty() ? std::string() : options.state_dir + "/checkpoints") {
}

Result<void> Supervisor::restore() {
  std::lock_guard<std::mutex> g(mu_);
  if (state_dir_.empty()) return make_error(EINVAL, "the supervisor has no state directory");
  if (auto d = create_directories(state_dir_, "state directory"); !d) return d;

  VethRegistry registry;
  std::map<uint32_t, std::string> profiles;
  std::error_code ec;
  if (std::filesystem::exists(registry_path_, ec)) {
    auto text = read_file(registry_path_);
    if (!text) return text.error();
    auto loaded = VethRegistry::from_json(*text, registry_path_);
    if (!loaded) return loaded.error();
    registry = std::move(loaded->registry);
    profiles = std::move(loaded->profiles);
  }

  CheckpointStore checkpoints = checkpoints_;
  if (auto l = checkpoints.load(); !l) return l;

  SwitchModel model = model_;
  if (std::filesystem::exists(startup_path_, ec)) {
    auto text = read_file(startup_path_);
    if (!text) return text.error();
    auto replayed = replay_config(model, registry, *text, startup_path_);
    if (!replayed) return replayed.error();
    model = std::move(*replayed);
  }

  // Re-bind: the registry is newer than the startup-config for what each vEthernet inherits.
  const int vfs = dataplane_.vf_count();
  for (const auto& [n, rec] : registry.records()) {
    if (rec.vf < 0) continue;
    if (rec.vf >= vfs) {
      log::warn("vsm", "Vethernet{}: VF {} no longer exists on this host ({} VFs); left detached",
                n, rec.vf, vfs);
      VethRecord r = rec;
      r.vf = -1;
      registry.put(r);
      continue;
    }
    VethInterface& itf = model.interfaces[n];
    itf.number = n;
    auto p = profiles.find(n);
    if (p == profiles.end()) continue;
    if (model.profiles.contains(p->second)) {
      itf.profile = p->second;
    } else {
      log::warn("vsm",
                "Vethernet{} (VF {}): port-profile {} recorded in {} does not exist; the port "
                "does not forward",
                n, rec.vf, p->second, registry_path_);
    }
  }
  if (auto c = commit(std::move(model), std::move(registry)); !c) return c;
  checkpoints_ = std::move(checkpoints);
  return ok();
}

Result<void> Supervisor::load_startup_config(const std::string& path) {
  std::lock_guard<std::mutex> g(mu_);
  auto text = read_file(path);
  if (!text) return text.error();
  auto replayed = replay_config(model_, registry_, *text, path);
  if (!replayed) return replayed.error();
  return commit(std::move(*replayed), registry_);
}

CliOutcome Supervisor::execute(CliSession& session, std::string_view line) {
  return execute(session, line, Caller{0, "root"});
}

Result<Role> Supervisor::authorize(const Caller& caller) const {
  std::lock_guard<std::mutex> g(mu_);
  return authorize_locked(caller);
}

Result<Role> Supervisor::authorize_locked(const Caller& caller) const {
  if (caller.uid == 0) return Role::network_admin;
  if (caller.user.empty())
    return make_error(EACCES, "uid {} has no user name; access refused", caller.uid);
  auto it = model_.users.find(caller.user);
  if (it == model_.users.end())
    return make_error(EACCES,
                      "user {} (uid {}) has no role (configure 'username {} role ...'); access "
                      "refused",
                      caller.user, caller.uid, caller.user);
  return it->second.role;
}

void Supervisor::account(const Caller& caller, std::string command, const std::string& failure) {
  accounting_.record({static_cast<int64_t>(std::time(nullptr)),
                      caller.user.empty() ? fmt::format("uid{}", caller.uid) : caller.user,
                      std::move(command), failure.empty() ? "SUCCESS" : "FAILURE: " + failure});
}

CliOutcome Supervisor::execute(CliSession& session, std::string_view line, const Caller& caller) {
  std::lock_guard<std::mutex> g(mu_);
  auto role = authorize_locked(caller);
  if (!role) {
    account(caller, std::string(trim(line)), role.error().message);
    return {false, {}, {role.error().message, -1}};
  }
  LineAccess access;
  if (*role != Role::network_admin) {
    access.show_only = true;
    access.refusal = fmt::format(
        "Permission denied: user {} has role {}, which may only run show "
        "commands",
        caller.user, role_name(*role));
  }
  SwitchModel model = model_;
  CliSession next = session;
  current_user_ = caller.user.empty() ? fmt::format("uid{}", caller.uid) : caller.user;
  LineResult r = run_line(line, model, next, registry_, this, access);
  std::string_view content = trim(line);
  const bool accounted = !r.is_show && !content.empty() && content.front() != '!';
  if (r.ok && !(model == model_)) {
    if (auto c = commit(std::move(model), registry_); !c) {
      r.ok = false;
      r.failure = {c.error().message, -1};
    }
  }
  if (accounted) account(caller, std::string(content), r.ok ? std::string() : r.failure.message);
  if (!r.ok) return {false, {}, std::move(r.failure)};
  session = std::move(next);
  return {true, std::move(r.output), {}};
}

Result<uint32_t> Supervisor::attach(const AttachRequest& req, const Caller& caller) {
  const std::string what = fmt::format("attach vf {} port-profile {} vm {}", req.vf, req.profile,
                                       req.vm.empty() ? req.vm_uuid : req.vm);
  Result<Role> role = authorize(caller);
  if (role && *role == Role::network_operator)
    role = make_error(EACCES,
                      "Permission denied: user {} has role network-operator, which may "
                      "not attach VFs",
                      caller.user);
  Result<uint32_t> r = role ? attach(req) : Result<uint32_t>(role.error());
  std::lock_guard<std::mutex> g(mu_);
  account(caller, what, r ? std::string() : r.error().message);
  return r;
}

Result<void> Supervisor::detach(int vf, const Caller& caller) {
  Result<Role> role = authorize(caller);
  if (role && *role == Role::network_operator)
    role = make_error(EACCES,
                      "Permission denied: user {} has role network-operator, which may "
                      "not detach VFs",
                      caller.user);
  Result<void> r = role ? detach(vf) : Result<void>(role.error());
  std::lock_guard<std::mutex> g(mu_);
  account(caller, fmt::format("detach vf {}", vf), r ? std::string() : r.error().message);
  return r;
}

std::vector<AccountingRecord> Supervisor::accounting_records() const {
  std::lock_guard<std::mutex> g(mu_);
  return accounting_.records();
}

Result<uint32_t> Supervisor::attach(const AttachRequest& req) {
  std::lock_guard<std::mutex> g(mu_);
  const int vfs = dataplane_.vf_count();
  if (req.vf < 0 || req.vf >= vfs)
    return make_error(ERANGE, "VF {} is out of range: this host has {} VFs (0..{})", req.vf, vfs,
                      vfs - 1);
  if (req.profile.empty())
    return make_error(EINVAL, "attach of VF {} names no port-profile", req.vf);
  auto prof = model_.profiles.find(req.profile);
  if (prof == model_.profiles.end())
    return make_error(ENOENT, "port-profile {} does not exist", req.profile);
  if (!prof->second.state_enabled)
    return make_error(EPERM,
                      "port-profile {} is not enabled (configure 'state enabled' in it first)",
                      req.profile);
  if (req.vm.empty() && req.vm_uuid.empty())
    return make_error(EINVAL, "attach of VF {} names neither a VM nor a VM UUID", req.vf);
  if (auto c = check_vm_field("VM name", req.vm); !c) return c.error();
  if (auto c = check_vm_field("VM UUID", req.vm_uuid); !c) return c.error();
  std::string mac;
  if (!req.mac.empty()) {
    auto m = normalize_mac(req.mac);
    if (!m) return make_error(EINVAL, "MAC '{}' is not of the form xx:xx:xx:xx:xx:xx", req.mac);
    mac = *m;
  }

  const std::string key = vnic_key(req.vm, req.vm_uuid, mac, req.vf);
  VethRegistry registry = registry_;
  SwitchModel model = model_;
  if (const VethRecord* other = registry.find_by_vf(req.vf); other && other->key != key)
    return make_error(EBUSY, "VF {} is already bound to Vethernet{} (VM {}); detach it first",
                      req.vf, other->number, other->vm.empty() ? other->vm_uuid : other->vm);

  VethRecord rec;
  if (const VethRecord* known = registry.find_by_key(key)) {
    rec = *known;
  } else {
    auto n = registry.free_number(model);
    if (!n) return make_error(ENOSPC, "no free vEthernet number for VF {}", req.vf);
    rec.number = *n;
    rec.key = key;
  }
  // A vNIC already bound to this profile (a repeated attach) does not count twice.
  if (auto full = check_max_ports(model, registry, req.profile, rec.number); !full)
    return make_error(EBUSY, "attach of VF {} refused: {}", req.vf, full.error().message);
  rec.vm = req.vm;
  rec.vm_uuid = req.vm_uuid;
  rec.mac = mac;
  rec.vf = req.vf;
  registry.put(rec);
  VethInterface& itf = model.interfaces[rec.number];
  itf.number = rec.number;
  itf.profile = req.profile;

  if (auto c = commit(std::move(model), std::move(registry)); !c) return c.error();
  log::info("vsm", "Vethernet{} attached: VF {}, VM {}, port-profile {}", rec.number, req.vf,
            req.vm.empty() ? req.vm_uuid : req.vm, req.profile);
  return rec.number;
}

Result<void> Supervisor::detach(int vf) {
  std::lock_guard<std::mutex> g(mu_);
  const VethRecord* bound = registry_.find_by_vf(vf);
  if (!bound) return make_error(ENOENT, "VF {} is not attached to any vEthernet", vf);
  VethRegistry registry = registry_;
  VethRecord rec = *bound;
  rec.vf = -1;
  registry.put(rec);
  if (auto c = commit(model_, std::move(registry)); !c) return c;
  log::info("vsm", "Vethernet{} detached from VF {}", rec.number, vf);
  return ok();
}

nlohmann::json Supervisor::rules_json() const {
  std::lock_guard<std::mutex> g(mu_);
  nlohmann::json rules = dataplane_.rules_json();
  if (!rules.is_array()) return rules;
  for (auto& r : rules) {
    if (!r.is_object() || r.contains("vm") || !r.contains("veth") || !r["veth"].is_number_integer())
      continue;
    int64_t n = r["veth"].get<int64_t>();
    if (n < 1 || n > kMaxVeth) continue;
    if (const VethRecord* rec = registry_.find(static_cast<uint32_t>(n)))
      r["vm"] = rec->vm.empty() ? rec->vm_uuid : rec->vm;
  }
  return rules;
}

nlohmann::json Supervisor::counters_json() const {
  std::lock_guard<std::mutex> g(mu_);
  return dataplane_.counters_json();
}

std::string Supervisor::running_config() const {
  std::lock_guard<std::mutex> g(mu_);
  return render_running_config(model_);
}

SwitchModel Supervisor::model() const {
  std::lock_guard<std::mutex> g(mu_);
  return model_;
}

VethRegistry Supervisor::registry() const {
  std::lock_guard<std::mutex> g(mu_);
  return registry_;
}

int Supervisor::vf_count() const { return dataplane_.vf_count(); }
nlohmann::json Supervisor::counters() const { return dataplane_.counters_json(); }

Result<void> Supervisor::save_startup_config(const std::string& text) {
  if (auto d = create_directories(parent_dir(startup_path_), "directory"); !d) return d;
  return write_file_atomically(startup_path_, text);
}

Result<void> Supervisor::commit(SwitchModel model, VethRegistry registry) {
  if (state_dir_.empty()) return make_error(EINVAL, "the supervisor has no state directory");
  DataplaneConfig cfg = resolve_dataplane_config(model, registry);
  const bool dp_changed = !applied_once_ || !same_dataplane_config(cfg, applied_);
  if (dp_changed) {
    if (auto a = dataplane_.apply(cfg); !a)
      return make_error(a.error().code, "the datapath refused the change: {}", a.error().message);
  }
  std::string text = registry.to_json(model);
  if (text != persisted_) {
    auto w = create_directories(state_dir_, "state directory");
    if (w) w = write_file_atomically(registry_path_, text);
    if (!w) {
      if (dp_changed && applied_once_) {
        if (auto undo = dataplane_.apply(applied_); !undo)
          log::error("vsm", "cannot restore the previous datapath configuration: {}",
                     undo.error().message);
      }
      return make_error(w.error().code, "cannot save the vEthernet registry: {}",
                        w.error().message);
    }
    persisted_ = std::move(text);
  }
  model_ = std::move(model);
  registry_ = std::move(registry);
  applied_ = std::move(cfg);
  applied_once_ = true;
  return ok();
}

}  // namespace vfs::vsm
