#include "vsm/acl.h"

#include <arpa/inet.h>

#include <charconv>
#include <vector>

#include <fmt/core.h>

#include "vsm/cli_tokens.h"

namespace vfs::vsm {
namespace {

constexpr int kTcp = 6;
constexpr int kUdp = 17;
constexpr int kIcmp = 1;
constexpr int kIcmpV6 = 58;

size_t addr_len(AclFamily f) { return f == AclFamily::ipv6 ? 16 : 4; }

std::optional<uint32_t> number(std::string_view tok, uint32_t max) {
  uint64_t v = 0;
  if (tok.empty() || tok.size() > 10) return std::nullopt;
  for (char c : tok)
    if (c < '0' || c > '9') return std::nullopt;
  std::from_chars(tok.data(), tok.data() + tok.size(), v);
  if (v > max) return std::nullopt;
  return static_cast<uint32_t>(v);
}

std::optional<std::array<uint8_t, 16>> parse_ip(std::string_view tok, AclFamily f) {
  std::array<uint8_t, 16> out{};
  std::string s(tok);
  if (::inet_pton(f == AclFamily::ipv6 ? AF_INET6 : AF_INET, s.c_str(), out.data()) != 1)
    return std::nullopt;
  return out;
}

std::string format_ip(const std::array<uint8_t, 16>& a, AclFamily f) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(f == AclFamily::ipv6 ? AF_INET6 : AF_INET, a.data(), buf, sizeof(buf));
  return buf;
}

std::array<uint8_t, 16> prefix_mask(uint8_t len) {
  std::array<uint8_t, 16> m{};
  for (size_t i = 0; i < 16 && len > 0; ++i) {
    uint8_t bits = len >= 8 ? 8 : len;
    m[i] = static_cast<uint8_t>(0xff00u >> bits);
    len = static_cast<uint8_t>(len - bits);
  }
  return m;
}

// The match mask: 1 bits must equal addr.
std::array<uint8_t, 16> match_mask(const AclAddress& a, AclFamily f) {
  std::array<uint8_t, 16> m{};
  switch (a.form) {
    case AclAddress::Form::any:
      break;
    case AclAddress::Form::host:
      for (size_t i = 0; i < addr_len(f); ++i) m[i] = 0xff;
      break;
    case AclAddress::Form::prefix:
      m = prefix_mask(a.prefix_len);
      break;
    case AclAddress::Form::wildcard:
      for (size_t i = 0; i < addr_len(f); ++i) m[i] = static_cast<uint8_t>(~a.wildcard[i]);
      break;
  }
  return m;
}

class Words {
 public:
  explicit Words(std::string_view text) {
    size_t pos = 0;
    for (Token t = next_token(text, pos); !t.text.empty(); t = next_token(text, pos))
      words_.push_back(t.text);
  }
  bool done() const { return i_ >= words_.size(); }
  std::string_view peek() const { return done() ? std::string_view() : words_[i_]; }
  std::string_view take() { return done() ? std::string_view() : words_[i_++]; }
  bool take_if(std::string_view kw) {
    if (done() || !iequals(words_[i_], kw)) return false;
    ++i_;
    return true;
  }

