// vsm/acl.h owns access lists as the configuration knows them: `ip access-list`,
// `ipv6 access-list` and `mac access-list` with sequenced entries in the form they were
// typed (any / host / prefix / wildcard; for MACs any / host / address with mask), the parser of an
// entry's text, its canonical rendering (what running-config prints, which parses back to the same
// entry) and its resolution into the datapath's ResolvedAce.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/result.h"
#include "vsm/dataplane.h"
#include "vsm/mac_address.h"

namespace vfs::vsm {

struct AclAddress {
  enum class Form : uint8_t { any, host, prefix, wildcard };
  Form form = Form::any;
  std::array<uint8_t, 16> addr{};      // host bits cleared (prefix / wildcard)
  uint8_t prefix_len = 0;              // Form::prefix
  std::array<uint8_t, 16> wildcard{};  // Form::wildcard (IPv4 only): 1 bits are ignored
  bool operator==(const AclAddress&) const = default;
};

struct AclPorts {
  PortMatch::Op op = PortMatch::Op::any;
  uint16_t lo = 0;
  uint16_t hi = 0;  // range only
  bool operator==(const AclPorts&) const = default;
};

// A MAC ACL address: `any`, `host MAC` or `MAC MASK` where, as in NX-OS, the 1 bits of
// MASK are ignored (like an IP wildcard); addr has them cleared.
struct MacMatch {
  enum class Form : uint8_t { any, host, masked };
  Form form = Form::any;
  MacBytes addr{};
  MacBytes wildcard{};  // Form::masked
  bool operator==(const MacMatch&) const = default;
};

// IP: `permit|deny PROTO SRC [PORTS] DST [PORTS] [ICMP-TYPE [CODE]] [established]`
// MAC: `permit|deny SRC DST [ETHERTYPE]`
struct AclEntry {
  bool permit = false;
  int protocol = -1;  // -1 = `ip` / `ipv6` (any)
  AclAddress src, dst;
  AclPorts src_ports, dst_ports;  // tcp / udp
  int icmp_type = -1;             // icmp; -1 = any
  int icmp_code = -1;
  bool established = false;   // tcp
  MacMatch src_mac, dst_mac;  // MAC ACLs
  int ethertype = -1;         // MAC ACLs; -1 = any
  bool operator==(const AclEntry&) const = default;
};

struct AccessList {
  std::string name;
  AclFamily family = AclFamily::ipv4;
  bool statistics_per_entry = false;
  std::map<uint32_t, AclEntry> entries;  // by sequence number
  bool operator==(const AccessList&) const = default;
};

inline constexpr uint32_t kAclSeqStep = 10;
inline constexpr uint32_t kMaxAclSeq = 4294967295u;

// Parses the words after permit/deny. The error names the offending word.
Result<AclEntry> parse_acl_entry(bool permit, std::string_view text, AclFamily family);

// "permit tcp 10.0.0.0/8 any eq 80" — parse_acl_entry of it gives the entry back.
std::string render_acl_entry(const AclEntry& e, AclFamily family);

// "ip" / "ipv6" / "mac": the keyword of the family in commands.
std::string_view acl_family_keyword(AclFamily f);

ResolvedAcl resolve_acl(const AccessList& acl);

// Renumbers from start in steps of step; refused if the numbers would overflow.
Result<void> resequence_acl(AccessList& acl, uint32_t start, uint32_t step);

}  // namespace vfs::vsm
