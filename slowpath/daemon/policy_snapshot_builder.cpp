#include "slowpath/daemon/policy_snapshot_builder.h"

#include <algorithm>

#include "offload/policy_eval.h"

namespace vfs::daemon {

Result<offload::PolicySnapshot> build_policy_snapshot(const std::vector<drivers::PortInfo>& ports,
                                                      const vsm::DataplaneConfig& cfg,
                                                      uint64_t generation) {
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
    if (it == ports.end())
      return make_error(ENODEV, "vEthernet{}: VF {} does not exist on this host", v.number, v.vf);
    auto& pp = s.ports[it->ethdev_port];
    if (pp.bound) return make_error(EBUSY, "vEthernet{}: VF {} is bound twice", v.number, v.vf);
    pp.bound = true;
    pp.veth = v.number;
    pp.forwarding = v.forwarding;
    pp.access_vlan = v.mode == vsm::SwitchportMode::access ? v.access_vlan : 0;
    pp.label = fmt::format("vEthernet{} ({})", v.number, v.vm);
    pp.cfg = v;
  }
  // DHCP snooping trusts the uplink: its server replies go to the slow path while any
  // vEthernet snoops.
  const bool snooping =
      std::any_of(cfg.veths.begin(), cfg.veths.end(),
                  [](const vsm::ResolvedVeth& v) { return offload::snoops_dhcp(v); });
  for (auto& pp : s.ports)
    if (pp.kind == offload::PortKind::uplink) pp.traps_dhcp_replies = snooping;
  // Local SPAN: a session's copies go to its destination's port.
  auto port_of = [&](uint32_t veth) -> int {
    for (size_t i = 0; i < s.ports.size(); ++i)
      if (s.ports[i].bound && s.ports[i].kind == offload::PortKind::vf && s.ports[i].veth == veth)
        return static_cast<int>(i);
    return -1;
  };
  for (const auto& ms : cfg.monitor_sessions) {
    if (ms.shut || !ms.destination) continue;
    const int dst = port_of(*ms.destination);
    if (dst < 0) continue;  // destination not bound here: nothing to copy to
    for (uint32_t src : ms.rx_sources)
      if (int p = port_of(src); p >= 0 && p != dst)
        s.ports[p].mirror_rx.push_back(static_cast<uint16_t>(dst));
    for (uint32_t src : ms.tx_sources)
      if (int p = port_of(src); p >= 0 && p != dst)
        s.ports[p].mirror_tx.push_back(static_cast<uint16_t>(dst));
  }
  return s;
}

}  // namespace vfs::daemon
