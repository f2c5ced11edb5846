// offload/policy_eval.h owns the slow path's reading of a vEthernet's policy: the verdict
// on a frame at the port it came in on (VLAN admission, SPAN rx, input ACLs) and at each
// port it would leave by (output ACLs, untagging). The rule compiler
// (offload/rule_compiler.h) compiles the same policy into rules; both follow the frame
// view of offload/frame_layout.h and the ACL semantics of offload/acl_match.h, so the
// verdicts agree whichever handles a frame (tests/unit/offload/policy_differential_test).
// Pure and allocation-free: called per packet.
#pragma once

#include <array>
#include <cstdint>

#include "offload/drop_reason.h"
#include "offload/frame_layout.h"
#include "offload/policy.h"

namespace vfs::offload {

inline constexpr unsigned kMaxAclHits = 3;

// The ACL entry that decided (for per-entry statistics).
struct AclHit {
  const vsm::ResolvedAcl* acl = nullptr;
  uint32_t seq = 0;  // 0: the implicit deny
};

// Addresses bound to a port outside the snapshot: the slow path's DHCP snooping table
// (slowpath/dhcp_snooping.h), which admits a lease from the moment its DHCPACK passed,
// before the control plane republishes it as a source binding. Called per packet: an
// implementation must not allocate, lock or block.
class LeaseLookup {
 public:
  virtual bool leased(uint16_t port, uint16_t vid, const uint8_t* mac,
                      const uint8_t* ip4) const = 0;

 protected:
  ~LeaseLookup() = default;
};

// Source guard of a VF in `vid` (before its ACLs): DHCP server messages from the VM are
// dropped when it snoops DHCP (port security or `ip verify source`); with `ip verify
// source` on an access port, IPv4/IPv6 sources must be bound to the frame's source MAC
// (DHCP discovery from 0.0.0.0, IPv6 link-local and :: excepted), ARP senders must be
// the frame's source with a bound address, and ND advertisements may claim only bound
// or link-local targets. count_ = passes. leases (with the frame's port), when given,
// binds IPv4 addresses beyond v.source_bindings.
DropReason evaluate_source_guard(const vsm::ResolvedVeth& v, uint16_t vid, const FrameLayout& l,
                                 const uint8_t* p, uint32_t len,
                                 const LeaseLookup* leases = nullptr, uint16_t port = 0);
bool guards_sources(const vsm::ResolvedVeth& v);
bool snoops_dhcp(const vsm::ResolvedVeth& v);

struct IngressVerdict {
  bool admit = false;
  DropReason reason = DropReason::count_;  // when !admit
  uint16_t vid = 0;                        // the frame's VLAN
  bool tagged = false;                     // the frame carries a tag (uplink, trunk, priority tag)
  uint8_t n_hits = 0;
  std::array<AclHit, kMaxAclHits> hits{};
};

// Admission and input policy of a frame that came in on in_port. Mirrors are the caller's
// (PortPolicy::mirror_rx, once admitted). leases: see evaluate_source_guard.
IngressVerdict evaluate_ingress(const PolicySnapshot& policy, uint16_t in_port,
                                const FrameLayout& l, const uint8_t* p, uint32_t len,
                                const LeaseLookup* leases = nullptr);

struct EgressVerdict {
  bool deliver = false;
  DropReason reason = DropReason::count_;
  bool untag = false;  // the frame leaves untagged
  uint8_t n_hits = 0;
  std::array<AclHit, kMaxAclHits> hits{};
};

// Output policy of port out_port for a frame of VLAN vid (admits() already holds).
EgressVerdict evaluate_egress(const PolicySnapshot& policy, uint16_t out_port, uint16_t vid,
                              const FrameLayout& l, const uint8_t* p, uint32_t len);

}  // namespace vfs::offload
