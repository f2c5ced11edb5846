// offload/acl_match.h owns what an access-control entry means on a frame, twice over and
// in agreement: evaluate_acl() walks an ACL over a frame for the slow path, and
// ace_rule_matches() turns one entry into the rte_flow matches that select the same frames
// (port ranges become value/mask prefixes, `established` becomes ACK or RST). Both read
// the frame as offload/frame_layout.h describes it; tests/unit/offload check them against
// each other through the sim's rule table.
//
// What an ACL applies to: an IPv4 ACL to frames whose EtherType (after the tags) is IPv4,
// an IPv6 ACL to IPv6, a MAC ACL to every frame. Within it the first entry that matches
// (by sequence number) decides; a frame it applies to that no entry matches is denied
// (the implicit deny, reported as sequence 0) — a truncated IP header included, since it
// matches no entry. An entry with L4 conditions (ports, flags, ICMP type) matches only
// frames whose L4 header the layout found.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "offload/frame_layout.h"
#include "offload/rule_spec.h"
#include "vsm/dataplane.h"

namespace vfs::offload {

struct AclVerdict {
  bool applies = false;  // false: the ACL does not look at this frame (it passes)
  bool permit = true;
  uint32_t seq = 0;  // the deciding entry; 0 = the implicit deny
};

AclVerdict evaluate_acl(const vsm::ResolvedAcl& acl, const FrameLayout& l, const uint8_t* p,
                        uint32_t len);

// The EtherType an IP ACL applies to (IPv4 / IPv6); 0 for a MAC ACL (every frame).
uint16_t acl_ether_type(vsm::AclFamily f);

// The matches (L2/L3/L4 fields only: the caller adds port and VLAN) that together select
// exactly the frames the entry matches. Empty when it can match nothing (`lt 0`).
std::vector<RuleMatch> ace_rule_matches(const vsm::ResolvedAce& ace, vsm::AclFamily family);

// "ip:NAME", "ipv6:NAME", "mac:NAME": how counters and rules name an ACL.
std::string acl_key(const vsm::ResolvedAcl& acl);

// A vEthernet's six ACL slots (ip/ipv6/mac x in/out), numbered 0-5; -1 if acl is none of
// them.
int acl_slot(const vsm::ResolvedVeth& v, const vsm::ResolvedAcl* acl);
const vsm::ResolvedAcl* acl_in_slot(const vsm::ResolvedVeth& v, int slot);

// [lo, hi] as the fewest value/mask prefixes.
std::vector<U16Match> port_range_prefixes(uint16_t lo, uint16_t hi);

}  // namespace vfs::offload
