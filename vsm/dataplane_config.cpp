#include "vsm/dataplane_config.h"

#include <optional>
#include <tuple>

#include <fmt/core.h>

#include "vsm/acl.h"

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
  // Filters: one that cannot be resolved closes the port rather than forward unfiltered.
  struct Slot {
    AclFamily family;
    const std::string& name;
    std::optional<ResolvedAcl>& out;
    const char* what;
  };
  for (const Slot& s : {Slot{AclFamily::ipv4, p.ip_acl_in, v.ip_acl_in, "in"},
                        Slot{AclFamily::ipv4, p.ip_acl_out, v.ip_acl_out, "out"},
                        Slot{AclFamily::ipv6, p.ipv6_acl_in, v.ipv6_acl_in, "in"},
                        Slot{AclFamily::ipv6, p.ipv6_acl_out, v.ipv6_acl_out, "out"}}) {
    if (s.name.empty()) continue;
    const auto& acls = model.acls(s.family);
    auto a = acls.find(s.name);
    if (a == acls.end()) {
      if (v.forwarding)
        v.reason = fmt::format("{} access-list {} ({}) of port-profile {} does not exist",
                               acl_family_keyword(s.family), s.name, s.what, p.name);
      v.forwarding = false;
      continue;
    }
    s.out = resolve_acl(a->second);
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
// The fields of the resolved structs the supervisor fills: extend together with them.
auto fields(const PortMatch& p) { return std::tie(p.op, p.lo, p.hi); }
auto fields(const AddressMatch& m) { return std::tie(m.addr, m.mask); }

bool same(const ResolvedAce& a, const ResolvedAce& b) {
  auto f = [](const ResolvedAce& e) {
    return std::tie(e.seq, e.permit, e.protocol, e.icmp_type, e.icmp_code, e.established, e.src_mac,
                    e.src_mac_mask, e.dst_mac, e.dst_mac_mask, e.ethertype);
  };
  return f(a) == f(b) && fields(a.src) == fields(b.src) && fields(a.dst) == fields(b.dst) &&
         fields(a.src_port) == fields(b.src_port) && fields(a.dst_port) == fields(b.dst_port);
}

bool same(const std::optional<ResolvedAcl>& a, const std::optional<ResolvedAcl>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  if (std::tie(a->name, a->family, a->statistics_per_entry) !=
          std::tie(b->name, b->family, b->statistics_per_entry) ||
      a->entries.size() != b->entries.size())
    return false;
  for (size_t i = 0; i < a->entries.size(); ++i) {
    if (!same(a->entries[i], b->entries[i])) return false;
  }
  return true;
}

auto fields(const ResolvedVeth& v) {
  return std::tie(v.number, v.vf, v.vm, v.vm_uuid, v.mac, v.profile, v.mode, v.access_vlan,
                  v.forwarding, v.reason);
}

bool same(const ResolvedVeth& a, const ResolvedVeth& b) {
  return fields(a) == fields(b) && same(a.ip_acl_in, b.ip_acl_in) &&
         same(a.ip_acl_out, b.ip_acl_out) && same(a.ipv6_acl_in, b.ipv6_acl_in) &&
         same(a.ipv6_acl_out, b.ipv6_acl_out) && same(a.mac_acl_in, b.mac_acl_in) &&
         same(a.mac_acl_out, b.mac_acl_out);
}
}  // namespace

bool same_dataplane_config(const DataplaneConfig& a, const DataplaneConfig& b) {
  if (a.vlans != b.vlans || a.veths.size() != b.veths.size()) return false;
  for (size_t i = 0; i < a.veths.size(); ++i) {
    if (!same(a.veths[i], b.veths[i])) return false;
  }
  return true;
}

}  // namespace vfs::vsm
