// drivers/sim/sim_stats.h owns the sim datapath's counters: every place where the
// simulated NIC moves or loses a packet is declared here once (name, description), so
// logs, the API and docs read the same table. Every drop names its reason.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace vfs::drivers::sim {

enum class SimCounter : uint8_t {
  wire_rx,                // frames read from a wire (VM or uplink side)
  wire_tx,                // frames written to a wire
  miss,                   // frames that matched no rule and went to their representor
  to_representor,         // frames queued to a representor (misses and PORT_REPRESENTOR)
  representor_tx,         // frames the slow path sent on a representor
  drop_rule,              // a rule's DROP action
  drop_no_headroom,       // VLAN push without room in front of the frame
  drop_edit_failed,       // a VLAN edit on a frame too short to carry it
  drop_multi_segment,     // chained mbuf that could not be linearised
  drop_copy_failed,       // no mbuf for an extra copy (several outputs)
  drop_wire_full,         // the wire's socket ring was full
  drop_representor_full,  // the representor's rx ring was full (slow path too slow)
  drop_meter,             // a METER action coloured the frame red
  mirror,                 // SAMPLE copies made
  drop_mirror,            // SAMPLE copies lost (more than kMaxMirrors per frame, no mbuf)
  drop_vf_link_down,      // to or from a VF whose link state is disable
  drop_vf_spoof,          // from a VF with spoofchk on, source MAC not the VF's
  drop_vf_vlan,           // from a VF with a port VLAN: already tagged; to it: not its VLAN
  drop_vf_rate,           // from a VF above its max tx rate
  count_,
};

struct SimCounterInfo {
  const char* name;
  const char* description;
};

inline constexpr std::array<SimCounterInfo, static_cast<size_t>(SimCounter::count_)>
    kSimCounterInfo = {{
        {"wire_rx", "frames read from the wires"},
        {"wire_tx", "frames written to the wires"},
        {"miss", "frames that matched no rule (sent to their representor)"},
        {"to_representor", "frames queued to a representor"},
        {"representor_tx", "frames the slow path sent on a representor"},
        {"drop_rule", "dropped by a rule's DROP action"},
        {"drop_no_headroom", "dropped: no headroom to push a VLAN tag"},
        {"drop_edit_failed", "dropped: frame too short for a VLAN edit"},
        {"drop_multi_segment", "dropped: chained mbuf could not be linearised"},
        {"drop_copy_failed", "dropped: no mbuf for a copy to an extra output"},
        {"drop_wire_full", "dropped: wire transmit ring full"},
        {"drop_representor_full", "dropped: representor receive ring full"},
        {"drop_meter", "dropped: a METER action coloured the frame red (police violate)"},
        {"mirror", "SAMPLE (mirror) copies made"},
        {"drop_mirror", "SAMPLE copies lost: more than 8 per frame, or no mbuf for one"},
        {"drop_vf_link_down", "dropped: to or from a VF whose link state is disable"},
        {"drop_vf_spoof", "dropped: VF spoof check (source MAC is not the VF's MAC)"},
        {"drop_vf_vlan",
         "dropped: VF port VLAN (tagged frame from the VF, or a frame to it off its VLAN)"},
        {"drop_vf_rate", "dropped: above the VF's max tx rate"},
    }};

// A snapshot of the counters, indexed by SimCounter.
struct SimStats {
  std::array<uint64_t, static_cast<size_t>(SimCounter::count_)> value{};
  uint64_t operator[](SimCounter c) const { return value[static_cast<size_t>(c)]; }
  uint64_t& operator[](SimCounter c) { return value[static_cast<size_t>(c)]; }
};

}  // namespace vfs::drivers::sim
