// slowpath/verdict_cache.h owns the slow path's per-flow verdict cache (OVS's exact-match
// cache is the model): what offload::evaluate_ingress / evaluate_egress decided for a flow,
// keyed on the in-port and every header field the policy can read, so that the frames of
// a flow after the first skip the ACL walks. Fixed size and preallocated: a lookup or
// insert allocates nothing, takes no lock and makes no syscall. Single-threaded (the
// slow-path thread's).
//
// What may be cached: flow_key() decides. The key holds, as the policy reads them
// (offload/frame_layout.h, offload/acl_match.h, offload/policy_eval.h): the in-port, both
// MAC addresses, the first tag's TPID and VID, the tag count, the EtherType, whether the
// layout found IP / IPv6 / L4, the IP protocol, both IP addresses, the TCP/UDP ports, the
// TCP ACK and RST bits (what `established` reads), ICMP type and code. Fields outside it
// (IPv4 ID, checksums, lengths, TTL, payload) never change a verdict. Frames whose verdict
// depends on more than that bypass the cache: ARP (ARP inspection reads its body), IPv6
// ND (ND inspection reads the target), DHCP and DHCPv6 (snooping), frames too short for
// an Ethernet header, and IPv4/IPv6 frames whose IP header the layout rejected.
//
// Invalidation is wholesale (invalidate(): an epoch bump, O(1)): the caller does it when
// the policy snapshot changes and when its DHCP lease table (IP source guard's bindings
// beyond the snapshot) changes. Egress verdicts also depend on the out-port and VLAN; an
// entry holds the one for the last out-port its flow was sent to (the VLAN is a function
// of the key under one policy).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "offload/frame_layout.h"
#include "offload/policy_eval.h"
#include "slowpath/fdb.h"

namespace vfs::slowpath {

struct FlowKey {
  std::array<uint64_t, 8> w{};
  bool operator==(const FlowKey&) const = default;
};

// Fills *key from the frame that came in on in_port; false when the frame must bypass the
// cache (see above). l is frame_layout(p, len).
bool flow_key(uint16_t in_port, const offload::FrameLayout& l, const uint8_t* p, uint32_t len,
              FlowKey* key);

uint64_t flow_hash(const FlowKey& key);

// The per-entry statistics counters an ACL hit bumps, resolved once per verdict by the
// caller (nullptr: none).
using AceCounters = std::array<std::atomic<uint64_t>*, offload::kMaxAclHits>;

struct CachedVerdict {
  offload::IngressVerdict in;
  AceCounters in_counters{};
  int32_t out_port = -1;  // the port `eg` was evaluated for; -1: none yet
  offload::EgressVerdict eg;
  AceCounters eg_counters{};
  // The caller's FDB answers for the flow's last admitted frame, which hold while the
  // FDB's version() is still fdb_version: the source learned on the in-port (src_learned;
  // src, its entry, to refresh), or a multicast source never learned, and the
  // destination's port (dst_port; -1: flooded). fdb_valid false: none (a new entry).
  bool fdb_valid = false;
  bool src_learned = false;
  int32_t dst_port = -1;
  Fdb::Ref src{};
  uint64_t fdb_version = 0;
};

// Written by the cache's thread only; read by anyone (relaxed).
struct VerdictCacheStats {
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> misses{0};     // cacheable frames not found (then inserted)
  std::atomic<uint64_t> bypassed{0};   // frames flow_key() refused (counted by the caller)
  std::atomic<uint64_t> evictions{0};  // a live entry made room for another flow
  std::atomic<uint64_t> invalidations{0};
};

class VerdictCache {
 public:
  // entries is rounded up to a power of two, at least 2 (two ways per set); 0 makes no
  // cache: every frame is evaluated (and counted as a miss), as a reference for tests.
  explicit VerdictCache(size_t entries);

  // The verdicts of the frame (l = frame_layout(p, len)) that came in on in_port, under
  // policy and leases: the entry of its flow, its `in` evaluated now unless cached. *fresh:
  // `in` was evaluated now (the caller resolves in_counters). A frame that bypasses the
  // cache gets a scratch entry. Valid until the next call of ingress() or find().
  CachedVerdict& ingress(const offload::PolicySnapshot& policy, uint16_t in_port,
                         const offload::FrameLayout& l, const uint8_t* p, uint32_t len,
                         const offload::LeaseLookup* leases, bool* fresh);
  // The egress verdict at out_port of the frame whose ingress() entry is v (same frame,
  // same policy): cached in v for the last out_port asked. *fresh: evaluated now (the
  // caller resolves v.eg_counters).
  const offload::EgressVerdict& egress(CachedVerdict& v, const offload::PolicySnapshot& policy,
                                       uint16_t out_port, const offload::FrameLayout& l,
                                       const uint8_t* p, uint32_t len, bool* fresh);

  // The entry of key: *hit tells whether it holds key's verdicts; when not, the entry is
  // key's now, with out_port -1, and the caller must fill `in` (and the counters). The
  // reference is valid until the next find() or ingress(). Only with capacity() > 0.
  CachedVerdict& find(const FlowKey& key, uint64_t hash, bool* hit);
  // False for the scratch entry of a frame that bypassed the cache.
  bool cached(const CachedVerdict& v) const { return &v != &uncached_; }
  // Forgets every entry (O(1)).
  void invalidate();
  // Changes at each invalidate(): a verdict taken from the cache holds while it stays.
  uint64_t epoch() const { return epoch_; }

  size_t capacity() const { return entries_ ? mask_ + 1 : 0; }
  const VerdictCacheStats& stats() const { return stats_; }

 private:
  static void bump(std::atomic<uint64_t>& a) {
    a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // one writer
  }
  struct Entry {
    FlowKey key;
    uint64_t epoch = 0;  // live iff == epoch_
    uint64_t hash = 0;
    CachedVerdict v;
  };
  std::unique_ptr<Entry[]> entries_;
  size_t mask_;         // entries - 1
  uint64_t epoch_ = 1;  // entries start dead (epoch 0)
  uint64_t victim_ = 0;
  VerdictCacheStats stats_;
  CachedVerdict uncached_;  // a bypassing frame's
};

}  // namespace vfs::slowpath
