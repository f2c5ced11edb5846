// drivers/sim/sim_vf_ports.h owns what the sim's VF ports enforce, as a PF driver does
// with the knobs `ip link set PF vf N ...` sets (drivers/vf_admin.h): per VF a MAC, a port
// VLAN (tag pushed on what the VF sends, required and stripped on what it receives), a
// max tx rate (srTCM with DPDK's rte_meter on an injected clock), spoof checking, trust,
// a link state, and the VF's counters. The datapath asks it about every frame that leaves
// or reaches a VF wire.
//
// Not thread-safe: the sim eSwitch calls it under the mutex its datapath holds per burst.
//
// Semantics chosen where drivers differ (docs/sim.md):
// - spoofchk checks the source MAC only once a MAC is set (a VF without one picks its own);
//   it is off by default.
// - with a port VLAN, a frame the VF sends already tagged is dropped; a frame to the VF
//   must carry the port VLAN (TPID and VID) as its outer tag, which is removed.
// - min rate and trust are kept and reported, not enforced.
// - link state disable drops both ways; auto follows the sim's uplink, which is always up.
#pragma once

#include <cstdint>
#include <vector>

#include <rte_meter.h>

#include "base/clock.h"
#include "drivers/sim/sim_flow_table.h"
#include "drivers/sim/sim_stats.h"
#include "drivers/vf_admin.h"

namespace vfs::drivers::sim {

class VfPorts {
 public:
  VfPorts(int count, const Clock& clock);

  int count() const { return static_cast<int>(vfs_.size()); }

  // Settings; the caller has checked the index and values (drivers/vf_admin.h).
  void set_mac(int vf, const VfMac& mac) { at(vf).mac = mac; }
  void set_vlan(int vf, const VfVlan& vlan) { at(vf).vlan = vlan; }
  void set_rate(int vf, const VfRate& rate);
  void set_spoofchk(int vf, bool on) { at(vf).spoofchk = on; }
  void set_trust(int vf, bool on) { at(vf).trust = on; }
  void set_link_state(int vf, VfLinkState s) { at(vf).link = s; }
  VfInfo info(int vf) const;

  // A frame VF `vf` sent, before the eSwitch classifies it: counts it and answers
  // SimCounter::count_ if it goes on (pkt may have gained the port VLAN tag in front),
  // else the drop reason.
  SimCounter from_vf(int vf, PacketBuffer& pkt);
  // A frame about to be written to VF `vf`'s wire: answers count_ if it may go (pkt may
  // have lost the port VLAN tag), else the drop reason (counted as rx_dropped).
  SimCounter to_vf(int vf, PacketBuffer& pkt);
  // The outcome of writing a frame that to_vf() let through.
  enum class Cast : uint8_t { unicast, multicast, broadcast };
  static Cast cast_of(const uint8_t* frame, uint32_t len);
  void delivered(int vf, uint32_t len, Cast cast);
  void lost(int vf) { ++at(vf).stats.rx_dropped; }

  // The burst the rate limiter allows above the rate: 10 ms of it, at least 16 KiB.
  static uint64_t rate_burst_bytes(uint64_t bytes_per_second);

 private:
  struct Vf {
    VfMac mac{};
    VfVlan vlan;
    VfRate rate;
    bool spoofchk = false;
    bool trust = false;
    VfLinkState link = VfLinkState::automatic;
    VfStats stats;
    rte_meter_srtcm_profile rate_profile{};
    rte_meter_srtcm rate_state{};
  };
  Vf& at(int vf) { return vfs_[static_cast<size_t>(vf)]; }
  const Vf& at(int vf) const { return vfs_[static_cast<size_t>(vf)]; }

  const Clock& clock_;
  std::vector<Vf> vfs_;
};

}  // namespace vfs::drivers::sim
