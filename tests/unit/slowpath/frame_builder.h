// tests/unit/slowpath/frame_builder.h owns building wire-format frames by hand for the
// slow-path tests: Ethernet, VLAN tags, ARP, IPv4 (options, fragments), IPv6 (extension
// headers), TCP/UDP/ICMP. Lengths are filled in from what follows, unless a test forces
// a wrong one to see it refused.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace vfs::test {

using Mac = std::array<uint8_t, 6>;
using Ip6 = std::array<uint8_t, 16>;

inline constexpr Mac kMacA = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0a};
inline constexpr Mac kMacB = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0b};
inline constexpr Mac kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

inline Ip6 ip6(uint8_t last) {
  Ip6 a = {0x20, 0x01, 0x0d, 0xb8};
  a[15] = last;
  return a;
}

class FrameBuilder {
 public:
  FrameBuilder& u8(uint8_t v) {
    b_.push_back(v);
    return *this;
  }
  FrameBuilder& u16(uint16_t v) { return u8(uint8_t(v >> 8)).u8(uint8_t(v)); }
  FrameBuilder& u32(uint32_t v) { return u16(uint16_t(v >> 16)).u16(uint16_t(v)); }
  template <class C>
  FrameBuilder& bytes(const C& c) {
    b_.insert(b_.end(), std::begin(c), std::end(c));
    return *this;
  }
  FrameBuilder& zeros(size_t n) {
    b_.insert(b_.end(), n, 0);
    return *this;
  }
  size_t pos() const { return b_.size(); }
  void put16(size_t at, uint16_t v) {
    b_[at] = uint8_t(v >> 8);
    b_[at + 1] = uint8_t(v);
  }

  FrameBuilder& eth(const Mac& dst, const Mac& src) { return bytes(dst).bytes(src); }
  FrameBuilder& tag(uint16_t tpid, uint16_t vid, uint8_t pcp = 0, bool dei = false) {
    return u16(tpid).u16(uint16_t(pcp << 13 | (dei ? 0x1000 : 0) | (vid & 0xfff)));
  }
  FrameBuilder& type(uint16_t t) { return u16(t); }

  // Ethernet/IPv4 ARP; sender/target IPs in host order here.
  FrameBuilder& arp(uint16_t op, const Mac& sha, uint32_t spa, const Mac& tha, uint32_t tpa) {
    return u16(1).u16(0x0800).u8(6).u8(4).u16(op).bytes(sha).u32(spa).bytes(tha).u32(tpa);
  }

  // Opens an IPv4 header; close_ipv4() fills its total length. frag = flags|offset/8 field.
  FrameBuilder& ipv4(uint8_t proto, uint32_t src, uint32_t dst, uint16_t frag = 0,
                     unsigned option_words = 0) {
    ip_start_ = pos();
    u8(uint8_t(0x40 | (5 + option_words))).u8(0x10).u16(0).u16(0x1234).u16(frag);
    u8(64).u8(proto).u16(0).u32(src).u32(dst);
    for (unsigned i = 0; i < option_words; ++i) u32(0x01010101);  // NOPs
    return *this;
  }
  FrameBuilder& close_ipv4() {
    put16(ip_start_ + 2, uint16_t(pos() - ip_start_));
    return *this;
  }

  // Opens an IPv6 header; close_ipv6() fills its payload length.
  FrameBuilder& ipv6(uint8_t next, const Ip6& src, const Ip6& dst, uint8_t hop_limit = 64) {
    ip_start_ = pos();
    u32(0x6a012345).u16(0).u8(next).u8(hop_limit).bytes(src).bytes(dst);
    return *this;
  }
  FrameBuilder& close_ipv6() {
    put16(ip_start_ + 4, uint16_t(pos() - ip_start_ - 40));
    return *this;
  }
  // Hop-by-hop / routing / destination options: (len8 + 1) * 8 bytes.
  FrameBuilder& ext(uint8_t next, uint8_t len8 = 0) {
    u8(next).u8(len8);
    return zeros(size_t(len8 + 1) * 8 - 2);
  }
  FrameBuilder& frag6(uint8_t next, uint16_t offset_bytes, bool more) {
    return u8(next).u8(0).u16(uint16_t((offset_bytes & 0xfff8) | (more ? 1 : 0))).u32(0xabcd);
  }

  FrameBuilder& tcp(uint16_t sport, uint16_t dport, uint8_t flags, unsigned data_words = 5) {
    u16(sport).u16(dport).u32(1000).u32(0).u8(uint8_t(data_words << 4)).u8(flags).u16(8192);
    u16(0).u16(0);
    if (data_words > 5) zeros((data_words - 5) * 4);
    return *this;
  }
  FrameBuilder& udp(uint16_t sport, uint16_t dport, uint16_t payload = 0) {
    u16(sport).u16(dport).u16(uint16_t(8 + payload)).u16(0);
    return zeros(payload);
  }
  FrameBuilder& icmp(uint8_t type, uint8_t code) {
    return u8(type).u8(code).u16(0).u32(0x00010001);
  }

  // The frame, zero-padded to min_len (Ethernet's 60 without FCS by default).
  std::vector<uint8_t> done(size_t min_len = 60) const {
    std::vector<uint8_t> f = b_;
    if (f.size() < min_len) f.resize(min_len, 0);
    return f;
  }

 private:
  std::vector<uint8_t> b_;
  size_t ip_start_ = 0;
};

}  // namespace vfs::test
