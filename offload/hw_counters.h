// offload/hw_counters.h owns the shape of what the eSwitch counted, summed the way the
// counters contract (docs/architecture.md "Counters") reports it: per vEthernet rx / tx,
// drops by reason, policer colours, and per ACL entry. RuleTable produces it from its
// rules' COUNT and its meters' stats, live plus retired, so every number only grows.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "drivers/flow_backend.h"
#include "offload/drop_reason.h"

namespace vfs::offload {

struct PacketTotals {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  void add(uint64_t p, uint64_t b) {
    packets += p;
    bytes += b;
  }
  void add(const PacketTotals& o) { add(o.packets, o.bytes); }
  bool operator==(const PacketTotals&) const = default;
};

// A policer's colours as `show ... counters` reports them: conform = transmitted (srTCM
// green and yellow), violate = dropped (red).
struct PoliceTotals {
  bool present = false;  // a policer existed in this direction at some point
  uint64_t conform_packets = 0, conform_bytes = 0;
  uint64_t violate_packets = 0, violate_bytes = 0;
  void add(const drivers::MeterStats& s) {
    present = true;
    conform_packets += s.conform_packets + s.exceed_packets;
    conform_bytes += s.conform_bytes + s.exceed_bytes;
    violate_packets += s.violate_packets;
    violate_bytes += s.violate_bytes;
  }
  void merge(const PoliceTotals& o) {
    present = present || o.present;
    conform_packets += o.conform_packets;
    conform_bytes += o.conform_bytes;
    violate_packets += o.violate_packets;
    violate_bytes += o.violate_bytes;
  }
  void add(const PoliceTotals& o) {
    present = present || o.present;
    conform_packets += o.conform_packets;
    conform_bytes += o.conform_bytes;
    violate_packets += o.violate_packets;
    violate_bytes += o.violate_bytes;
  }
  bool operator==(const PoliceTotals&) const = default;
};

struct VethHwCounters {
  PacketTotals rx;  // frames from the VM that hit a group-0 rule of its port
  PacketTotals tx;  // frames the eSwitch sent to the VM's wire (outputs and mirror copies)
  std::array<uint64_t, kDropReasonCount> drops{};  // COUNT of rules tagged with the reason
  PoliceTotals police_in, police_out;
  bool operator==(const VethHwCounters&) const = default;
};

struct HwCounters {
  std::map<uint32_t, VethHwCounters> veths;
  // "ip:NAME" / "ipv6:NAME" / "mac:NAME" -> ACE sequence (0 = implicit deny) -> packets.
  std::map<std::string, std::map<uint32_t, uint64_t>> acl_entries;
};

}  // namespace vfs::offload
