#include "slowpath/daemon/policy_snapshot_builder.h"

#include <algorithm>

namespace vfs::daemon {

Result<offload::PolicySnapshot> build_policy_snapshot(const std::vector<drivers::PortInfo>& ports,
                                                      const vsm::DataplaneConfig& cfg, uint64_t generation) {
  offload::PolicySnapshot s;
  s.generation = generation;
  for (uint16_t v : cfg.vlans) {
    if (v == 0 || v >= 4095) return make_error(EINVAL, "VLAN {} is out of range 1-4094", v);
    s.vlans.set(v);
  }
  size_t max_port = 0;
  for (const auto& p : ports) max_port = std::max<size_t>(max_port, p.ethdev_port + 1);
  s.ports.resize(max_port);
  for (const auto& p : ports) {
    auto& pp = s.ports[p.ethdev_port];
    if (p.role == drivers::PortRole::uplink) {
      pp.kind = offload::PortKind::uplink;
      pp.bound = true;
      pp.forwarding = true;
      pp.label = "uplink";
    } else {
      pp.kind = offload::PortKind::vf;
      pp.label = fmt::format("VF {} (unbound)", p.vf_index);
    }
  }
  for (const auto& v : cfg.veths) {
    auto it = std::find_if(ports.begin(), ports.end(), [&](const auto& p) {
      return p.role == drivers::PortRole::vf && p.vf_index == v.vf;
    });
    if (it == ports.end()) return make_error(ENODEV, "vEthernet{}: VF {} does not exist on this host", v.number, v.vf);
    auto& pp = s.ports[it->ethdev_port];
    if (pp.bound) return make_error(EBUSY, "vEthernet{}: VF {} is bound twice", v.number, v.vf);
    pp.bound = true;
    pp.veth = v.number;
    pp.forwarding = v.forwarding && v.mode == vsm::SwitchportMode::access;
    pp.access_vlan = v.access_vlan;
    pp.label = fmt::format("vEthernet{} ({})", v.number, v.vm);
  }
  return s;
}

}  // namespace vfs::daemon