 private:
  std::vector<std::string_view> words_;
  size_t i_ = 0;
};

Error bad(std::string_view tok, std::string_view expected) {
  if (tok.empty()) return make_error(EINVAL, "Incomplete access-list entry: expected {}", expected);
  return make_error(EINVAL, "Invalid access-list entry at '{}': expected {}", tok, expected);
}

Result<AclAddress> parse_address(Words& w, AclFamily f) {
  AclAddress a;
  if (w.take_if("any")) return a;
  const char* what = f == AclFamily::ipv6 ? "any, host ADDRESS or ADDRESS/LEN"
                                          : "any, host ADDRESS, ADDRESS/LEN or ADDRESS WILDCARD";
  if (w.take_if("host")) {
    auto tok = w.take();
    auto ip = parse_ip(tok, f);
    if (!ip) return bad(tok, "an address after host");
    a.form = AclAddress::Form::host;
    a.addr = *ip;
    return a;
  }
  auto tok = w.take();
  size_t slash = tok.find('/');
  if (slash != std::string_view::npos) {
    auto ip = parse_ip(tok.substr(0, slash), f);
    auto len = number(tok.substr(slash + 1), static_cast<uint32_t>(addr_len(f) * 8));
    if (!ip || !len) return bad(tok, what);
    a.form = AclAddress::Form::prefix;
    a.prefix_len = static_cast<uint8_t>(*len);
    auto m = prefix_mask(a.prefix_len);
    for (size_t i = 0; i < 16; ++i) a.addr[i] = (*ip)[i] & m[i];
    return a;
  }
  auto ip = parse_ip(tok, f);
  if (!ip || f == AclFamily::ipv6) return bad(tok, what);
  auto wtok = w.take();
  auto wc = parse_ip(wtok, f);
  if (!wc) return bad(wtok, "a wildcard mask after the address");
  a.form = AclAddress::Form::wildcard;
  a.wildcard = *wc;
  for (size_t i = 0; i < 16; ++i) a.addr[i] = static_cast<uint8_t>((*ip)[i] & ~a.wildcard[i]);
  return a;
}

Result<AclPorts> parse_ports(Words& w) {
  AclPorts p;
  static const std::pair<const char*, PortMatch::Op> ops[] = {{"eq", PortMatch::Op::eq},
                                                              {"neq", PortMatch::Op::neq},
                                                              {"lt", PortMatch::Op::lt},
                                                              {"gt", PortMatch::Op::gt},
                                                              {"range", PortMatch::Op::range}};
  for (const auto& [kw, op] : ops) {
    if (!w.take_if(kw)) continue;
    p.op = op;
    auto tok = w.take();
    auto lo = number(tok, 65535);
    if (!lo) return bad(tok, "a port number 0-65535");
    p.lo = static_cast<uint16_t>(*lo);
    if (op == PortMatch::Op::range) {
      auto htok = w.take();
      auto hi = number(htok, 65535);
      if (!hi || *hi < *lo) return bad(htok, "the last port of the range (not below the first)");
      p.hi = static_cast<uint16_t>(*hi);
    }
    return p;
  }
  return p;
}

std::string render_address(const AclAddress& a, AclFamily f) {
  switch (a.form) {
    case AclAddress::Form::any:
      return "any";
    case AclAddress::Form::host:
      return "host " + format_ip(a.addr, f);
    case AclAddress::Form::prefix:
      return fmt::format("{}/{}", format_ip(a.addr, f), a.prefix_len);
    case AclAddress::Form::wildcard:
      return fmt::format("{} {}", format_ip(a.addr, f), format_ip(a.wildcard, f));
  }
  return "any";
}

std::string render_ports(const AclPorts& p) {
  switch (p.op) {
    case PortMatch::Op::any:
      return "";
    case PortMatch::Op::eq:
      return fmt::format(" eq {}", p.lo);
    case PortMatch::Op::neq:
      return fmt::format(" neq {}", p.lo);
    case PortMatch::Op::lt:
      return fmt::format(" lt {}", p.lo);
    case PortMatch::Op::gt:
      return fmt::format(" gt {}", p.lo);
    case PortMatch::Op::range:
      return fmt::format(" range {} {}", p.lo, p.hi);
  }
  return "";
}

int icmp_protocol(AclFamily f) { return f == AclFamily::ipv6 ? kIcmpV6 : kIcmp; }

Result<MacMatch> parse_mac_match(Words& w) {
  MacMatch m;
  if (w.take_if("any")) return m;
  if (w.take_if("host")) {
    auto tok = w.take();
    auto mac = parse_mac(tok);
    if (!mac) return bad(tok, "a MAC address (EEEE.EEEE.EEEE) after host");
    m.form = MacMatch::Form::host;
    m.addr = *mac;
    return m;
  }
  auto tok = w.take();
  auto mac = parse_mac(tok);
  if (!mac) return bad(tok, "any, host MAC or MAC MASK (EEEE.EEEE.EEEE)");
  auto mtok = w.take();
  auto mask = parse_mac(mtok);
  if (!mask) return bad(mtok, "a MAC mask (EEEE.EEEE.EEEE, 1 bits ignored) after the address");
  m.form = MacMatch::Form::masked;
  m.wildcard = *mask;
  for (size_t i = 0; i < 6; ++i) m.addr[i] = static_cast<uint8_t>((*mac)[i] & ~m.wildcard[i]);
  return m;
}

std::string render_mac_match(const MacMatch& m) {
  switch (m.form) {
    case MacMatch::Form::any:
      return "any";
    case MacMatch::Form::host:
      return "host " + format_mac(m.addr);
    case MacMatch::Form::masked:
      return format_mac(m.addr) + " " + format_mac(m.wildcard);
  }
  return "any";
}

MacBytes mac_match_mask(const MacMatch& m) {
  MacBytes out{};
  if (m.form == MacMatch::Form::host) out.fill(0xff);
  if (m.form == MacMatch::Form::masked) {
    for (size_t i = 0; i < 6; ++i) out[i] = static_cast<uint8_t>(~m.wildcard[i]);
  }
  return out;
}

// 0xHHHH (at least 0x0600: below are 802.3 lengths) or a name NX-OS knows.
std::optional<int> parse_ethertype(std::string_view tok) {
  static const std::pair<const char*, int> names[] = {
      {"ip", 0x0800}, {"arp", 0x0806}, {"ipv6", 0x86dd}, {"rarp", 0x8035}};
  for (const auto& [n, v] : names)
    if (iequals(tok, n)) return v;
  if (tok.size() < 3 || tok.size() > 6 || tok[0] != '0' || (tok[1] != 'x' && tok[1] != 'X'))
    return std::nullopt;
  int v = 0;
  for (char c : tok.substr(2)) {
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (d < 0) return std::nullopt;
    v = v * 16 + d;
  }
  if (v < 0x0600) return std::nullopt;
  return v;
}

Result<AclEntry> parse_mac_entry(bool permit, std::string_view text) {
  Words w(text);
  AclEntry e;
  e.permit = permit;
  auto src = parse_mac_match(w);
  if (!src) return src.error();
  e.src_mac = *src;
  auto dst = parse_mac_match(w);
  if (!dst) return dst.error();
  e.dst_mac = *dst;
  if (!w.done()) {
    auto tok = w.take();
    auto type = parse_ethertype(tok);
    if (!type) return bad(tok, "an EtherType (0x0600-0xffff, ip, arp, ipv6, rarp) or the end");
    e.ethertype = *type;
  }
  if (!w.done()) return bad(w.peek(), "the end of the entry");
  return e;
}

}  // namespace

