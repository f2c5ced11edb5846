// drivers/rte_flow/switch_ports.h owns deciding which ethdevs make up the eSwitch: the
// uplink, and which VF each representor stands for. Reading the facts from DPDK is kept
// apart from the decision, which is pure, so that its rules are tested without a NIC.
//
// The PMD knowledge it relies on (checked against mlx5 in DPDK 22.11; other PMDs with
// switchdev representors follow the same ethdev API, but are untested):
// - every port of one eSwitch reports the same dev_info.switch_info.domain_id;
// - VF representors carry RTE_ETH_DEV_REPRESENTOR; the PF port (the uplink representor in
//   switchdev mode, mlx5's "master") does not;
// - rte_eth_representor_info_get's ranges map switch_info.port_id to a VF number; a PMD
//   without that call names its representors "..._representor_vf<N>" (mlx5 may insert
//   "c<C>pf<P>" before "vf"). A representor whose VF cannot be told either way is refused,
//   never guessed: a wrong guess would apply one VM's policy to another VM's traffic.
// - PF and SF representors (BlueField host PF, sub-functions) are not VMs' VFs: ignored.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "drivers/eswitch.h"

namespace vfs::drivers {

enum class RepresentorType { unknown, vf, sf, pf };

// What DPDK says about one ethdev.
struct EthdevFacts {
  uint16_t port = 0;
  std::string name;
  bool representor = false;     // RTE_ETH_DEV_REPRESENTOR
  uint16_t domain_id = 0xffff;  // switch_info.domain_id; 0xffff = not in a switch domain
  // From rte_eth_representor_info_get, when the PMD answers it.
  RepresentorType rep_type = RepresentorType::unknown;
  int rep_index = -1;  // VF (or SF) number
  int rep_pf = -1;     // PF the representor hangs off
};

// Every ethdev EAL made, in port order.
Result<std::vector<EthdevFacts>> read_ethdev_facts();

// The eSwitch's ports, uplink first then VFs by index, or an Error (ENODEV when hardware
// or configuration is missing) that says what to fix. pci (may be empty) is only quoted.
Result<std::vector<PortInfo>> choose_switch_ports(const std::vector<EthdevFacts>& devs,
                                                  const std::string& pci);

// The VF number at the end of a representor name ("..._representor_vf3", "...c0pf0vf3"),
// or -1.
int vf_index_from_name(const std::string& name);

}  // namespace vfs::drivers
