// drivers/vf_admin.h owns the VF administration seam: the per-VF knobs a PF exposes to
// the host (what `ip link set PF vf N mac|vlan|min_tx_rate|max_tx_rate|spoofchk|trust|
// state ...` sets and `ip -s link show PF` reads: IFLA_VF_*) and the mode of the PF's
// embedded switch (`devlink dev eswitch set|show`). The daemon applies there the profile
// settings that map onto VF knobs (MAC and spoofchk from port security, max rate from a
// police action on a NIC without meters). Implementations: drivers/netlink (libnl3 on
// the PF: rtnetlink RTM_NEWLINK/RTM_GETLINK, devlink over generic netlink) and the sim,
// which enforces the same knobs in its software eSwitch.
//
// Contract, for every member:
// - Synchronous: when a setter returns ok the PF driver has applied the setting; setters
//   are idempotent (setting what is already set succeeds).
// - Threading: one caller at a time (the daemon's control plane); never on the datapath.
// - Bad input changes nothing: the VF index and values are checked (check_vf_* below,
//   shared by every implementation) before anything reaches the NIC. ERANGE = VF index
//   out of range, EINVAL = a value out of range.
// - Errors name the PF and the VF and keep the driver's words: the errno the kernel (or
//   the sim) answered and its extended-ack message. EOPNOTSUPP means the PF driver lacks
//   that knob: the caller keeps the setting in software (the slow path already enforces
//   port security and policing) and records why.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vfs::drivers {

using VfMac = std::array<uint8_t, 6>;

enum class VlanProto : uint16_t { dot1q = 0x8100, dot1ad = 0x88a8 };

// The VLAN the PF tags the VF's traffic with (the VF sees untagged frames). vid 0 and
// qos 0 = no VLAN.
struct VfVlan {
  uint16_t vid = 0;  // 0..4095
  uint8_t qos = 0;   // 802.1p priority, 0..7
  VlanProto proto = VlanProto::dot1q;
  bool operator==(const VfVlan&) const = default;
};

// Transmit rate limits in Mbit/s; 0 = none. When both are set, min <= max.
struct VfRate {
  uint32_t min_mbps = 0;
  uint32_t max_mbps = 0;
  bool operator==(const VfRate&) const = default;
};

enum class VfLinkState { automatic, enable, disable };  // follow the PF / always up / down
enum class EswitchMode { legacy, switchdev };

struct VfStats {
  uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0;
  uint64_t broadcast = 0, multicast = 0, rx_dropped = 0, tx_dropped = 0;
  bool operator==(const VfStats&) const = default;
};

// One VF as the PF reports it. A knob the PF driver does not report is nullopt.
struct VfInfo {
  int vf = -1;
  VfMac mac{};
  VfVlan vlan;
  VfRate rate;
  std::optional<bool> spoofchk;
  std::optional<bool> trust;
  std::optional<VfLinkState> link_state;
  std::optional<VfStats> stats;
  bool operator==(const VfInfo&) const = default;
};

class VfAdmin {
 public:
  virtual ~VfAdmin() = default;

  // Names the PF in messages ("PF ens1f0", "sim vfs").
  virtual std::string_view name() const = 0;
  // VFs the PF has now (sriov_numvfs); indexes are 0..count-1.
  virtual Result<int> vf_count() = 0;

  virtual Result<void> set_mac(int vf, const VfMac& mac) = 0;
  virtual Result<void> set_vlan(int vf, const VfVlan& vlan) = 0;
  virtual Result<void> set_rate(int vf, const VfRate& rate) = 0;
  virtual Result<void> set_spoofchk(int vf, bool on) = 0;
  virtual Result<void> set_trust(int vf, bool on) = 0;
  virtual Result<void> set_link_state(int vf, VfLinkState state) = 0;

  // ENOENT when the PF does not report that VF.
  virtual Result<VfInfo> vf_info(int vf) = 0;
  // Every VF, by index.
  virtual Result<std::vector<VfInfo>> vf_infos() = 0;

  // ENODEV / EOPNOTSUPP when the PF has no devlink instance or no eSwitch mode.
  virtual Result<EswitchMode> eswitch_mode() = 0;
  // Changing the mode re-creates the representors: only with no VM attached.
  virtual Result<void> set_eswitch_mode(EswitchMode mode) = 0;
};

// Checks shared by the implementations, so that every driver refuses the same input
// with the same words. `who` names the PF ("PF ens1f0").
Result<void> check_vf_index(std::string_view who, int vf, int vf_count);
Result<void> check_vf_vlan(std::string_view who, int vf, const VfVlan& vlan);
Result<void> check_vf_rate(std::string_view who, int vf, const VfRate& rate);
// Refuses multicast and all-zero addresses (a VF MAC is a unicast station address).
Result<void> check_vf_mac(std::string_view who, int vf, const VfMac& mac);

std::string format_mac(const VfMac& mac);            // "02:00:00:00:00:01"
std::optional<VfMac> parse_mac(std::string_view s);  // xx:xx:xx:xx:xx:xx, hex either case
const char* to_string(VlanProto p);                  // "802.1Q", "802.1ad"
const char* to_string(VfLinkState s);                // "auto", "enable", "disable"
const char* to_string(EswitchMode m);                // "legacy", "switchdev"
std::optional<EswitchMode> parse_eswitch_mode(std::string_view s);

}  // namespace vfs::drivers