std::string_view acl_family_keyword(AclFamily f) {
  return f == AclFamily::ipv6 ? "ipv6" : f == AclFamily::mac ? "mac" : "ip";
}

Result<AclEntry> parse_acl_entry(bool permit, std::string_view text, AclFamily f) {
  if (f == AclFamily::mac) return parse_mac_entry(permit, text);
  Words w(text);
  AclEntry e;
  e.permit = permit;
  const std::string_view any_kw = acl_family_keyword(f);
  auto proto = w.take();
  if (iequals(proto, any_kw)) {
    e.protocol = -1;
  } else if (iequals(proto, "tcp")) {
    e.protocol = kTcp;
  } else if (iequals(proto, "udp")) {
    e.protocol = kUdp;
  } else if (iequals(proto, "icmp")) {
    e.protocol = icmp_protocol(f);
  } else if (auto n = number(proto, 255)) {
    e.protocol = static_cast<int>(*n);
  } else {
    return bad(proto, fmt::format("a protocol ({}, tcp, udp, icmp or 0-255)", any_kw));
  }
  const bool l4 = e.protocol == kTcp || e.protocol == kUdp;
  auto src = parse_address(w, f);
  if (!src) return src.error();
  e.src = *src;
  if (l4) {
    auto p = parse_ports(w);
    if (!p) return p.error();
    e.src_ports = *p;
  }
  auto dst = parse_address(w, f);
  if (!dst) return dst.error();
  e.dst = *dst;
  if (l4) {
    auto p = parse_ports(w);
    if (!p) return p.error();
    e.dst_ports = *p;
  }
  if (e.protocol == icmp_protocol(f) && !w.done()) {
    auto tok = w.take();
    auto t = number(tok, 255);
    if (!t) return bad(tok, "an ICMP type 0-255 or the end of the entry");
    e.icmp_type = static_cast<int>(*t);
    if (!w.done()) {
      auto ctok = w.take();
      auto c = number(ctok, 255);
      if (!c) return bad(ctok, "an ICMP code 0-255 or the end of the entry");
      e.icmp_code = static_cast<int>(*c);
    }
  }
  if (e.protocol == kTcp && w.take_if("established")) e.established = true;
  if (!w.done()) return bad(w.peek(), "the end of the entry");
  return e;
}

