#include "drivers/vf_admin.h"

#include <fmt/core.h>

namespace vfs::drivers {

Result<void> check_vf_index(std::string_view who, int vf, int vf_count) {
  if (vf < 0 || vf >= vf_count) {
    if (vf_count <= 0) return make_error(ERANGE, "{}: no VF {}: it has no VFs", who, vf);
    return make_error(ERANGE, "{}: no VF {}: it has {} VFs (0..{})", who, vf, vf_count,
                      vf_count - 1);
  }
  return ok();
}

Result<void> check_vf_vlan(std::string_view who, int vf, const VfVlan& vlan) {
  if (vlan.vid > 4095)
    return make_error(EINVAL, "{} VF {}: VLAN {} is out of range (0..4095)", who, vf, vlan.vid);
  if (vlan.qos > 7)
    return make_error(EINVAL, "{} VF {}: VLAN qos {} is out of range (0..7)", who, vf, vlan.qos);
  if (vlan.proto != VlanProto::dot1q && vlan.proto != VlanProto::dot1ad)
    return make_error(EINVAL, "{} VF {}: VLAN protocol 0x{:04x} is neither 802.1Q nor 802.1ad", who,
                      vf, static_cast<unsigned>(vlan.proto));
  return ok();
}

Result<void> check_vf_rate(std::string_view who, int vf, const VfRate& rate) {
  if (rate.max_mbps != 0 && rate.min_mbps > rate.max_mbps)
    return make_error(EINVAL, "{} VF {}: min tx rate {} Mbit/s is above max tx rate {} Mbit/s", who,
                      vf, rate.min_mbps, rate.max_mbps);
  return ok();
}

Result<void> check_vf_mac(std::string_view who, int vf, const VfMac& mac) {
  if (mac[0] & 1)
    return make_error(EINVAL, "{} VF {}: MAC {} is a multicast address", who, vf, format_mac(mac));
  if (mac == VfMac{})
    return make_error(EINVAL, "{} VF {}: MAC 00:00:00:00:00:00 is not a station address", who, vf);
  return ok();
}

std::string format_mac(const VfMac& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

std::optional<VfMac> parse_mac(std::string_view s) {
  if (s.size() != 17) return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  VfMac m{};
  for (size_t i = 0; i < 6; ++i) {
    int hi = hex(s[i * 3]), lo = hex(s[i * 3 + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    if (i < 5 && s[i * 3 + 2] != ':') return std::nullopt;
    m[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return m;
}

const char* to_string(VlanProto p) { return p == VlanProto::dot1ad ? "802.1ad" : "802.1Q"; }

const char* to_string(VfLinkState s) {
  switch (s) {
    case VfLinkState::automatic:
      return "auto";
    case VfLinkState::enable:
      return "enable";
    case VfLinkState::disable:
      return "disable";
  }
  return "?";
}

const char* to_string(EswitchMode m) {
  return m == EswitchMode::switchdev ? "switchdev" : "legacy";
}

std::optional<EswitchMode> parse_eswitch_mode(std::string_view s) {
  if (s == "switchdev") return EswitchMode::switchdev;
  if (s == "legacy") return EswitchMode::legacy;
  return std::nullopt;
}

}  // namespace vfs::drivers
