// drivers/sim/sim_vf_admin.h owns the sim's VfAdmin (drivers/vf_admin.h): the same knobs
// a PF driver offers, applied to the sim's VF ports (drivers/sim/sim_vf_ports.h) under the
// mutex the sim's datapath takes per burst, so that a setting holds from the next burst
// on. The sim's eSwitch is always in switchdev mode.
#pragma once

#include <mutex>
#include <string>

#include "drivers/sim/sim_vf_ports.h"
#include "drivers/vf_admin.h"

namespace vfs::drivers::sim {

class SimVfAdmin final : public VfAdmin {
 public:
  // who names the sim in messages ("sim vfs").
  SimVfAdmin(std::string who, std::mutex& mu, VfPorts& ports)
      : who_(std::move(who)), mu_(mu), ports_(ports) {}

  std::string_view name() const override { return who_; }
  Result<int> vf_count() override { return ports_.count(); }
  Result<void> set_mac(int vf, const VfMac& mac) override;
  Result<void> set_vlan(int vf, const VfVlan& vlan) override;
  Result<void> set_rate(int vf, const VfRate& rate) override;
  Result<void> set_spoofchk(int vf, bool on) override;
  Result<void> set_trust(int vf, bool on) override;
  Result<void> set_link_state(int vf, VfLinkState state) override;
  Result<VfInfo> vf_info(int vf) override;
  Result<std::vector<VfInfo>> vf_infos() override;
  Result<EswitchMode> eswitch_mode() override { return EswitchMode::switchdev; }
  // EOPNOTSUPP for legacy: the sim is a switchdev NIC only.
  Result<void> set_eswitch_mode(EswitchMode mode) override;

 private:
  std::string who_;
  std::mutex& mu_;
  VfPorts& ports_;
};

}  // namespace vfs::drivers::sim
