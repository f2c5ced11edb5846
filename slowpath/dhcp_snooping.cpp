#include "slowpath/dhcp_snooping.h"

#include <algorithm>
#include <cstring>

namespace vfs::slowpath {
namespace {

constexpr size_t kBootpFixedLen = 236;  // op .. file
constexpr size_t kCookieOff = 236;
constexpr size_t kOptionsOff = 240;
constexpr uint8_t kCookie[4] = {0x63, 0x82, 0x53, 0x63};
constexpr uint8_t kOptPad = 0;
constexpr uint8_t kOptEnd = 255;
constexpr uint8_t kOptRequestedIp = 50;
constexpr uint8_t kOptLease = 51;
constexpr uint8_t kOptMessageType = 53;

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t rd32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

}  // namespace

DhcpParse parse_dhcp(const uint8_t* p, size_t len, DhcpMessage* out) noexcept {
  *out = DhcpMessage{};
  if (p == nullptr || len < kOptionsOff) return DhcpParse::malformed;
  static_assert(kBootpFixedLen + 4 == kOptionsOff);
  if (std::memcmp(p + kCookieOff, kCookie, 4) != 0) return DhcpParse::malformed;  // BOOTP only
  out->op = p[0];
  if ((out->op != 1 && out->op != 2) || p[1] != 1 || p[2] != 6) return DhcpParse::malformed;
  std::memcpy(out->ciaddr.data(), p + 12, 4);
  std::memcpy(out->yiaddr.data(), p + 16, 4);
  std::memcpy(out->chaddr.data(), p + 28, 6);
  // Options: code, length, value; pad and end stand alone. Every option must end inside
  // the payload, an END must close them, and the ones snooping reads must be well-formed
  // and appear once.
  bool ended = false;
  for (size_t off = kOptionsOff; off < len;) {
    const uint8_t code = p[off];
    if (code == kOptPad) {
      ++off;
      continue;
    }
    if (code == kOptEnd) {
      ended = true;
      break;
    }
    if (len - off < 2) return DhcpParse::malformed;
    const size_t olen = p[off + 1];
    if (len - off - 2 < olen) return DhcpParse::malformed;
    const uint8_t* v = p + off + 2;
    switch (code) {
      case kOptMessageType:
        if (olen != 1 || out->type != DhcpType::none || v[0] < 1 || v[0] > 8)
          return DhcpParse::malformed;
        out->type = static_cast<DhcpType>(v[0]);
        break;
      case kOptLease:
        if (olen != 4 || out->has_lease) return DhcpParse::malformed;
        out->has_lease = true;
        out->lease_s = rd32(v);
        break;
      case kOptRequestedIp:
        if (olen != 4 || out->has_requested_ip) return DhcpParse::malformed;
        out->has_requested_ip = true;
        std::memcpy(out->requested_ip.data(), v, 4);
        break;
      default:
        break;
    }
    off += 2 + olen;
  }
  if (!ended || out->type == DhcpType::none) return DhcpParse::malformed;
  // A server's message is a reply, a client's a request.
  const bool from_server =
      out->type == DhcpType::offer || out->type == DhcpType::ack || out->type == DhcpType::nak;
  if (from_server != (out->op == 2)) return DhcpParse::malformed;
  return DhcpParse::ok;
}

bool dhcp_payload(const uint8_t* frame, uint32_t len, uint32_t l3_off, uint16_t from_port,
                  uint16_t to_port, const uint8_t** payload, size_t* payload_len, bool* bad) {
  *bad = false;
  if (l3_off > len || len - l3_off < 20) return false;
  const uint8_t* ip = frame + l3_off;
  if ((ip[0] >> 4) != 4 || ip[9] != 17) return false;
  const uint32_t ihl = (ip[0] & 0x0fu) * 4;
  const uint32_t total = rd16(ip + 2);
  if ((rd16(ip + 6) & 0x1fff) != 0) return false;  // not the first fragment: no UDP header
  if (ihl < 20 || total < ihl + 8 || total > len - l3_off) {
    *bad = true;
    return false;
  }
  const uint8_t* udp = ip + ihl;
  if (rd16(udp) != from_port || rd16(udp + 2) != to_port) return false;
  if ((rd16(ip + 6) & 0x2000) != 0) {  // a fragmented DHCP message: not snooped whole
    *bad = true;
    return false;
  }
  const uint32_t ulen = rd16(udp + 4);
  if (ulen < 8 || ulen > total - ihl) {
    *bad = true;
    return false;
  }
  *payload = udp + 8;
  *payload_len = ulen - 8;
  return true;
}

const char* dhcp_event_cause_name(DhcpBindingEvent::Cause c) {
  switch (c) {
    case DhcpBindingEvent::ack:
      return "DHCPACK";
    case DhcpBindingEvent::nak:
      return "DHCPNAK";
    case DhcpBindingEvent::release:
      return "DHCPRELEASE";
    case DhcpBindingEvent::decline:
      return "DHCPDECLINE";
    case DhcpBindingEvent::expired:
      return "lease expired";
    case DhcpBindingEvent::port_cleared:
      return "snooping off on the vEthernet";
    case DhcpBindingEvent::replaced:
      return "replaced by a new lease";
  }
  return "?";
}

DhcpBindingTable::DhcpBindingTable(size_t max_port, size_t per_port)
    : max_port_(max_port), per_port_(per_port), slots_(max_port * per_port) {}

DhcpBinding* DhcpBindingTable::find(uint16_t port, uint16_t vid, const uint8_t* mac) {
  if (port >= max_port_) return nullptr;
  for (size_t i = 0; i < per_port_; ++i) {
    DhcpBinding& b = slots_[port * per_port_ + i];
    if (b.used && b.vid == vid && std::equal(b.mac.begin(), b.mac.end(), mac)) return &b;
  }
  return nullptr;
}

DhcpBindingTable::BindOutcome DhcpBindingTable::bind(uint16_t port, uint32_t veth, uint16_t vid,
                                                     const MacBytes& mac, const Ip4& ip,
                                                     uint32_t lease_s, uint64_t now_ns,
                                                     DhcpBinding* old) {
  if (port >= max_port_) return BindOutcome::bad_port;
  const uint64_t expires =
      lease_s == kDhcpInfiniteLease ? UINT64_MAX : now_ns + uint64_t{lease_s} * 1'000'000'000ULL;
  DhcpBinding* b = find(port, vid, mac.data());
  BindOutcome outcome = BindOutcome::added;
  if (b) {
    outcome = b->ip == ip && b->veth == veth ? BindOutcome::refreshed : BindOutcome::replaced;
    if (old) *old = *b;
  } else {
    for (size_t i = 0; i < per_port_ && !b; ++i)
      if (!slots_[port * per_port_ + i].used) b = &slots_[port * per_port_ + i];
    if (!b) return BindOutcome::full;
    ++size_;
  }
  *b = DhcpBinding{true, veth, vid, mac, ip, lease_s, expires};
  return outcome;
}

bool DhcpBindingTable::unbind(uint16_t port, uint16_t vid, const MacBytes& mac, const Ip4* ip,
                              DhcpBinding* gone) {
  DhcpBinding* b = find(port, vid, mac.data());
  if (!b || (ip && b->ip != *ip)) return false;
  if (gone) *gone = *b;
  b->used = false;
  --size_;
  return true;
}

bool DhcpBindingTable::leased(uint16_t port, uint16_t vid, const uint8_t* mac,
                              const uint8_t* ip4) const {
  if (port >= max_port_) return false;
  for (size_t i = 0; i < per_port_; ++i) {
    const DhcpBinding& b = slots_[port * per_port_ + i];
    if (b.used && b.vid == vid && std::equal(b.mac.begin(), b.mac.end(), mac) &&
        std::equal(b.ip.begin(), b.ip.end(), ip4))
      return true;
  }
  return false;
}

size_t DhcpBindingTable::on_port(uint16_t port) const {
  if (port >= max_port_) return 0;
  size_t n = 0;
  for (size_t i = 0; i < per_port_; ++i) n += slots_[port * per_port_ + i].used ? 1 : 0;
  return n;
}

bool DhcpBindingTable::port_holds_only(uint16_t port, uint32_t veth) const {
  if (port >= max_port_) return true;
  for (size_t i = 0; i < per_port_; ++i) {
    const DhcpBinding& b = slots_[port * per_port_ + i];
    if (b.used && b.veth != veth) return false;
  }
  return true;
}

}  // namespace vfs::slowpath
