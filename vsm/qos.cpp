#include "vsm/qos.h"

#include <fmt/core.h>

namespace vfs::vsm {

std::string_view rate_unit_name(RateUnit u) {
  switch (u) {
    case RateUnit::bps:
      return "bps";
    case RateUnit::kbps:
      return "kbps";
    case RateUnit::mbps:
      return "mbps";
    case RateUnit::gbps:
      return "gbps";
  }
  return "bps";
}

std::string_view burst_unit_name(BurstUnit u) {
  switch (u) {
    case BurstUnit::bytes:
      return "bytes";
    case BurstUnit::kbytes:
      return "kbytes";
    case BurstUnit::mbytes:
      return "mbytes";
    case BurstUnit::ms:
      return "ms";
  }
  return "bytes";
}

std::string render_police(const PoliceAction& p) {
  std::string out = fmt::format("police cir {} {}", p.cir, rate_unit_name(p.cir_unit));
  if (p.bc) out += fmt::format(" bc {} {}", *p.bc, burst_unit_name(p.bc_unit));
  return out + " conform transmit violate drop";
}

Result<ResolvedPolicer> resolve_policer(const std::string& policy_map, const PoliceAction& p) {
  using u128 = unsigned __int128;
  static constexpr uint64_t rate_scale[] = {1, 1'000, 1'000'000, 1'000'000'000};
  static constexpr uint64_t burst_scale[] = {1, 1'024, 1'048'576};
  const u128 bits = u128{p.cir} * rate_scale[static_cast<size_t>(p.cir_unit)];
  const u128 cir = bits / 8;
  if (cir == 0 || cir > kMaxCirBytesPerS)
    return make_error(ERANGE,
                      "policy-map {}: police cir {} {} is out of range (1 byte/s to {} bytes/s)",
                      policy_map, p.cir, rate_unit_name(p.cir_unit), kMaxCirBytesPerS);
  u128 cbs = 0;
  if (!p.bc) {
    cbs = cir * kDefaultBurstMs / 1000;
    if (cbs < kMinDefaultBurstBytes) cbs = kMinDefaultBurstBytes;
  } else if (p.bc_unit == BurstUnit::ms) {
    cbs = cir * *p.bc / 1000;
  } else {
    cbs = u128{*p.bc} * burst_scale[static_cast<size_t>(p.bc_unit)];
  }
  if (cbs == 0 || cbs > kMaxBurstBytes)
    return make_error(ERANGE, "policy-map {}: police bc {} {} is out of range (1 to {} bytes)",
                      policy_map, p.bc.value_or(0), burst_unit_name(p.bc_unit), kMaxBurstBytes);
  return ResolvedPolicer{policy_map, static_cast<uint64_t>(cir), static_cast<uint64_t>(cbs)};
}

}  // namespace vfs::vsm
