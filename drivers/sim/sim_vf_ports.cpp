#include "drivers/sim/sim_vf_ports.h"

#include <algorithm>
#include <cstring>

#include "drivers/sim/sim_match.h"
#include "drivers/sim/sim_meters.h"

namespace vfs::drivers::sim {
namespace {

constexpr uint32_t kEthAddrs = 12;  // destination and source MAC
constexpr uint32_t kEthHeader = 14;

bool has_port_vlan(const VfVlan& v) { return v.vid != 0 || v.qos != 0; }

}  // namespace

VfPorts::VfPorts(int count, const Clock& clock)
    : clock_(clock), vfs_(static_cast<size_t>(std::max(count, 0))) {}

uint64_t VfPorts::rate_burst_bytes(uint64_t bytes_per_second) {
  return std::max<uint64_t>(bytes_per_second / 100, 16384);
}

void VfPorts::set_rate(int vf, const VfRate& rate) {
  Vf& v = at(vf);
  v.rate = rate;
  if (rate.max_mbps == 0) return;
  const uint64_t cir = uint64_t{rate.max_mbps} * 125'000;  // Mbit/s -> bytes/s
  v.rate_profile = srtcm_profile_ns(cir, rate_burst_bytes(cir), 0);
  v.rate_state = srtcm_start(v.rate_profile, clock_.now_ns());
}

VfInfo VfPorts::info(int vf) const {
  const Vf& v = at(vf);
  VfInfo i;
  i.vf = vf;
  i.mac = v.mac;
  i.vlan = v.vlan;
  i.rate = v.rate;
  i.spoofchk = v.spoofchk;
  i.trust = v.trust;
  i.link_state = v.link;
  i.stats = v.stats;
  return i;
}

SimCounter VfPorts::from_vf(int vf, PacketBuffer& pkt) {
  Vf& v = at(vf);
  auto drop = [&](SimCounter why) {
    ++v.stats.tx_dropped;
    return why;
  };
  if (v.link == VfLinkState::disable) return drop(SimCounter::drop_vf_link_down);
  const bool runt = pkt.len < kEthHeader;
  if (v.spoofchk && v.mac != VfMac{} && (runt || std::memcmp(pkt.data + 6, v.mac.data(), 6) != 0))
    return drop(SimCounter::drop_vf_spoof);
  if (has_port_vlan(v.vlan)) {
    if (runt) return drop(SimCounter::drop_edit_failed);
    if (is_vlan_tpid(load_be16(pkt.data + kEthAddrs))) return drop(SimCounter::drop_vf_vlan);
    if (pkt.headroom < 4) return drop(SimCounter::drop_no_headroom);
  }
  if (v.rate.max_mbps != 0 &&
      rte_meter_srtcm_color_blind_check(&v.rate_state, &v.rate_profile, clock_.now_ns(), pkt.len) !=
          RTE_COLOR_GREEN)
    return drop(SimCounter::drop_vf_rate);
  ++v.stats.tx_packets;
  v.stats.tx_bytes += pkt.len;
  if (has_port_vlan(v.vlan)) {
    std::memmove(pkt.data - 4, pkt.data, kEthAddrs);
    pkt.data -= 4;
    pkt.headroom -= 4;
    pkt.len += 4;
    store_be16(pkt.data + kEthAddrs, static_cast<uint16_t>(v.vlan.proto));
    store_be16(pkt.data + kEthAddrs + 2, static_cast<uint16_t>(v.vlan.qos << 13 | v.vlan.vid));
  }
  return SimCounter::count_;
}

SimCounter VfPorts::to_vf(int vf, PacketBuffer& pkt) {
  Vf& v = at(vf);
  auto drop = [&](SimCounter why) {
    ++v.stats.rx_dropped;
    return why;
  };
  if (v.link == VfLinkState::disable) return drop(SimCounter::drop_vf_link_down);
  if (!has_port_vlan(v.vlan)) return SimCounter::count_;
  if (pkt.len < kEthHeader + 4 ||
      load_be16(pkt.data + kEthAddrs) != static_cast<uint16_t>(v.vlan.proto) ||
      (load_be16(pkt.data + kEthAddrs + 2) & 0x0fff) != v.vlan.vid)
    return drop(SimCounter::drop_vf_vlan);
  std::memmove(pkt.data + 4, pkt.data, kEthAddrs);
  pkt.data += 4;
  pkt.headroom += 4;
  pkt.len -= 4;
  return SimCounter::count_;
}

VfPorts::Cast VfPorts::cast_of(const uint8_t* frame, uint32_t len) {
  if (len < 6 || !(frame[0] & 1)) return Cast::unicast;
  static constexpr uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  return std::memcmp(frame, kBroadcast, 6) == 0 ? Cast::broadcast : Cast::multicast;
}

void VfPorts::delivered(int vf, uint32_t len, Cast cast) {
  VfStats& s = at(vf).stats;
  ++s.rx_packets;
  s.rx_bytes += len;
  if (cast == Cast::broadcast) ++s.broadcast;
  if (cast == Cast::multicast) ++s.multicast;
}

}  // namespace vfs::drivers::sim
