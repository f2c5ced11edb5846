#include "vsm/dataplane_config.h"

#include <tuple>

#include <fmt/core.h>

namespace vfs::vsm {

ResolvedVeth resolve_veth(const SwitchModel& model, const VethRecord& record) {
  ResolvedVeth v;
  v.number = record.number;
  v.vf = record.vf;
  v.vm = record.vm;
  v.vm_uuid = record.vm_uuid;
  v.mac = record.mac;
  auto itf = model.interfaces.find(record.number);
  if (itf == model.interfaces.end() || itf->second.profile.empty()) {
    v.reason = "no port-profile inherited";
    return v;
  }
  v.profile = itf->second.profile;
  auto prof = model.profiles.find(v.profile);
  if (prof == model.profiles.end()) {
    v.reason = fmt::format("port-profile {} does not exist", v.profile);
    return v;
  }
  const PortProfile& p = prof->second;
  v.mode = p.mode;
  v.access_vlan = p.access_vlan;
  if (!p.state_enabled) {
    v.reason = fmt::format("port-profile {} is not enabled", p.name);
  } else if (p.shutdown) {
    v.reason = fmt::format("port-profile {} is shut down", p.name);
  } else if (itf->second.shutdown) {
    v.reason = fmt::format("Vethernet{} is shut down", record.number);
  } else if (!model.vlans.contains(p.access_vlan)) {
    v.reason =
        fmt::format("access VLAN {} of port-profile {} is not defined", p.access_vlan, p.name);
  } else {
    v.forwarding = true;
  }
  return v;
}

DataplaneConfig resolve_dataplane_config(const SwitchModel& model, const VethRegistry& registry) {
  DataplaneConfig cfg;
  for (const auto& [id, vlan] : model.vlans) cfg.vlans.push_back(id);
  for (const auto& [n, r] : registry.records()) {
    if (r.vf >= 0) cfg.veths.push_back(resolve_veth(model, r));
  }
  return cfg;
}

namespace {
// Every field of ResolvedVeth: extend together with the struct.
auto fields(const ResolvedVeth& v) {
  return std::tie(v.number, v.vf, v.vm, v.vm_uuid, v.mac, v.profile, v.mode, v.access_vlan,
                  v.forwarding, v.reason);
}
}  // namespace

bool same_dataplane_config(const DataplaneConfig& a, const DataplaneConfig& b) {
  if (a.vlans != b.vlans || a.veths.size() != b.veths.size()) return false;
  for (size_t i = 0; i < a.veths.size(); ++i) {
    if (fields(a.veths[i]) != fields(b.veths[i])) return false;
  }
  return true;
}

}  // namespace vfs::vsm
