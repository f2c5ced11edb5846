#include "drivers/sim/sim_vf_admin.h"

namespace vfs::drivers::sim {

Result<void> SimVfAdmin::set_mac(int vf, const VfMac& mac) {
  if (auto r = check_vf_index(who_, vf, ports_.count()); !r) return r;
  if (auto r = check_vf_mac(who_, vf, mac); !r) return r;
  std::lock_guard<std::mutex> g(mu_);
  ports_.set_mac(vf, mac);
  return ok();
}

Result<void> SimVfAdmin::set_vlan(int vf, const VfVlan& vlan) {
  if (auto r = check_vf_index(who_, vf, ports_.count()); !r) return r;
  if (auto r = check_vf_vlan(who_, vf, vlan); !r) return r;
  std::lock_guard<std::mutex> g(mu_);
  ports_.set_vlan(vf, vlan);
  return ok();
}

Result<void> SimVfAdmin::set_rate(int vf, const VfRate& rate) {
  if (auto r = check_vf_index(who_, vf, ports_.count()); !r) return r;
  if (auto r = check_vf_rate(who_, vf, rate); !r) return r;
  std::lock_guard<std::mutex> g(mu_);
  ports_.set_rate(vf, rate);
  return ok();
}

Result<void> SimVfAdmin::set_spoofchk(int vf, bool on) {
  if (auto r = check_vf_index(who_, vf, ports_.count()); !r) return r;
  std::lock_guard<std::mutex> g(mu_);
  ports_.set_spoofchk(vf, on);
  return ok();
}

Result<void> SimVfAdmin::set_trust(int vf, bool on) {
  if (auto r = check_vf_index(who_, vf, ports_.count()); !r) return r;
  std::lock_guard<std::mutex> g(mu_);
  ports_.set_trust(vf, on);
  return ok();
}

Result<void> SimVfAdmin::set_link_state(int vf, VfLinkState state) {
  if (auto r = check_vf_index(who_, vf, ports_.count()); !r) return r;
  if (state != VfLinkState::automatic && state != VfLinkState::enable &&
      state != VfLinkState::disable)
    return make_error(EINVAL, "{} VF {}: link state {} is not auto, enable or disable", who_, vf,
                      static_cast<int>(state));
  std::lock_guard<std::mutex> g(mu_);
  ports_.set_link_state(vf, state);
  return ok();
}

Result<VfInfo> SimVfAdmin::vf_info(int vf) {
  if (auto r = check_vf_index(who_, vf, ports_.count()); !r) return r.error();
  std::lock_guard<std::mutex> g(mu_);
  return ports_.info(vf);
}

Result<std::vector<VfInfo>> SimVfAdmin::vf_infos() {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<VfInfo> out;
  for (int vf = 0; vf < ports_.count(); ++vf) out.push_back(ports_.info(vf));
  return out;
}

Result<void> SimVfAdmin::set_eswitch_mode(EswitchMode mode) {
  if (mode == EswitchMode::switchdev) return ok();
  return make_error(EOPNOTSUPP, "{}: eSwitch mode {} not supported (the sim is switchdev only)",
                    who_, to_string(mode));
}

}  // namespace vfs::drivers::sim
