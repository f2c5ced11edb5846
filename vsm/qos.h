// vsm/qos.h owns `policy-map type qos`: a policy-map as configured (its class-default and
// that class's `police` action, with the units as typed so running-config prints them
// back), the canonical text of a police action, and its resolution into the srTCM
// parameters the datapath enforces (ResolvedPolicer: CIR in bytes/s, CBS in bytes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "vsm/dataplane.h"

namespace vfs::vsm {

enum class RateUnit : uint8_t { bps, kbps, mbps, gbps };
enum class BurstUnit : uint8_t { bytes, kbytes, mbytes, ms };

// `police cir N [UNIT] [bc N [UNIT]] conform transmit violate drop`
struct PoliceAction {
  uint64_t cir = 0;
  RateUnit cir_unit = RateUnit::bps;  // NX-OS: a CIR without a unit is in bits/s
  std::optional<uint64_t> bc;         // nullopt: kDefaultBurstMs of the CIR
  BurstUnit bc_unit = BurstUnit::bytes;
  bool operator==(const PoliceAction&) const = default;
};

// The burst used when `bc` is omitted: 200 ms of traffic at the CIR (NX-OS's default),
// and never less than one full-size frame so that a low CIR still passes frames.
inline constexpr uint64_t kDefaultBurstMs = 200;
inline constexpr uint64_t kMinDefaultBurstBytes = 1518;
// Above this the numbers make no sense for a vNIC (and would overflow rte_meter's math).
inline constexpr uint64_t kMaxCirBytesPerS = 1'000'000'000'000ull;  // 8 Tbit/s
inline constexpr uint64_t kMaxBurstBytes = 1ull << 40;

struct PolicyMap {
  std::string name;
  bool class_default = false;          // `class class-default` entered
  std::optional<PoliceAction> police;  // in class-default
  bool operator==(const PolicyMap&) const = default;
};

std::string_view rate_unit_name(RateUnit u);
std::string_view burst_unit_name(BurstUnit u);

// "police cir 10 mbps bc 200 ms conform transmit violate drop"
std::string render_police(const PoliceAction& p);

// The srTCM parameters; an error (naming the policy-map) if they are out of range.
Result<ResolvedPolicer> resolve_policer(const std::string& policy_map, const PoliceAction& p);

}  // namespace vfs::vsm