std::string render_acl_entry(const AclEntry& e, AclFamily f) {
  std::string out = e.permit ? "permit " : "deny ";
  if (f == AclFamily::mac) {
    out += render_mac_match(e.src_mac) + ' ' + render_mac_match(e.dst_mac);
    if (e.ethertype >= 0) out += fmt::format(" 0x{:04x}", e.ethertype);
    return out;
  }
  if (e.protocol < 0)
    out += acl_family_keyword(f);
  else if (e.protocol == kTcp)
    out += "tcp";
  else if (e.protocol == kUdp)
    out += "udp";
  else if (e.protocol == icmp_protocol(f))
    out += "icmp";
  else
    out += std::to_string(e.protocol);
  out += ' ' + render_address(e.src, f) + render_ports(e.src_ports);
  out += ' ' + render_address(e.dst, f) + render_ports(e.dst_ports);
  if (e.icmp_type >= 0) out += fmt::format(" {}", e.icmp_type);
  if (e.icmp_code >= 0) out += fmt::format(" {}", e.icmp_code);
  if (e.established) out += " established";
  return out;
}

ResolvedAcl resolve_acl(const AccessList& acl) {
  ResolvedAcl r;
  r.name = acl.name;
  r.family = acl.family;
  r.statistics_per_entry = acl.statistics_per_entry;
  for (const auto& [seq, e] : acl.entries) {
    ResolvedAce a;
    a.seq = seq;
    a.permit = e.permit;
    a.protocol = e.protocol;
    a.src = {e.src.addr, match_mask(e.src, acl.family)};
    a.dst = {e.dst.addr, match_mask(e.dst, acl.family)};
    a.src_port = {e.src_ports.op, e.src_ports.lo, e.src_ports.hi};
    a.dst_port = {e.dst_ports.op, e.dst_ports.lo, e.dst_ports.hi};
    a.icmp_type = e.icmp_type;
    a.icmp_code = e.icmp_code;
    a.established = e.established;
    if (acl.family == AclFamily::mac) {
      a.src = {};
      a.dst = {};
      a.src_mac = e.src_mac.addr;
      a.src_mac_mask = mac_match_mask(e.src_mac);
      a.dst_mac = e.dst_mac.addr;
      a.dst_mac_mask = mac_match_mask(e.dst_mac);
      a.ethertype = e.ethertype;
    }
    r.entries.push_back(a);
  }
  return r;
}

Result<void> resequence_acl(AccessList& acl, uint32_t start, uint32_t step) {
  if (!acl.entries.empty() &&
      (static_cast<uint64_t>(acl.entries.size() - 1) * step + start > kMaxAclSeq))
    return make_error(ERANGE, "resequencing {} access-list {} from {} by {} exceeds {}",
                      acl_family_keyword(acl.family), acl.name, start, step, kMaxAclSeq);
  std::map<uint32_t, AclEntry> renumbered;
  uint32_t seq = start;
  for (auto& [old, e] : acl.entries) {
    renumbered[seq] = std::move(e);
    seq += step;
  }
  acl.entries = std::move(renumbered);
  return ok();
}

}  // namespace vfs::vsm
