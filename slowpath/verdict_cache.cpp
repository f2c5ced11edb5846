#include "slowpath/verdict_cache.h"

#include <bit>
#include <cstring>

#include "slowpath/packet_parser.h"

namespace vfs::slowpath {
namespace {

template <typename T>
uint64_t load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Whole-key equality without a call to memcmp.
bool same_key(const FlowKey& a, const FlowKey& b) {
  uint64_t d = 0;
  for (size_t i = 0; i < a.w.size(); ++i) d |= a.w[i] ^ b.w[i];
  return d == 0;
}

bool dhcp_port(uint16_t port, bool v6) {
  return v6 ? port == 546 || port == 547 : port == 67 || port == 68;
}

}  // namespace

bool flow_key(uint16_t in_port, const offload::FrameLayout& l, const uint8_t* p, uint32_t len,
              FlowKey* key) {
  if (!l.eth || len < 14) return false;
  const uint16_t et = l.ether_type;
  if (et == offload::kEtherArp) return false;
  const bool ip_type = et == offload::kEtherIpv4 || et == offload::kEtherIpv6;
  if (ip_type && !l.ip) return false;
  const uint8_t* l4 = p + l.l4_off;
  if (l.l4) {
    if (l.ip_proto == kIpProtoUdp &&
        (dhcp_port(offload::be16(l4), l.v6) || dhcp_port(offload::be16(l4 + 2), l.v6)))
      return false;
    if (l.v6 && l.ip_proto == kIpProtoIcmpv6 && l4[0] >= 133 && l4[0] <= 137) return false;  // ND
  }
  // Each word is built in a register and stored whole, straight into *key: byte-wise
  // stores (or a stack copy) read back as wider words stall store-to-load forwarding,
  // which cost more than the rest of the lookup.
  uint64_t* w = key->w.data();
  w[3] = w[4] = w[5] = w[6] = w[7] = 0;
  w[0] = load<uint64_t>(p);  // destination MAC, source MAC's first two bytes
  w[1] = load<uint32_t>(p + 8) | uint64_t{in_port} << 32 | uint64_t{et} << 48;
  w[2] = l.tpid0 | uint64_t{l.vid0} << 16 | uint64_t{l.n_tags} << 32 |
         uint64_t{static_cast<uint8_t>((l.ip ? 1 : 0) | (l.v6 ? 2 : 0) | (l.l4 ? 4 : 0))} << 40;
  if (l.ip) {
    w[2] |= uint64_t{l.ip_proto} << 48;
    const uint8_t* ip = p + l.l3_off;
    if (l.v6) {
      w[4] = load<uint64_t>(ip + 8);
      w[5] = load<uint64_t>(ip + 16);
      w[6] = load<uint64_t>(ip + 24);
      w[7] = load<uint64_t>(ip + 32);
    } else {
      w[4] = load<uint32_t>(ip + 12);
      w[6] = load<uint32_t>(ip + 16);
    }
    if (l.l4) {
      if (l.ip_proto == kIpProtoTcp || l.ip_proto == kIpProtoUdp) {
        w[3] = load<uint32_t>(l4);  // both ports
        if (l.ip_proto == kIpProtoTcp)
          w[2] |= uint64_t{static_cast<uint8_t>(l4[13] & kTcpFlagsEstablished)} << 56;
      } else {
        w[3] = load<uint16_t>(l4);  // ICMP type and code
      }
    }
  }
  return true;
}

uint64_t flow_hash(const FlowKey& key) {
  // The words folded with distinct rotations, then one 64x64->128 multiply: a multiply per
  // word was a twentieth of the slow path's time. A collision costs a miss, never a wrong
  // verdict (find() compares whole keys).
  uint64_t a =
      key.w[0] ^ std::rotl(key.w[2], 17) ^ std::rotl(key.w[4], 31) ^ std::rotl(key.w[6], 47);
  uint64_t b =
      key.w[1] ^ std::rotl(key.w[3], 13) ^ std::rotl(key.w[5], 29) ^ std::rotl(key.w[7], 43);
  const unsigned __int128 m =
      static_cast<unsigned __int128>(a ^ 0x9e3779b97f4a7c15ULL) * (b ^ 0xc2b2ae3d27d4eb4fULL);
  return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
}

VerdictCache::VerdictCache(size_t entries) {
  if (entries == 0) return;
  const size_t n = std::bit_ceil(entries < 2 ? size_t{2} : entries);
  entries_ = std::make_unique<Entry[]>(n);
  mask_ = n - 1;
}

CachedVerdict& VerdictCache::find(const FlowKey& key, uint64_t hash, bool* hit) {
  // Two ways per set: a flow is in slot set or set + 1.
  Entry* set = &entries_[hash & mask_ & ~size_t{1}];
  for (int i = 0; i < 2; ++i) {
    Entry& e = set[i];
    if (e.epoch == epoch_ && e.hash == hash && same_key(e.key, key)) {
      bump(stats_.hits);
      *hit = true;
      return e.v;
    }
  }
  bump(stats_.misses);
  *hit = false;
  Entry* victim = set[0].epoch != epoch_   ? &set[0]
                  : set[1].epoch != epoch_ ? &set[1]
                                           : &set[victim_++ & 1];
  if (victim->epoch == epoch_) bump(stats_.evictions);
  victim->key = key;
  victim->hash = hash;
  victim->epoch = epoch_;
  victim->v.out_port = -1;
  victim->v.fdb_valid = false;
  return victim->v;
}

CachedVerdict& VerdictCache::ingress(const offload::PolicySnapshot& policy, uint16_t in_port,
                                     const offload::FrameLayout& l, const uint8_t* p, uint32_t len,
                                     const offload::LeaseLookup* leases, bool* fresh) {
  FlowKey key;
  bool hit = false;
  CachedVerdict* v = &uncached_;
  if (!entries_)
    bump(stats_.misses);
  else if (flow_key(in_port, l, p, len, &key))
    v = &find(key, flow_hash(key), &hit);
  else
    bump(stats_.bypassed);
  *fresh = !hit;
  if (!hit) {
    v->in = offload::evaluate_ingress(policy, in_port, l, p, len, leases);
    v->out_port = -1;
    v->fdb_valid = false;
  }
  return *v;
}

const offload::EgressVerdict& VerdictCache::egress(CachedVerdict& v,
                                                   const offload::PolicySnapshot& policy,
                                                   uint16_t out_port, const offload::FrameLayout& l,
                                                   const uint8_t* p, uint32_t len, bool* fresh) {
  *fresh = v.out_port != out_port;
  if (*fresh) {
    v.eg = offload::evaluate_egress(policy, out_port, v.in.vid, l, p, len);
    v.out_port = out_port;
  }
  return v.eg;
}

void VerdictCache::invalidate() {
  ++epoch_;
  bump(stats_.invalidations);
}

}  // namespace vfs::slowpath
