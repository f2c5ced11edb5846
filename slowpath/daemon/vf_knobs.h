// slowpath/daemon/vf_knobs.h owns the VF knobs a vEthernet's profile implies and keeping
// the PF's VFs in line with them through drivers::VfAdmin: MAC and spoof checking from
// port security, link state from whether the vEthernet forwards, max tx rate from the
// input policer when the eSwitch has no meters. It remembers what it last set per VF, so
// an unchanged configuration makes no call to the PF.
//
// These knobs are a second line: the slow path and the eSwitch rules already enforce port
// security, policing and fail-closed ports. docs/architecture.md ("VF knobs") says when a
// failure refuses the change and when it is only logged.
//
// Threading: one caller at a time (ESwitchDataplane::apply, under its mutex).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "drivers/vf_admin.h"
#include "vsm/dataplane.h"

namespace vfs::daemon {

// What one VF should carry. A VF no vEthernet uses gets the defaults: no spoof checking,
// no rate limit, link following the PF; its MAC is left as it is (not every PF driver
// lets a VF MAC be cleared).
struct VfKnobSettings {
  std::optional<drivers::VfMac> mac;  // nullopt: no MAC known, left as it is
  bool spoofchk = false;
  drivers::VfLinkState link = drivers::VfLinkState::automatic;
  uint32_t max_mbps = 0;  // 0 = no limit
  bool operator==(const VfKnobSettings&) const = default;
};

// A police rate in bytes/s as Mbit/s, rounded up (a VF limit must never be below the
// configured rate); saturates at UINT32_MAX.
uint32_t police_rate_mbps(uint64_t cir_bytes_per_s);

// The knobs vEthernet `v` implies. MAC: the first static port-security MAC, else the vNIC
// MAC given at attach. Spoof checking only with port security and a MAC to check against.
// Link disabled when the vEthernet forwards nothing. Max rate from police_in only when
// the eSwitch has no meters (with meters the rules police).
VfKnobSettings vf_knobs_for(const vsm::ResolvedVeth& v, bool eswitch_has_meters);

class VfKnobs {
 public:
  // vfs: the VF indexes this eSwitch has (its VF representors). Until a VF has been set
  // once, its knobs are unknown: the first apply sets each of them.
  VfKnobs(drivers::VfAdmin& admin, bool eswitch_has_meters, const std::vector<int>& vfs);

  // Sets the knobs of every VF in `veths` that differ from what was last set. Stops at the
  // first failure and returns it, naming the vEthernet and the VF and keeping the PF's
  // errno and words. EOPNOTSUPP is not a failure: the PF lacks that knob, the setting
  // stays in software (logged once per change).
  Result<void> apply_bound(const std::vector<vsm::ResolvedVeth>& veths);
  // Puts every VF not in `veths` back to the unbound defaults (those set since the last
  // reset, and on the first call every VF). Failures are logged and counted: such a VF is
  // unbound, so the slow path forwards nothing of it whatever its knobs say.
  void reset_unbound(const std::vector<vsm::ResolvedVeth>& veths);

  // Knob settings the PF refused (other than EOPNOTSUPP) since start.
  uint64_t failures() const { return failures_; }

 private:
  // What the VF carries as far as we know; nullopt = unknown (never set, or the last
  // attempt failed).
  struct Known {
    std::optional<drivers::VfMac> mac;
    std::optional<bool> spoofchk;
    std::optional<drivers::VfLinkState> link;
    std::optional<uint32_t> max_mbps;
  };
  Result<void> converge(int vf, const std::string& who, const VfKnobSettings& want);

  drivers::VfAdmin& admin_;
  bool has_meters_;
  std::map<int, Known> known_;  // by VF index
  uint64_t failures_ = 0;
};

}  // namespace vfs::daemon
