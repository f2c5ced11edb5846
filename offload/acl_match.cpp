#include "offload/acl_match.h"

#include <algorithm>
#include <cstring>

namespace vfs::offload {
namespace {

constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmp6 = 58;
constexpr uint8_t kTcpAck = 0x10;
constexpr uint8_t kTcpRst = 0x04;

bool zero(const uint8_t* p, size_t n) {
  return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

// The slow path walks every entry of an ACL per uncached frame: the per-entry tests below
// are forced inline and read the frame's fields once per walk (FrameFields), not per entry.
[[gnu::always_inline]] inline bool port_matches(const vsm::PortMatch& m, uint16_t v) {
  using Op = vsm::PortMatch::Op;
  switch (m.op) {
    case Op::any:
      return true;
    case Op::eq:
      return v == m.lo;
    case Op::neq:
      return v != m.lo;
    case Op::lt:
      return v < m.lo;
    case Op::gt:
      return v > m.lo;
    case Op::range:
      return v >= m.lo && v <= m.hi;
  }
  return false;
}

[[gnu::always_inline]] inline bool has_ports(int proto) {
  return proto == kProtoTcp || proto == kProtoUdp;
}
[[gnu::always_inline]] inline bool is_icmp(int proto, bool v6) {
  return proto == (v6 ? kProtoIcmp6 : kProtoIcmp);
}

// True when the entry looks at the L4 header.
[[gnu::always_inline]] inline bool needs_l4(const vsm::ResolvedAce& e, bool v6) {
  if (has_ports(e.protocol))
    return e.src_port.op != vsm::PortMatch::Op::any || e.dst_port.op != vsm::PortMatch::Op::any ||
           (e.protocol == kProtoTcp && e.established);
  if (is_icmp(e.protocol, v6)) return e.icmp_type >= 0 || e.icmp_code >= 0;
  return false;
}

// What an IP ACL reads of one frame, read once per walk.
struct FrameFields {
  const uint8_t* src = nullptr;
  const uint8_t* dst = nullptr;
  uint16_t sport = 0, dport = 0;  // when l4
  uint8_t b0 = 0, b1 = 0;         // ICMP type and code, when l4
  uint8_t tcp_flags = 0;          // when l4 and TCP
};

template <bool V6>
[[gnu::always_inline]] inline bool addr_is(const vsm::AddressMatch& m, const uint8_t* a) {
  if constexpr (V6) {
    uint64_t x[2], v[2], k[2];
    std::memcpy(x, a, 16);
    std::memcpy(v, m.addr.data(), 16);
    std::memcpy(k, m.mask.data(), 16);
    return (((x[0] ^ v[0]) & k[0]) | ((x[1] ^ v[1]) & k[1])) == 0;
  } else {
    uint32_t x, v, k;
    std::memcpy(&x, a, 4);
    std::memcpy(&v, m.addr.data(), 4);
    std::memcpy(&k, m.mask.data(), 4);
    return ((x ^ v) & k) == 0;
  }
}

// ip_ace_matches() on fields read beforehand.
template <bool V6>
[[gnu::always_inline]] inline bool ip_ace_matches_fields(const vsm::ResolvedAce& e,
                                                         const FrameLayout& l,
                                                         const FrameFields& f) {
  if (e.protocol >= 0 && l.ip_proto != e.protocol) return false;
  if (!addr_is<V6>(e.src, f.src) || !addr_is<V6>(e.dst, f.dst)) return false;
  if (!needs_l4(e, V6)) return true;
  if (!l.l4) return false;
  if (has_ports(e.protocol)) {
    if (!port_matches(e.src_port, f.sport) || !port_matches(e.dst_port, f.dport)) return false;
    if (e.protocol == kProtoTcp && e.established && !(f.tcp_flags & (kTcpAck | kTcpRst)))
      return false;
    return true;
  }
  if (e.icmp_type >= 0 && f.b0 != e.icmp_type) return false;
  if (e.icmp_code >= 0 && f.b1 != e.icmp_code) return false;
  return true;
}

// The first entry `matches` accepts decides; none: the implicit deny (seq 0).
template <typename Match>
AclVerdict first_match(const vsm::ResolvedAcl& acl, Match&& matches) {
  AclVerdict v;
  v.applies = true;
  for (const auto& e : acl.entries) {
    if (matches(e)) {
      v.permit = e.permit;
      v.seq = e.seq;
      return v;
    }
  }
  v.permit = false;
  v.seq = 0;
  return v;
}

template <bool V6>
AclVerdict walk_ip_acl(const vsm::ResolvedAcl& acl, const FrameLayout& l, const uint8_t* p) {
  // Nothing IP to match: no entry can, the implicit deny decides.
  if (!l.ip) return first_match(acl, [](const vsm::ResolvedAce&) { return false; });
  FrameFields f;
  const uint8_t* ip = p + l.l3_off;
  f.src = V6 ? ip + 8 : ip + 12;
  f.dst = V6 ? ip + 24 : ip + 16;
  if (l.l4) {
    const uint8_t* l4 = p + l.l4_off;
    f.b0 = l4[0];
    f.b1 = l4[1];
    if (has_ports(l.ip_proto)) {
      f.sport = be16(l4);
      f.dport = be16(l4 + 2);
    }
    if (l.ip_proto == kProtoTcp) f.tcp_flags = l4[13];
  }
  return first_match(acl,
                     [&](const vsm::ResolvedAce& e) { return ip_ace_matches_fields<V6>(e, l, f); });
}

bool mac_ace_matches(const vsm::ResolvedAce& e, const FrameLayout& l, const uint8_t* p) {
  for (size_t i = 0; i < 6; ++i) {
    if ((p[i] & e.dst_mac_mask[i]) != (e.dst_mac[i] & e.dst_mac_mask[i])) return false;
    if ((p[6 + i] & e.src_mac_mask[i]) != (e.src_mac[i] & e.src_mac_mask[i])) return false;
  }
  return e.ethertype < 0 || l.ether_type == e.ethertype;
}

std::vector<U16Match> port_prefixes(const vsm::PortMatch& m) {
  using Op = vsm::PortMatch::Op;
  switch (m.op) {
    case Op::any:
      return {};  // caller: no condition
    case Op::eq:
      return {{m.lo, 0xffff}};
    case Op::neq: {
      auto a = m.lo > 0 ? port_range_prefixes(0, m.lo - 1) : std::vector<U16Match>{};
      auto b = m.lo < 0xffff ? port_range_prefixes(m.lo + 1, 0xffff) : std::vector<U16Match>{};
      a.insert(a.end(), b.begin(), b.end());
      return a;
    }
    case Op::lt:
      return m.lo > 0 ? port_range_prefixes(0, m.lo - 1) : std::vector<U16Match>{};
    case Op::gt:
      return m.lo < 0xffff ? port_range_prefixes(m.lo + 1, 0xffff) : std::vector<U16Match>{};
    case Op::range:
      return m.lo <= m.hi ? port_range_prefixes(m.lo, m.hi) : std::vector<U16Match>{};
  }
  return {};
}

std::optional<IpMatch> ip_match(const vsm::AddressMatch& a, size_t n) {
  if (zero(a.mask.data(), n)) return std::nullopt;
  IpMatch m;
  for (size_t i = 0; i < n; ++i) {
    m.mask[i] = a.mask[i];
    m.addr[i] = a.addr[i] & a.mask[i];
  }
  return m;
}

}  // namespace

std::string acl_key(const vsm::ResolvedAcl& acl) {
  const char* fam = acl.family == vsm::AclFamily::ipv6  ? "ipv6"
                    : acl.family == vsm::AclFamily::mac ? "mac"
                                                        : "ip";
  return std::string(fam) + ":" + acl.name;
}

const vsm::ResolvedAcl* acl_in_slot(const vsm::ResolvedVeth& v, int slot) {
  const std::optional<vsm::ResolvedAcl>* slots[] = {&v.ip_acl_in,    &v.ip_acl_out, &v.ipv6_acl_in,
                                                    &v.ipv6_acl_out, &v.mac_acl_in, &v.mac_acl_out};
  if (slot < 0 || slot >= 6 || !slots[slot]->has_value()) return nullptr;
  return &slots[slot]->value();
}

int acl_slot(const vsm::ResolvedVeth& v, const vsm::ResolvedAcl* acl) {
  for (int i = 0; i < 6; ++i)
    if (acl_in_slot(v, i) == acl) return i;
  return -1;
}

uint16_t acl_ether_type(vsm::AclFamily f) {
  switch (f) {
    case vsm::AclFamily::ipv4:
      return kEtherIpv4;
    case vsm::AclFamily::ipv6:
      return kEtherIpv6;
    case vsm::AclFamily::mac:
      return 0;
  }
  return 0;
}

AclVerdict evaluate_acl(const vsm::ResolvedAcl& acl, const FrameLayout& l, const uint8_t* p,
                        uint32_t) {
  AclVerdict v;
  const uint16_t et = acl_ether_type(acl.family);
  if (!l.eth || (et != 0 && l.ether_type != et)) return v;
  if (acl.family == vsm::AclFamily::ipv4) return walk_ip_acl<false>(acl, l, p);
  if (acl.family == vsm::AclFamily::ipv6) return walk_ip_acl<true>(acl, l, p);
  return first_match(acl, [&](const vsm::ResolvedAce& e) { return mac_ace_matches(e, l, p); });
}

std::vector<U16Match> port_range_prefixes(uint16_t lo, uint16_t hi) {
  std::vector<U16Match> out;
  uint32_t cur = lo;
  while (cur <= hi) {
    // The largest aligned block starting at cur that stays within [cur, hi].
    uint32_t size = 1;
    while (size < 0x10000 && (cur & (size * 2 - 1)) == 0 && cur + size * 2 - 1 <= hi) size *= 2;
    out.push_back({static_cast<uint16_t>(cur), static_cast<uint16_t>(~(size - 1) & 0xffff)});
    cur += size;
  }
  return out;
}

std::vector<RuleMatch> ace_rule_matches(const vsm::ResolvedAce& e, vsm::AclFamily family) {
  RuleMatch base;
  if (family == vsm::AclFamily::mac) {
    const Mac zero_mac{};
    if (e.src_mac_mask != zero_mac) {
      Mac v{};
      for (size_t i = 0; i < 6; ++i) v[i] = e.src_mac[i] & e.src_mac_mask[i];
      base.eth_src = v;
      base.eth_src_mask = e.src_mac_mask;
    }
    if (e.dst_mac_mask != zero_mac) {
      Mac v{};
      for (size_t i = 0; i < 6; ++i) v[i] = e.dst_mac[i] & e.dst_mac_mask[i];
      base.eth_dst = v;
      base.eth_dst_mask = e.dst_mac_mask;
    }
    if (e.ethertype >= 0) base.ether_type = static_cast<uint16_t>(e.ethertype);
    return {base};
  }
  const bool v6 = family == vsm::AclFamily::ipv6;
  const size_t alen = v6 ? 16 : 4;
  base.l3 = v6 ? 6 : 4;
  base.ip_src = ip_match(e.src, alen);
  base.ip_dst = ip_match(e.dst, alen);
  if (e.protocol >= 0) base.ip_proto = static_cast<uint8_t>(e.protocol);
  if (!needs_l4(e, v6)) return {base};

  if (is_icmp(e.protocol, v6)) {
    if (e.icmp_type >= 0) base.icmp_type = static_cast<uint8_t>(e.icmp_type);
    if (e.icmp_code >= 0) base.icmp_code = static_cast<uint8_t>(e.icmp_code);
    return {base};
  }
  // TCP / UDP: src prefixes x dst prefixes x flag variants.
  auto srcs = port_prefixes(e.src_port);
  auto dsts = port_prefixes(e.dst_port);
  if ((e.src_port.op != vsm::PortMatch::Op::any && srcs.empty()) ||
      (e.dst_port.op != vsm::PortMatch::Op::any && dsts.empty()))
    return {};  // matches no port at all
  std::vector<std::optional<U16Match>> s_opts, d_opts;
  if (srcs.empty()) s_opts.push_back(std::nullopt);
  for (auto& x : srcs) s_opts.push_back(x);
  if (dsts.empty()) d_opts.push_back(std::nullopt);
  for (auto& x : dsts) d_opts.push_back(x);
  std::vector<std::optional<U8Match>> flags;
  if (e.protocol == kProtoTcp && e.established) {
    flags.push_back(U8Match{kTcpAck, kTcpAck});            // ACK set
    flags.push_back(U8Match{kTcpRst, kTcpAck | kTcpRst});  // RST set, ACK clear
  } else {
    flags.push_back(std::nullopt);
  }
  std::vector<RuleMatch> out;
  for (const auto& s : s_opts)
    for (const auto& d : d_opts)
      for (const auto& f : flags) {
        RuleMatch m = base;
        m.l4_src = s;
        m.l4_dst = d;
        m.tcp_flags = f;
        // An L4 item is what makes the NIC look at the header; "any" ports still need one
        // when only flags are matched, which tcp_flags provides.
        out.push_back(m);
      }
  return out;
}

}  // namespace vfs::offload
