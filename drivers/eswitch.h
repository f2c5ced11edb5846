// drivers/eswitch.h owns the seam that `vfswitchd --driver NAME` selects: an embedded
// switch in switchdev mode, seen as a set of representor ports (DPDK ethdevs the slow
// path polls with rte_eth_rx_burst / rte_eth_tx_burst) plus the FlowBackend that installs
// transfer rules between them. Implementations: drivers/sim (software eSwitch) and
// drivers/rte_flow (a real NIC). Nothing above drivers/ knows which one is loaded.
//
// Threading: open/start/stop from the daemon's main thread; ports() is immutable after
// start; flows() follows drivers/flow_backend.h.
#pragma once

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_mempool.h>

#include "base/result.h"
#include "drivers/flow_backend.h"
#include "drivers/rx_wakeup.h"

namespace vfs::drivers {

class VfAdmin;  // drivers/vf_admin.h

enum class PortRole { uplink, vf };

struct PortInfo {
  uint16_t ethdev_port = 0;  // representor ethdev; rules name the VF by this id
  PortRole role = PortRole::vf;
  int vf_index = -1;  // -1 for the uplink
  std::string name;   // representor name, for logs
  std::string wire;   // VM-facing device (sim: "<sim-name>vf<i>"), empty if none
};

class ESwitch {
 public:
  virtual ~ESwitch() = default;
  virtual std::string_view driver_name() const = 0;
  // Representors, uplink first, then VFs by index. Stable after start().
  virtual const std::vector<PortInfo>& ports() const = 0;
  virtual FlowBackend& flows() = 0;
  // Starts the representor ethdevs (and, for the sim, its datapath thread).
  virtual Result<void> start() = 0;
  virtual void stop() = 0;
  // The doorbell rung when an exception packet reaches a representor, or nullptr if the
  // driver has none (the slow path then polls with a timed back-off).
  virtual RxWakeup* rx_wakeup() { return nullptr; }
  // The VF knobs of this eSwitch's PF (drivers/vf_admin.h), owned by the ESwitch, or
  // nullptr if the driver has none.
  virtual VfAdmin* vf_admin() { return nullptr; }
  // Whether flows() polices with meters (FlowBackend's meter members). Without them the
  // daemon also limits a policed VF through its max tx rate (VfAdmin). The default, false,
  // errs on the side of enforcing twice.
  virtual bool has_meters() const { return false; }
};

inline constexpr int kSimAllVfs = -1;

// Options common to the drivers; each reads the ones it needs.
struct ESwitchOptions {
  // sim
  int sim_vfs = 4;
  std::string sim_name = "vfs";
  uint32_t sim_capacity = 65536;  // rules; ENOSPC past it
  // Item/action names (rte_flow spelling, e.g. "IPV6", "OF_PUSH_VLAN") the sim refuses
  // with ENOTSUP, to play a NIC with a smaller feature set.
  std::vector<std::string> sim_unsupported;
  uint32_t sim_insert_latency_us = 0;  // added to every create(), like a slow firmware
  double sim_fail_rate = 0;            // share of create() calls refused with sim_fail_errno
  int sim_fail_errno = EBUSY;
  // VFs whose wire is a tap device named "<sim_name>vf<i>" (for a QEMU guest:
  // <interface type='ethernet'><target dev='NAME' managed='no'/>) instead of a veth pair;
  // kSimAllVfs alone = every VF. parse_sim_tap_vfs() (drivers/sim/sim_eswitch.h) reads the
  // "0,2,5" / "all" form.
  std::vector<int> sim_tap_vfs;
  // rte_flow
  std::string pci;  // PF PCI address, for diagnostics
  // shared
  rte_mempool* pool = nullptr;  // mbufs for the representors
};

// Opens the driver by name ("sim", "rte_flow"). EAL must be initialised. Defined by the
// composition root (slowpath/daemon/driver_table.cpp), which lists the drivers, the way
// OVS keeps its table of dpif providers; each driver exposes only its factory.
Result<std::unique_ptr<ESwitch>> open_eswitch(const std::string& driver, const ESwitchOptions& opt);

}  // namespace vfs::drivers
