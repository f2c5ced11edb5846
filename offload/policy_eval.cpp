#include "offload/policy_eval.h"

#include <algorithm>

#include "offload/acl_match.h"
#include "offload/rule_compiler.h"

namespace vfs::offload {
namespace {

// Runs the optional ACL; false when it denies.
template <typename V>
bool pass(const std::optional<vsm::ResolvedAcl>& acl, const FrameLayout& l, const uint8_t* p,
          uint32_t len, V& v) {
  if (!acl) return true;
  const AclVerdict a = evaluate_acl(*acl, l, p, len);
  if (!a.applies) return true;
  if (v.n_hits < kMaxAclHits) v.hits[v.n_hits++] = {&*acl, a.seq};
  if (a.permit) return true;
  v.reason = DropReason::acl;
  return false;
}

bool bound(const vsm::ResolvedVeth& v, const uint8_t* ip, bool v6, const uint8_t* mac,
           uint16_t vid) {
  const size_t n = v6 ? 16 : 4;
  for (const auto& b : v.source_bindings) {
    if (b.v6 != v6 || b.vlan != vid || !std::equal(b.mac.begin(), b.mac.end(), mac)) continue;
    if (std::equal(ip, ip + n, b.ip.begin())) return true;
  }
  return false;
}

bool link_local_or_unspecified(const uint8_t* ip6) {
  if (ip6[0] == 0xfe && (ip6[1] & 0xc0) == 0x80) return true;
  return std::all_of(ip6, ip6 + 16, [](uint8_t b) { return b == 0; });
}

}  // namespace

bool guards_sources(const vsm::ResolvedVeth& v) {
  return v.ip_verify_source && v.mode == vsm::SwitchportMode::access;
}

bool snoops_dhcp(const vsm::ResolvedVeth& v) {
  return v.port_security.enabled || v.ip_verify_source;
}

DropReason evaluate_source_guard(const vsm::ResolvedVeth& v, uint16_t vid, const FrameLayout& l,
                                 const uint8_t* p, uint32_t len, const LeaseLookup* leases,
                                 uint16_t port) {
  auto bound4 = [&](const uint8_t* ip, const uint8_t* mac) {
    return bound(v, ip, false, mac, vid) || (leases && leases->leased(port, vid, mac, ip));
  };
  // DHCP servers answer from port 67 (DHCPv6: 547); a VM is no server here.
  if (snoops_dhcp(v) && l.l4 && l.ip_proto == 17) {
    const uint16_t sport = be16(p + l.l4_off);
    if (sport == (l.v6 ? 547 : 67)) return DropReason::dhcp_snooping;
  }
  if (!guards_sources(v)) return DropReason::count_;
  const uint8_t* mac = p + 6;
  if (l.ether_type == kEtherArp) {
    // ARP inspection: the sender must be the frame's source and hold a bound address
    // (0.0.0.0 for a probe).
    const uint8_t* arp = p + l.l3_off;
    if (len < l.l3_off + 28u) return DropReason::arp_nd_inspection;
    const uint8_t* sha = arp + 8;
    const uint8_t* spa = arp + 14;
    if (!std::equal(sha, sha + 6, mac)) return DropReason::arp_nd_inspection;
    const bool probe = spa[0] == 0 && spa[1] == 0 && spa[2] == 0 && spa[3] == 0;
    if (!probe && !bound4(spa, mac)) return DropReason::arp_nd_inspection;
    return DropReason::count_;
  }
  if (l.ether_type == kEtherIpv4) {
    if (!l.ip) return DropReason::ip_source_guard;
    const uint8_t* src = p + l.l3_off + 12;
    const bool unspecified = src[0] == 0 && src[1] == 0 && src[2] == 0 && src[3] == 0;
    if (unspecified && l.l4 && l.ip_proto == 17 && be16(p + l.l4_off + 2) == 67)
      return DropReason::count_;  // DHCP
    return bound4(src, mac) ? DropReason::count_ : DropReason::ip_source_guard;
  }
  if (l.ether_type == kEtherIpv6) {
    if (!l.ip) return DropReason::ip_source_guard;
    const uint8_t* src = p + l.l3_off + 8;
    // ND inspection: an advertisement may only claim a bound (or link-local) target.
    if (l.l4 && l.ip_proto == 58 && p[l.l4_off] == 136) {
      if (len < l.l4_off + 24u) return DropReason::arp_nd_inspection;
      const uint8_t* target = p + l.l4_off + 8;
      if (!link_local_or_unspecified(target) && !bound(v, target, true, mac, vid))
        return DropReason::arp_nd_inspection;
    }
    if (link_local_or_unspecified(src)) return DropReason::count_;
    return bound(v, src, true, mac, vid) ? DropReason::count_ : DropReason::ip_source_guard;
  }
  return DropReason::count_;
}

IngressVerdict evaluate_ingress(const PolicySnapshot& policy, uint16_t in_port,
                                const FrameLayout& l, const uint8_t* p, uint32_t len,
                                const LeaseLookup* leases) {
  IngressVerdict v;
  const PortPolicy* pp = policy.port(in_port);
  if (!l.eth) {
    v.reason = DropReason::malformed;
    return v;
  }
  if (!pp || !pp->bound) {
    v.reason = DropReason::no_policy;
    return v;
  }
  if (!pp->forwarding) {
    v.reason = DropReason::port_disabled;
    return v;
  }
  // VLAN admission: only single 802.1Q tags (or none) ever enter the pipeline.
  const bool one_ctag = l.n_tags == 1 && l.tpid0 == kTpidC;
  if (pp->kind == PortKind::uplink) {
    if (!one_ctag) {
      v.reason = DropReason::vlan;
      return v;
    }
    v.vid = l.vid0;
    v.tagged = true;
  } else if (pp->cfg.mode == vsm::SwitchportMode::trunk) {
    if (l.n_tags == 0 || (one_ctag && l.vid0 == 0)) {
      if (!pp->cfg.native_vlan) {
        v.reason = DropReason::vlan;
        return v;
      }
      v.vid = *pp->cfg.native_vlan;
      v.tagged = l.n_tags != 0;
    } else if (one_ctag) {
      v.vid = l.vid0;
      v.tagged = true;
    } else {
      v.reason = DropReason::vlan;
      return v;
    }
  } else {
    if (l.n_tags != 0 && !(one_ctag && l.vid0 == 0)) {
      v.reason = DropReason::vlan;
      return v;
    }
    v.vid = pp->access_vlan;
    v.tagged = l.n_tags != 0;
  }
  if (!admits(policy, in_port, v.vid)) {
    v.reason = DropReason::vlan;
    return v;
  }
  if (pp->kind == PortKind::vf) {
    if (DropReason g = evaluate_source_guard(pp->cfg, v.vid, l, p, len, leases, in_port);
        g != DropReason::count_) {
      v.reason = g;
      return v;
    }
    if (!pass(pp->cfg.mac_acl_in, l, p, len, v)) return v;
    if (!pass(pp->cfg.ip_acl_in, l, p, len, v)) return v;
    if (!pass(pp->cfg.ipv6_acl_in, l, p, len, v)) return v;
  }
  v.admit = true;
  return v;
}

EgressVerdict evaluate_egress(const PolicySnapshot& policy, uint16_t out_port, uint16_t vid,
                              const FrameLayout& l, const uint8_t* p, uint32_t len) {
  EgressVerdict v;
  const PortPolicy* pp = policy.port(out_port);
  if (!pp || !admits(policy, out_port, vid)) {
    v.reason = DropReason::vlan;
    return v;
  }
  if (pp->kind == PortKind::vf) {
    if (!pass(pp->cfg.mac_acl_out, l, p, len, v)) return v;
    if (!pass(pp->cfg.ip_acl_out, l, p, len, v)) return v;
    if (!pass(pp->cfg.ipv6_acl_out, l, p, len, v)) return v;
    v.untag = pp->cfg.mode != vsm::SwitchportMode::trunk ||
              (pp->cfg.native_vlan && *pp->cfg.native_vlan == vid);
  }
  v.deliver = true;
  return v;
}

}  // namespace vfs::offload
