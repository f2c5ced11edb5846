// tests/unit/drivers/sim_packet_builder.h builds test frames byte by byte (network order),
// so the sim tests state packets the way they appear on a wire.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "drivers/sim/sim_flow_table.h"

namespace vfs::test {

using Mac = std::array<uint8_t, 6>;

class PacketBuilder {
 public:
  PacketBuilder& eth(const Mac& dst, const Mac& src, uint16_t type) {
    put(dst.data(), 6);
    put(src.data(), 6);
    return u16(type);
  }
  PacketBuilder& vlan(uint16_t tci, uint16_t inner_type) { return u16(tci).u16(inner_type); }
  PacketBuilder& ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t frag = 0) {
    u8(0x45).u8(0).u16(20).u16(1).u16(frag).u8(64).u8(proto).u16(0);
    return u32(src).u32(dst);
  }
  PacketBuilder& ipv6(const std::array<uint8_t, 16>& src, const std::array<uint8_t, 16>& dst,
                      uint8_t next) {
    u32(0x60000000).u16(0).u8(next).u8(64);
    put(src.data(), 16);
    put(dst.data(), 16);
    return *this;
  }
  PacketBuilder& tcp(uint16_t sport, uint16_t dport) {
    u16(sport).u16(dport).u32(0).u32(0).u8(0x50).u8(0x02).u16(8192);
    return u16(0).u16(0);
  }
  PacketBuilder& udp(uint16_t sport, uint16_t dport) { return u16(sport).u16(dport).u16(8).u16(0); }
  PacketBuilder& icmp(uint8_t type, uint8_t code) { return u8(type).u8(code).u16(0).u16(1).u16(1); }
  PacketBuilder& arp(uint16_t op, const Mac& sha, uint32_t spa, const Mac& tha, uint32_t tpa) {
    u16(1).u16(0x0800).u8(6).u8(4).u16(op);
    put(sha.data(), 6);
    u32(spa);
    put(tha.data(), 6);
    return u32(tpa);
  }
  PacketBuilder& pad(size_t n, uint8_t v = 0xab) {
    bytes_.insert(bytes_.end(), n, v);
    return *this;
  }
  PacketBuilder& u8(uint8_t v) {
    bytes_.push_back(v);
    return *this;
  }
  PacketBuilder& u16(uint16_t v) {
    return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v));
  }
  PacketBuilder& u32(uint32_t v) {
    return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v));
  }
  PacketBuilder& put(const uint8_t* p, size_t n) {
    bytes_.insert(bytes_.end(), p, p + n);
    return *this;
  }
  std::vector<uint8_t> bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// A frame in a buffer with headroom, as the classifier sees it.
class TestFrame {
 public:
  // Zeroed headroom, then the bytes appended: GCC 12 -O2 takes a copy to begin() + headroom
  // for a possible overflow (-Wstringop-overflow) once a unity batch inlines it.
  explicit TestFrame(const std::vector<uint8_t>& bytes, uint32_t headroom = 64) : buf_(headroom) {
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
    pb_ = {buf_.data() + headroom, static_cast<uint32_t>(bytes.size()), headroom};
  }
  drivers::sim::PacketBuffer& buffer() { return pb_; }
  std::vector<uint8_t> bytes() const { return {pb_.data, pb_.data + pb_.len}; }

 private:
  std::vector<uint8_t> buf_;
  drivers::sim::PacketBuffer pb_;
};

}  // namespace vfs::test
