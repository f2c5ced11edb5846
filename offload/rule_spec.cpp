#include "offload/rule_spec.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <type_traits>

#include <fmt/format.h>

namespace vfs::offload {
namespace {

bool all_ones(const uint8_t* p, size_t n) {
  return std::all_of(p, p + n, [](uint8_t b) { return b == 0xff; });
}

std::string ip_str(const std::array<uint8_t, 16>& a, uint8_t l3) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(l3 == 6 ? AF_INET6 : AF_INET, a.data(), buf, sizeof buf);
  return buf;
}

// " NAME is V" or " NAME spec V NAME mask M".
template <typename T>
std::string field(const char* name, const T& value, const T& mask, bool full) {
  if (full) return fmt::format(" {} is {}", name, value);
  return fmt::format(" {} spec {} {} mask {}", name, value, name, mask);
}

std::string mac_field(const char* name, const Mac& v, const std::optional<Mac>& mask) {
  const bool full = !mask || all_ones(mask->data(), 6);
  return field(name, mac_str(v), mask ? mac_str(*mask) : std::string(), full);
}

std::string ip_field(const char* name, const IpMatch& m, uint8_t l3) {
  const size_t n = l3 == 6 ? 16 : 4;
  return field(name, ip_str(m.addr, l3), ip_str(m.mask, l3), all_ones(m.mask.data(), n));
}

std::string u16_field(const char* name, const U16Match& m) {
  if (m.mask == 0xffff) return fmt::format(" {} is {}", name, m.value);
  return fmt::format(" {} spec {} {} mask 0x{:04x}", name, m.value, name, m.mask);
}

// Folds one word into a running hash (a multiply-xorshift mix: cheap, and good enough
// that the rule table's linear probing stays short).
struct Hasher {
  uint64_t h = 0x9e3779b97f4a7c15ULL;
  void add(uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  }
};

uint64_t rotl(uint64_t v, unsigned n) { return v << n | v >> (64 - n); }

// The small optional fields pack into words (present bit above the value), so that a
// rule costs a few mixes, not one per field.
template <typename T>
uint64_t opt_bits(const std::optional<T>& o) {
  return o ? (uint64_t{1} << (8 * sizeof(T))) | static_cast<uint64_t>(*o) : 0;
}
uint64_t opt_bits(const std::optional<bool>& o) { return o ? 2u | uint64_t{*o} : 0; }
uint64_t opt_bits(const std::optional<U16Match>& o) {
  return o ? uint64_t{1} << 32 | uint64_t{o->value} << 16 | o->mask : 0;
}
uint64_t opt_bits(const std::optional<U8Match>& o) {
  return o ? uint64_t{1} << 16 | uint64_t{o->value} << 8 | o->mask : 0;
}
uint64_t mac_bits(const std::optional<Mac>& o) {
  if (!o) return 0;
  uint64_t w = uint64_t{1} << 48;
  for (size_t i = 0; i < 6; ++i) w |= uint64_t{(*o)[i]} << (8 * i);
  return w;
}
void add_ip(Hasher& x, const std::optional<IpMatch>& o) {
  if (!o) {
    x.add(0x5a);
    return;
  }
  uint64_t a[2], m[2];
  std::memcpy(a, o->addr.data(), 16);
  std::memcpy(m, o->mask.data(), 16);
  x.add(a[0] ^ rotl(m[0], 32));
  x.add(a[1] ^ rotl(m[1], 32));
}

}  // namespace

