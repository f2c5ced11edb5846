#include "drivers/sim/sim_match.h"

#include <algorithm>
#include <type_traits>

namespace vfs::drivers::sim {
namespace {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr uint32_t kEthLen = 14;

constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;

uint64_t mix(uint64_t h, uint64_t w) {
  h ^= w;
  h *= kMul;
  return h ^ (h >> 29);
}

unsigned round_to_word(unsigned n) { return (n + 7) & ~7u; }

// The fixed header an L4 item needs whole: TCP 20, UDP 8, ICMP 8, ICMPv6 4.
uint32_t l4_header_len(uint8_t proto) {
  switch (proto) {
    case 6:
      return 20;
    case 17:
      return 8;
    case 1:
      return 8;
    default:
      return 4;
  }
}

}  // namespace

Layout parse_layout(const uint8_t* p, uint32_t len) {
  Layout l;
  if (len < kEthLen) return l;
  l.eth = true;
  uint32_t type_off = 12;
  uint16_t type = load_be16(p + type_off);
  while (is_vlan_tpid(type) && l.n_tags < kMaxTags && len >= type_off + 6) {
    ++l.n_tags;
    type_off += 4;
    type = load_be16(p + type_off);
  }
  l.l3_type = type;
  l.l3_off = static_cast<uint16_t>(type_off + 2);
  const uint8_t* ip = p + l.l3_off;
  if (type == kEtherTypeIpv4 && len >= l.l3_off + 20u && (ip[0] >> 4) == 4 && (ip[0] & 0xf) >= 5) {
    l.ip = true;
    const uint16_t frag_offset = load_be16(ip + 6) & 0x1fff;
    l.l4_off = static_cast<uint16_t>(l.l3_off + (ip[0] & 0xf) * 4);
    l.l4_proto = ip[9];
    l.l4 = frag_offset == 0 && l.l4_off <= len;
  } else if (type == kEtherTypeIpv6 && len >= l.l3_off + 40u && (ip[0] >> 4) == 6) {
    l.ip = true;
    l.l4_off = static_cast<uint16_t>(l.l3_off + 40);
    l.l4_proto = ip[6];
    l.l4 = true;
  }
  return l;
}

void MatchShape::finish() {
  unsigned len = port ? 2 : 0;
  uint64_t h = mix(0, port ? 1 : 2);
  for (unsigned i = 0; i < n_steps; ++i) {
    const StepShape& s = steps[i];
    len += s.cmp_len;
    uint64_t w = static_cast<uint64_t>(s.kind) | uint64_t{s.cmp_len} << 8 |
                 uint64_t{s.vlan_index} << 16 | uint64_t{static_cast<uint8_t>(s.flag)} << 24 |
                 uint64_t{static_cast<uint8_t>(s.tags)} << 32 | uint64_t{s.l4_proto} << 40 |
                 uint64_t{s.ethertype} << 48;
    h = mix(h, w);
    for (unsigned j = 0; j < s.cmp_len; j += 8) {
      uint64_t m = 0;
      std::memcpy(&m, s.mask.data() + j, std::min(8u, kMaxHeader - j));
      h = mix(h, m);
    }
  }
  key_len = static_cast<uint8_t>(len);
  hash = h;
}

// A step has no padding, so its bytes compare as its fields do: one memcmp for the steps
// rather than one per field and mask (the classifier compares a shape per insert).
static_assert(std::has_unique_object_representations_v<StepShape>);

bool MatchShape::operator==(const MatchShape& o) const {
  if (port != o.port || n_steps != o.n_steps) return false;
  return std::memcmp(steps.data(), o.steps.data(), n_steps * sizeof(StepShape)) == 0;
}

uint64_t key_hash(const MatchKey& k, unsigned key_len) {
  uint64_t h = key_len;
  const unsigned n = round_to_word(key_len);
  for (unsigned i = 0; i < n; i += 8) {
    uint64_t w;
    std::memcpy(&w, k.bytes.data() + i, 8);
    h = mix(h, w);
  }
  return h;
}

bool frame_key(const MatchShape& shape, uint16_t in_port, const Layout& l, const uint8_t* p,
               uint32_t len, MatchKey& key) {
  unsigned at = 0;
  if (shape.port) {
    store_be16(key.bytes.data(), in_port);
    at = 2;
  }
  for (unsigned i = 0; i < shape.n_steps; ++i) {
    const StepShape& s = shape.steps[i];
    uint32_t off = 0;
    switch (s.kind) {
      case StepKind::eth:
        if (!l.eth) return false;
        if (s.flag >= 0 && (l.n_tags > 0) != (s.flag == 1)) return false;
        off = 0;
        break;
      case StepKind::vlan:
        if (!l.eth || l.n_tags <= s.vlan_index) return false;
        if (s.flag >= 0 && (l.n_tags > s.vlan_index + 1) != (s.flag == 1)) return false;
        off = kEthLen + 4u * s.vlan_index;
        break;
      case StepKind::l3:
        if (!l.eth || l.l3_type != s.ethertype) return false;
        // A NIC's parser recognises IP only in a whole fixed header.
        if ((s.ethertype == kEtherTypeIpv4 || s.ethertype == kEtherTypeIpv6) && !l.ip) return false;
        if (s.tags >= 0 && l.n_tags != s.tags) return false;
        off = l.l3_off;
        break;
      case StepKind::l4:
        if (!l.l4 || l.l4_proto != s.l4_proto) return false;
        if (len < l.l4_off + l4_header_len(s.l4_proto)) return false;  // whole fixed header
        if (s.ethertype != 0 && l.l3_type != s.ethertype) return false;
        off = l.l4_off;
        break;
    }
    if (len < off + s.cmp_len) return false;
    // A word at a time while whole words remain, so no byte past cmp_len is read.
    const uint8_t* from = p + off;
    const uint8_t* mask = s.mask.data();
    uint8_t* to = key.bytes.data() + at;
    unsigned j = 0;
    for (; j + 8 <= s.cmp_len; j += 8) {
      uint64_t v, m;
      std::memcpy(&v, from + j, 8);
      std::memcpy(&m, mask + j, 8);
      v &= m;
      std::memcpy(to + j, &v, 8);
    }
    for (; j < s.cmp_len; ++j) to[j] = from[j] & mask[j];
    at += s.cmp_len;
  }
  // Zero the rest of the last word: hashes and compares read whole words.
  for (unsigned end = round_to_word(at); at < end; ++at) key.bytes[at] = 0;
  return true;
}

}  // namespace vfs::drivers::sim
