// tests/unit/slowpath/verdict_equal.h: whether two policy verdicts say the same thing
// (admission or delivery, reason, VLAN, tagging and the ACL entries hit), for the slow
// path's tests that decide a frame two ways.
#pragma once

#include <array>

#include "offload/policy_eval.h"

namespace vfs::test {

inline bool same_hits(uint8_t n, const std::array<offload::AclHit, offload::kMaxAclHits>& a,
                      const std::array<offload::AclHit, offload::kMaxAclHits>& b) {
  for (uint8_t i = 0; i < n; ++i)
    if (a[i].acl != b[i].acl || a[i].seq != b[i].seq) return false;
  return true;
}

inline bool same(const offload::IngressVerdict& a, const offload::IngressVerdict& b) {
  return a.admit == b.admit && a.reason == b.reason && a.vid == b.vid && a.tagged == b.tagged &&
         a.n_hits == b.n_hits && same_hits(a.n_hits, a.hits, b.hits);
}

inline bool same(const offload::EgressVerdict& a, const offload::EgressVerdict& b) {
  return a.deliver == b.deliver && a.reason == b.reason && a.untag == b.untag &&
         a.n_hits == b.n_hits && same_hits(a.n_hits, a.hits, b.hits);
}

}  // namespace vfs::test