uint64_t hash_value(const RuleSpec& r) {
  Hasher x;
  const RuleMatch& m = r.match;
  x.add((static_cast<uint64_t>(r.group) << 32) | r.priority);
  const bool macs = m.eth_src || m.eth_src_mask || m.eth_dst || m.eth_dst_mask;
  x.add(opt_bits(m.in_port) | opt_bits(m.has_vlan) << 17 | opt_bits(m.tpid) << 19 |
        uint64_t{m.tagged} << 36 | uint64_t{m.l3} << 37 | opt_bits(m.vlan_vid) << 45 |
        uint64_t{macs} << 62);
  x.add(opt_bits(m.more_vlan) | opt_bits(m.ether_type) << 2 | opt_bits(m.ip_proto) << 19 |
        opt_bits(m.icmp_type) << 28 | opt_bits(m.icmp_code) << 37 | opt_bits(m.tcp_flags) << 46);
  x.add(opt_bits(m.l4_src) ^ rotl(opt_bits(m.l4_dst), 31));
  if (macs) {
    x.add(mac_bits(m.eth_src) ^ rotl(mac_bits(m.eth_src_mask), 32));
    x.add(mac_bits(m.eth_dst) ^ rotl(mac_bits(m.eth_dst_mask), 32));
  }
  add_ip(x, m.ip_src);
  add_ip(x, m.ip_dst);
  for (const auto& a : r.actions) x.add((static_cast<uint64_t>(a.kind) << 32) | a.arg);
  x.add(r.actions.size());
  // Final avalanche (murmur3's fmix64): the table indexes by the low bits.
  uint64_t h = x.h;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

std::string mac_str(const Mac& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

std::optional<Mac> parse_mac(std::string_view s) {
  Mac m{};
  size_t i = 0;
  for (size_t b = 0; b < 6; ++b) {
    if (b > 0) {
      if (i >= s.size() || s[i] != ':') return std::nullopt;
      ++i;
    }
    size_t j = i;
    while (j < s.size() && j - i < 2 && std::isxdigit(static_cast<unsigned char>(s[j]))) ++j;
    if (j == i) return std::nullopt;
    unsigned v = 0;
    std::from_chars(s.data() + i, s.data() + j, v, 16);
    m[b] = static_cast<uint8_t>(v);
    i = j;
  }
  if (i != s.size()) return std::nullopt;
  return m;
}

std::string match_text(const RuleSpec& r) {
  std::string out;
  const auto& m = r.match;
  const bool vlan_item = m.tagged || m.tpid || m.vlan_vid || m.more_vlan;
  if (m.in_port) out += fmt::format("represented_port ethdev_port_id is {} / ", *m.in_port);
  // As RteFlowRule: an ETH item heads every pattern that looks past the port.
  if (m.eth_src || m.eth_dst || m.has_vlan || m.tpid || m.ether_type || vlan_item || m.l3) {
    out += "eth";
    if (m.eth_src) out += mac_field("src", *m.eth_src, m.eth_src_mask);
    if (m.eth_dst) out += mac_field("dst", *m.eth_dst, m.eth_dst_mask);
    if (m.ether_type && !vlan_item) out += fmt::format(" type is 0x{:04x}", *m.ether_type);
    if (m.tpid && vlan_item) out += fmt::format(" type is 0x{:04x}", *m.tpid);
    if (m.has_vlan) out += fmt::format(" has_vlan is {}", *m.has_vlan ? 1 : 0);
    out += " / ";
  }
  if (vlan_item) {
    out += "vlan";
    if (m.vlan_vid) out += fmt::format(" vid is {}", *m.vlan_vid);
    if (m.ether_type) out += fmt::format(" inner_type is 0x{:04x}", *m.ether_type);
    if (m.more_vlan) out += fmt::format(" has_more_vlan is {}", *m.more_vlan ? 1 : 0);
    out += " / ";
  }
  if (m.l3) {
    out += m.l3 == 6 ? "ipv6" : "ipv4";
    if (m.ip_src) out += ip_field("src", *m.ip_src, m.l3);
    if (m.ip_dst) out += ip_field("dst", *m.ip_dst, m.l3);
    if (m.ip_proto) out += fmt::format(" proto is {}", *m.ip_proto);
    out += " / ";
  }
  if (m.has_l4()) {
    if (m.icmp_type || m.icmp_code) {
      out += m.l3 == 6 ? "icmp6" : "icmp";
      if (m.icmp_type) out += fmt::format(" type is {}", *m.icmp_type);
      if (m.icmp_code) out += fmt::format(" code is {}", *m.icmp_code);
    } else {
      out += m.ip_proto == 17 ? "udp" : "tcp";
      if (m.l4_src) out += u16_field("src", *m.l4_src);
      if (m.l4_dst) out += u16_field("dst", *m.l4_dst);
      if (m.tcp_flags)
        out += fmt::format(" flags spec 0x{:02x} flags mask 0x{:02x}", m.tcp_flags->value,
                           m.tcp_flags->mask);
    }
    out += " / ";
  }
  out += "end";
  return out;
}

std::string actions_text(const RuleSpec& r) {
  std::string out;
  unsigned sample = 0;
  for (const auto& a : r.actions) {
    switch (a.kind) {
      case ActionKind::count:
        out += "count / ";
        break;
      case ActionKind::drop:
        out += "drop / ";
        break;
      case ActionKind::jump:
        out += fmt::format("jump group {} / ", a.arg);
        break;
      case ActionKind::port:
        out += fmt::format("represented_port ethdev_port_id {} / ", a.arg);
        break;
      case ActionKind::push_vlan:
        out += fmt::format("of_push_vlan ethertype 0x{:04x} / ", a.arg);
        break;
      case ActionKind::set_vlan_vid:
        out += fmt::format("of_set_vlan_vid vlan_vid {} / ", a.arg);
        break;
      case ActionKind::pop_vlan:
        out += "of_pop_vlan / ";
        break;
      case ActionKind::meter:
        out += fmt::format("meter mtr_id {} / ", a.arg);
        break;
      case ActionKind::mirror:
        out += fmt::format("sample ratio 1 index {} / ", sample++);
        break;
      case ActionKind::to_slow_path:
        out += fmt::format("port_representor port_id {} / ", a.arg);
        break;
    }
  }
  out += "end";
  return out;
}

std::string testpmd_text(const RuleSpec& r, uint16_t proxy_port) {
  std::string out;
  unsigned sample = 0;
  for (const auto& a : r.actions) {
    if (a.kind != ActionKind::mirror) continue;
    // testpmd 22.11 takes no represented_port inside sample_actions; in a transfer rule
    // port_id names the same port (the sim treats both as "out of that port's wire").
    out += fmt::format("set sample_actions {} port_id id {} / end\n", sample++, a.arg);
  }
  out += fmt::format("flow create {} transfer group {} priority {} pattern {} actions {}",
                     proxy_port, r.group, r.priority, match_text(r), actions_text(r));
  return out;
}

}  // namespace vfs::offload
