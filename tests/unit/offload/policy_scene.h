// tests/unit/offload/policy_scene.h generates random switch scenes for the policy tests:
// vEthernet policies (access and trunk ports, IPv4/IPv6/MAC ACLs in and out, port
// security, source bindings, SPAN), learned MACs, and frames with VLAN oddities,
// fragments and truncations.
#pragma once

#include <map>
#include <random>
#include <string>
#include <vector>

#include "offload/policy.h"
#include "offload/rule_compiler.h"
#include "random_choices.h"

namespace vfs::test {

using namespace vfs::offload;

inline constexpr uint16_t kPorts = 5;  // 0 uplink, 1-4 VFs (ethdev id = sim port index)
inline const std::vector<uint16_t> kVlans{10, 20, 30};

inline const std::vector<std::array<uint8_t, 16>> kV4 = {
    {10, 0, 0, 1}, {10, 0, 0, 2}, {10, 0, 1, 5}, {192, 168, 1, 1}, {10, 0, 0, 9}, {0, 0, 0, 0}};
inline const std::vector<std::array<uint8_t, 16>> kV6 = {
    {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
    {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7},
    {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9},
    {}};
inline const std::vector<uint16_t> kL4Ports = {0,   1,   53,   67,   68,   79,    80,   81,
                                               443, 547, 1023, 1024, 8080, 65534, 65535};
inline const std::vector<Mac> kMacs = {
    {0x02, 0, 0, 0, 0, 1}, {0x02, 0, 0, 0, 0, 2}, {0x02, 0, 0, 0, 0, 3}, {0x02, 0, 0, 0, 1, 4},
    {0x02, 0, 0, 0, 1, 5}, {0x02, 0, 0, 0, 2, 6}, {0x02, 0, 0, 0, 2, 7}, {0x04, 0, 0, 0, 3, 8}};

inline vsm::AddressMatch address(Rng& r, bool v6) {
  vsm::AddressMatch a;
  const size_t n = v6 ? 16 : 4;
  switch (r.below(3)) {
    case 0:
      return a;  // any
    case 1:
      a.addr = r.pick(v6 ? kV6 : kV4);
      break;
    default:
      a.addr = r.pick(v6 ? kV6 : kV4);
      n == 4 ? a.addr[3] = 0 : a.addr[15] = 0;
      break;
  }
  const size_t full = r.below(2) ? n : n - 1;  // host, or a prefix one byte shorter
  for (size_t i = 0; i < full; ++i) a.mask[i] = 0xff;
  return a;
}

inline vsm::PortMatch ports(Rng& r) {
  vsm::PortMatch m;
  m.op = static_cast<vsm::PortMatch::Op>(r.below(6));
  m.lo = r.pick(kL4Ports);
  m.hi = r.pick(kL4Ports);
  if (m.op == vsm::PortMatch::Op::range && m.hi < m.lo) std::swap(m.lo, m.hi);
  return m;
}

inline vsm::ResolvedAcl random_acl(Rng& r, vsm::AclFamily fam, int id) {
  vsm::ResolvedAcl acl;
  acl.name = "acl" + std::to_string(id);
  acl.family = fam;
  const bool v6 = fam == vsm::AclFamily::ipv6;
  const size_t n = 1 + r.below(5);
  for (size_t i = 0; i < n; ++i) {
    vsm::ResolvedAce e;
    e.seq = static_cast<uint32_t>(10 * (i + 1));
    e.permit = r.chance(0.6);
    if (fam == vsm::AclFamily::mac) {
      if (r.chance(0.5)) {
        e.src_mac = r.pick(kMacs);
        e.src_mac_mask = r.chance(0.5) ? Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
                                       : Mac{0xff, 0xff, 0xff, 0xff, 0, 0};
      }
      if (r.chance(0.3)) {
        e.dst_mac = r.pick(kMacs);
        e.dst_mac_mask = Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
      }
      if (r.chance(0.4)) e.ethertype = r.pick(std::vector<int>{0x0800, 0x86dd, 0x0806, 0x88b5});
    } else {
      const std::vector<int> protos =
          v6 ? std::vector<int>{-1, 6, 17, 58} : std::vector<int>{-1, 6, 17, 1};
      e.protocol = r.pick(protos);
      e.src = address(r, v6);
      e.dst = address(r, v6);
      if (e.protocol == 6 || e.protocol == 17) {
        if (r.chance(0.5)) e.src_port = ports(r);
        if (r.chance(0.6)) e.dst_port = ports(r);
        if (e.protocol == 6 && r.chance(0.3)) e.established = true;
      } else if (e.protocol == 1 || e.protocol == 58) {
        if (r.chance(0.5))
          e.icmp_type = static_cast<int>(r.pick(std::vector<uint16_t>{0, 8, 128, 129}));
        if (r.chance(0.3)) e.icmp_code = static_cast<int>(r.below(2));
      }
    }
    acl.entries.push_back(e);
  }
  return acl;
}

struct Scene {
  PolicySnapshot policy;
  std::vector<LearnedMac> learned;
  std::map<std::pair<uint16_t, Mac>, uint16_t> fdb;  // (vid, mac) -> port
};

inline Scene random_scene(Rng& r) {
  Scene s;
  s.policy.generation = 1;
  for (uint16_t v : kVlans) s.policy.vlans.set(v);
  s.policy.ports.resize(kPorts);
  s.policy.ports[0] = uplink_port_policy();
  int acl_id = 0;
  for (uint16_t p = 1; p < kPorts; ++p) {
    PortPolicy pp = access_port_policy(p, r.pick(kVlans), "vEthernet" + std::to_string(p));
    if (r.chance(0.1)) pp.forwarding = pp.cfg.forwarding = false;
    if (r.chance(0.3)) {
      pp.cfg.mode = vsm::SwitchportMode::trunk;
      pp.cfg.trunk_allowed = {10, 20};
      if (r.chance(0.5)) pp.cfg.native_vlan = 30;
      pp.access_vlan = 0;
    }
    auto maybe = [&](std::optional<vsm::ResolvedAcl>& slot, vsm::AclFamily f, double pr) {
      if (r.chance(pr)) slot = random_acl(r, f, acl_id++);
    };
    maybe(pp.cfg.ip_acl_in, vsm::AclFamily::ipv4, 0.5);
    maybe(pp.cfg.ip_acl_out, vsm::AclFamily::ipv4, 0.4);
    maybe(pp.cfg.ipv6_acl_in, vsm::AclFamily::ipv6, 0.3);
    maybe(pp.cfg.ipv6_acl_out, vsm::AclFamily::ipv6, 0.3);
    maybe(pp.cfg.mac_acl_in, vsm::AclFamily::mac, 0.3);
    maybe(pp.cfg.mac_acl_out, vsm::AclFamily::mac, 0.3);
    pp.cfg.port_security.enabled = r.chance(0.2);
    if (pp.cfg.mode == vsm::SwitchportMode::access && r.chance(0.35)) {
      pp.cfg.ip_verify_source = true;
      for (size_t b = 0, n = 1 + r.below(4); b < n; ++b) {
        vsm::SourceBinding sb;
        sb.v6 = r.chance(0.4);
        sb.ip = r.pick(sb.v6 ? kV6 : kV4);
        sb.mac = r.pick(kMacs);
        sb.vlan = r.chance(0.9) ? pp.access_vlan : r.pick(kVlans);
        pp.cfg.source_bindings.push_back(sb);
      }
    }
    s.policy.ports[p] = std::move(pp);
  }
  // SPAN: sometimes one port mirrors another's rx or tx.
  if (r.chance(0.4)) {
    uint16_t src = static_cast<uint16_t>(1 + r.below(kPorts - 1)),
             dst = static_cast<uint16_t>(1 + r.below(kPorts - 1));
    if (src != dst)
      (r.chance(0.5) ? s.policy.ports[src].mirror_rx : s.policy.ports[src].mirror_tx)
          .push_back(dst);
  }
  // Learned MACs: each MAC lives on one port in one VLAN that port admits.
  for (const Mac& m : kMacs) {
    const uint16_t p = static_cast<uint16_t>(r.below(kPorts));
    std::vector<uint16_t> ok;
    for (uint16_t v : kVlans)
      if (admits(s.policy, p, v)) ok.push_back(v);
    if (ok.empty()) continue;
    const uint16_t v = r.pick(ok);
    s.learned.push_back({v, m, p});
    s.fdb[{v, m}] = p;
  }
  return s;
}

inline std::vector<uint8_t> random_frame(Rng& r, const Scene& s, uint16_t in_port) {
  std::vector<uint8_t> f;
  auto u8 = [&](uint8_t v) { f.push_back(v); };
  auto u16 = [&](uint16_t v) { u8(static_cast<uint8_t>(v >> 8)), u8(static_cast<uint8_t>(v)); };
  auto put = [&](const uint8_t* p, size_t n) { f.insert(f.end(), p, p + n); };
  // Source: mostly a MAC learned on this port, so that the rules decide.
  std::vector<const LearnedMac*> mine;
  for (const auto& e : s.learned)
    if (e.port == in_port) mine.push_back(&e);
  const LearnedMac* src = mine.empty() || r.chance(0.1) ? nullptr : mine[r.below(mine.size())];
  const Mac smac = src ? src->mac : r.pick(kMacs);
  const Mac dmac = r.chance(0.1)       ? Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
                   : s.learned.empty() ? r.pick(kMacs)
                                       : r.pick(s.learned).mac;
  put(dmac.data(), 6);
  put(smac.data(), 6);
  // Tags: as the port's VLAN wants, or an oddity.
  const PortPolicy& pp = s.policy.ports[in_port];
  const uint16_t vid = src ? src->vid : r.pick(kVlans);
  const bool wants_tag =
      pp.kind == PortKind::uplink || (pp.cfg.mode == vsm::SwitchportMode::trunk &&
                                      !(pp.cfg.native_vlan && *pp.cfg.native_vlan == vid));
  switch (r.chance(0.8) ? 0 : 1 + r.below(5)) {
    case 0:
      if (wants_tag) u16(0x8100), u16(vid);
      break;
    case 1:
      u16(0x8100), u16(0);
      break;  // priority tag
    case 2:
      u16(0x88a8), u16(vid);
      break;  // 802.1ad from a VM
    case 3:
      u16(0x8100), u16(vid), u16(0x8100), u16(vid);
      break;  // double tag
    case 4:
      u16(0x9100), u16(vid);
      break;
    default:
      u16(0x8100), u16(r.pick(kVlans));
      break;
  }
  const uint64_t kind = r.below(10);
  auto l4 = [&](uint8_t proto, bool v6) {
    if (proto == 6) {
      u16(r.pick(kL4Ports)), u16(r.pick(kL4Ports));
      for (int i = 0; i < 8; ++i) u8(0);
      u8(0x50),
          u8(static_cast<uint8_t>(
              r.pick(std::vector<uint16_t>{0x02, 0x10, 0x12, 0x04, 0x14, 0x01}))),
          u16(1000), u16(0), u16(0);
    } else if (proto == 17) {
      u16(r.pick(kL4Ports)), u16(r.pick(kL4Ports)), u16(8), u16(0);
    } else if (proto == (v6 ? 58 : 1)) {
      const std::vector<uint16_t> types =
          v6 ? std::vector<uint16_t>{128, 129, 135, 136, 136} : std::vector<uint16_t>{0, 8, 3};
      u8(static_cast<uint8_t>(r.pick(types))), u8(static_cast<uint8_t>(r.below(2))), u16(0), u16(1),
          u16(1);
      if (v6) put(r.pick(kV6).data(), 16);  // an ND target
    }
  };
  if (kind < 5) {  // IPv4
    u16(0x0800);
    const uint8_t proto = static_cast<uint8_t>(r.pick(std::vector<uint16_t>{6, 17, 1, 47}));
    const bool frag = r.chance(0.1);
    u8(0x45), u8(0), u16(60), u16(1),
        u16(frag ? static_cast<uint16_t>(r.below(2) ? 0x2000 : 0x0010) : 0), u8(64), u8(proto),
        u16(0);
    put(r.pick(kV4).data(), 4);
    put(r.pick(kV4).data(), 4);
    l4(proto, false);
  } else if (kind < 8) {  // IPv6
    u16(0x86dd);
    const uint8_t proto = static_cast<uint8_t>(r.pick(std::vector<uint16_t>{6, 17, 58, 0}));
    u16(0x6000), u16(0), u16(20), u8(proto), u8(64);
    put(r.pick(kV6).data(), 16);
    put(r.pick(kV6).data(), 16);
    l4(proto, true);
  } else if (kind < 9) {  // ARP
    u16(0x0806);
    u16(1), u16(0x0800), u8(6), u8(4), u16(1);
    put(smac.data(), 6);
    put(kV4[0].data(), 4);
    put(dmac.data(), 6);
    put(kV4[1].data(), 4);
  } else {
    u16(0x88b5);
    for (int i = 0; i < 30; ++i) u8(static_cast<uint8_t>(i));
  }
  while (f.size() < 60) u8(0);
  if (r.chance(0.1)) f.resize(14 + r.below(f.size() - 14));  // truncated
  return f;
}

}  // namespace vfs::test
