// slowpath/daemon/dry_run_dataplane.h owns the check vfswitchd makes before it touches
// anything: the state dir and startup-config are replayed into a supervisor whose
// dataplane only validates (VF indexes against the host's VF count), so that a bad file
// stops the start before a wire, an EAL or a socket is made.
#pragma once

#include "vsm/dataplane.h"

namespace vfs::daemon {

class DryRunDataplane final : public vsm::Dataplane {
 public:
  explicit DryRunDataplane(int vfs) : vfs_(vfs) {}
  Result<void> apply(const vsm::DataplaneConfig& cfg) override {
    for (const auto& v : cfg.veths)
      if (v.vf < 0 || v.vf >= vfs_)
        return make_error(ENODEV, "vEthernet{}: VF {} does not exist on this host ({} VFs)",
                          v.number, v.vf, vfs_);
    return ok();
  }
  int vf_count() const override { return vfs_; }
  nlohmann::json rules_json() const override { return nlohmann::json::array(); }
  nlohmann::json counters_json() const override { return nlohmann::json::object(); }

 private:
  int vfs_;
};

}  // namespace vfs::daemon
