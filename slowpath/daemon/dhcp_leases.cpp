#include "slowpath/daemon/dhcp_leases.h"

#include <algorithm>
#include <cstring>

#include <arpa/inet.h>
#include <fmt/core.h>

#include "offload/policy_eval.h"
#include "offload/rule_spec.h"

namespace vfs::daemon {

std::string ip4_str(const slowpath::Ip4& ip) {
  return fmt::format("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]);
}

namespace {

bool same_client(const DhcpLease& l, uint32_t veth, uint16_t vlan, const slowpath::MacBytes& mac) {
  return l.veth == veth && l.vlan == vlan && l.mac == mac;
}

template <class P>
std::vector<DhcpLease> take_if(std::vector<DhcpLease>& v, P pred) {
  std::vector<DhcpLease> out;
  auto it = std::stable_partition(v.begin(), v.end(), [&](const DhcpLease& l) { return !pred(l); });
  out.assign(it, v.end());
  v.erase(it, v.end());
  return out;
}

}  // namespace

DhcpLeases::Change DhcpLeases::fold(const slowpath::DhcpBindingEvent& ev, int64_t now_unix,
                                    std::vector<DhcpLease>* gone) {
  auto mine = [&](const DhcpLease& l) { return same_client(l, ev.veth, ev.vid, ev.mac); };
  if (ev.kind == slowpath::DhcpBindingEvent::unbound) {
    auto ended = take_if(
        leases_, [&](const DhcpLease& l) { return mine(l) && (ev.any_ip || l.ip == ev.ip); });
    if (gone) gone->insert(gone->end(), ended.begin(), ended.end());
    return ended.empty() ? Change::none : Change::bindings;
  }
  DhcpLease n;
  n.veth = ev.veth;
  n.vlan = ev.vid;
  n.mac = ev.mac;
  n.ip = ev.ip;
  n.lease_s = ev.lease_s;
  n.expires_unix = n.infinite() ? 0 : now_unix + int64_t{ev.lease_s};
  auto it = std::find_if(leases_.begin(), leases_.end(), mine);
  if (it == leases_.end()) {
    leases_.push_back(n);
    return Change::bindings;
  }
  const bool moved = it->ip != n.ip;
  if (moved && gone) gone->push_back(*it);
  *it = n;
  return moved ? Change::bindings : Change::renewed;
}

std::vector<DhcpLease> DhcpLeases::expire(int64_t now_unix) {
  return take_if(leases_,
                 [&](const DhcpLease& l) { return !l.infinite() && l.expires_unix <= now_unix; });
}

std::vector<DhcpLease> DhcpLeases::prune(const vsm::DataplaneConfig& cfg,
                                         const std::set<uint32_t>& before) {
  return take_if(leases_, [&](const DhcpLease& l) {
    auto v = std::find_if(cfg.veths.begin(), cfg.veths.end(),
                          [&](const vsm::ResolvedVeth& r) { return r.number == l.veth; });
    if (v == cfg.veths.end()) return before.contains(l.veth);
    return !offload::snoops_dhcp(*v);
  });
}

void DhcpLeases::merge_into(vsm::DataplaneConfig& cfg) const {
  for (auto& v : cfg.veths) {
    if (!offload::snoops_dhcp(v)) continue;
    for (const auto& l : leases_) {
      if (l.veth != v.number) continue;
      vsm::SourceBinding b;
      std::copy(l.ip.begin(), l.ip.end(), b.ip.begin());
      b.mac = l.mac;
      b.vlan = l.vlan;
      b.dhcp_snooped = true;
      // A lease for an address also bound statically adds nothing.
      bool dup = false;
      for (const auto& s : v.source_bindings)
        dup = dup || (s.ip == b.ip && !s.v6 && s.mac == b.mac && s.vlan == b.vlan);
      if (!dup) v.source_bindings.push_back(b);
    }
  }
}

nlohmann::json DhcpLeases::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& l : leases_)
    list.push_back({{"veth", l.veth},
                    {"vlan", l.vlan},
                    {"mac", offload::mac_str(l.mac)},
                    {"ip", ip4_str(l.ip)},
                    {"lease_s", l.lease_s},
                    {"expires_unix", l.expires_unix}});
  return {{"bindings", list}};
}

Result<DhcpLeases> DhcpLeases::from_json(const nlohmann::json& j, int64_t now_unix) {
  if (!j.is_object() || !j.contains("bindings") || !j["bindings"].is_array())
    return make_error(EINVAL, "no \"bindings\" list");
  DhcpLeases out;
  size_t i = 0;
  for (const auto& b : j["bindings"]) {
    ++i;
    auto num = [&](const char* k) {
      return b.is_object() && b.contains(k) && b[k].is_number_integer();
    };
    auto str = [&](const char* k) { return b.is_object() && b.contains(k) && b[k].is_string(); };
    if (!num("veth") || !num("vlan") || !num("lease_s") || !num("expires_unix") || !str("mac") ||
        !str("ip"))
      return make_error(EINVAL, "binding {}: a field is missing or of the wrong type", i);
    DhcpLease l;
    const int64_t veth = b["veth"].get<int64_t>(), vlan = b["vlan"].get<int64_t>();
    const int64_t lease = b["lease_s"].get<int64_t>();
    if (veth <= 0 || veth > UINT32_MAX || vlan <= 0 || vlan >= 4095 || lease < 0 ||
        lease > UINT32_MAX)
      return make_error(EINVAL, "binding {}: vEthernet, VLAN or lease out of range", i);
    l.veth = static_cast<uint32_t>(veth);
    l.vlan = static_cast<uint16_t>(vlan);
    l.lease_s = static_cast<uint32_t>(lease);
    l.expires_unix = b["expires_unix"].get<int64_t>();
    auto mac = offload::parse_mac(b["mac"].get<std::string>());
    if (!mac) return make_error(EINVAL, "binding {}: bad MAC '{}'", i, b["mac"].get<std::string>());
    l.mac = *mac;
    in_addr a{};
    if (inet_pton(AF_INET, b["ip"].get<std::string>().c_str(), &a) != 1)
      return make_error(EINVAL, "binding {}: bad IPv4 address '{}'", i, b["ip"].get<std::string>());
    std::memcpy(l.ip.data(), &a, 4);
    if (!l.infinite() && l.expires_unix <= now_unix) continue;  // ended while we were down
    if (std::any_of(out.leases_.begin(), out.leases_.end(),
                    [&](const DhcpLease& o) { return same_client(o, l.veth, l.vlan, l.mac); }))
      return make_error(EINVAL, "binding {}: a second lease for {} in VLAN {}", i,
                        offload::mac_str(l.mac), l.vlan);
    out.leases_.push_back(l);
  }
  return out;
}

}  // namespace vfs::daemon
