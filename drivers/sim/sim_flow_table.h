// drivers/sim/sim_flow_table.h owns the sim's rule table: rte_flow transfer rules in
// compiled form (drivers/sim/sim_rule_compiler.h), found by a tuple space search
// (drivers/sim/sim_classifier.h), the meters they police with (drivers/sim/sim_meters.h),
// and the walk of a frame through groups, edits, meters, samples and outputs.
//
// Not thread-safe: the owner serialises calls (drivers/sim/sim_eswitch.cpp holds one mutex
// for the control path and the datapath's bursts).
//
// Matching semantics (rte_flow, as a switchdev NIC applies them):
// - Group 0 first; within a group the lowest priority value wins, then the rule inserted
//   first. JUMP goes to a higher group only; the packet entering it carries the edits of
//   the rules that sent it there. A packet that matches nothing in a group it reaches
//   misses: it goes to the representor of its source port exactly as it entered.
// - Items stack as on the wire; a pattern may start at any layer (lower layers are "any").
//   Header items compare spec & mask against the header bytes at their offset.
// - ETH.type is the EtherType or TPID right after the MAC addresses. Without VLAN items
//   and without has_vlan = 0, an L3 item matches after any VLAN tags (0-4); with VLAN
//   items it must follow the last of them.
// - IPV4/IPV6 items need the whole fixed header with the right version (IPv4 IHL >= 5).
//   L4 items need the first fragment (IPv4) or an L4 header right after the fixed IPv6
//   header (extension headers are not walked), and the whole fixed L4 header (TCP 20,
//   UDP 8, ICMP 8, ICMPv6 4 bytes). offload/frame_layout.h states the same for the
//   slow path, which must reach the same verdicts.
// Actions run in list order before the rule's fate: VLAN edits; METER (srTCM, color-
// blind: green and yellow go on, red is dropped); SAMPLE with ratio 1 (a copy of the frame
// as it is at that point goes to the sample's destinations, the rule goes on). COUNT
// counts every frame that hits the rule, before its meter.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_flow.h>

#include "base/clock.h"
#include "base/result.h"
#include "drivers/flow_backend.h"
#include "drivers/sim/sim_stats.h"

namespace vfs::drivers::sim {

// A frame in a buffer the classifier may edit in place. A VLAN push writes in front of
// data, so headroom must be >= 4 per push (rte_mbuf gives 128).
struct PacketBuffer {
  uint8_t* data = nullptr;  // first byte of the Ethernet header
  uint32_t len = 0;         // frame length without FCS
  uint32_t headroom = 0;    // writable bytes before data
};

inline constexpr unsigned kMaxOutputs = 8;  // outputs (copies) per rule
inline constexpr unsigned kMaxMirrors = 8;  // SAMPLE copies per frame

struct Destination {
  enum class Kind : uint8_t { wire, representor };
  Kind kind = Kind::wire;
  uint16_t port = 0;  // sim port index: 0 = uplink, 1 + i = VF i
  bool operator==(const Destination&) const = default;
};

// A SAMPLE copy: head[0, head_len) followed by the original frame's bytes from tail_off
// on (those past the classifier's edit window, which no edit touches). head points into
// the table and is valid until its next classify().
struct Mirror {
  Destination to;
  const uint8_t* head = nullptr;
  uint32_t head_len = 0;
  uint32_t tail_off = 0;
};

struct Verdict {
  enum class Kind : uint8_t { miss, drop, forward };
  Kind kind = Kind::miss;
  SimCounter drop_reason = SimCounter::drop_rule;  // when kind == drop
  uint8_t n_out = 0;                               // when kind == forward
  std::array<Destination, kMaxOutputs> out{};
  // SAMPLE copies, whatever the kind (a frame may be mirrored, then dropped or missed).
  uint8_t n_mirror = 0;
  uint8_t mirrors_lost = 0;  // copies past kMaxMirrors
  std::array<Mirror, kMaxMirrors> mirror{};
};

// Length and bytes of a SAMPLE copy of the frame orig[0, orig_len) that was classified.
inline uint32_t mirror_length(const Mirror& m, uint32_t orig_len) {
  return m.head_len + (orig_len > m.tail_off ? orig_len - m.tail_off : 0);
}
void copy_mirror(const Mirror& m, const uint8_t* orig, uint32_t orig_len, uint8_t* out);

// How the table finds a frame's rule: a tuple space search, or (as the reference that
// tests compare it with) a walk over every rule of the group.
enum class ClassifierKind : uint8_t { indexed, linear };

struct FlowTableOptions {
  uint32_t capacity = 65536;  // rules; create() answers ENOSPC past it
  // Item/action names (rte_flow spelling, any case: "IPV6", "OF_PUSH_VLAN") refused with
  // ENOTSUP, as by a NIC without them. A name that is both (PORT_ID) covers both.
  std::vector<std::string> unsupported;
  // Time for the meters (ns); null = the monotonic clock. Must outlive the table.
  const Clock* clock = nullptr;
  ClassifierKind classifier = ClassifierKind::indexed;
};

class FlowTable {
 public:
  // ethdev_ports[i] is the representor ethdev id of sim port i (0 = uplink): rules name
  // ports by these ids. Fails if an unsupported name is not an rte_flow item or action.
  static Result<std::unique_ptr<FlowTable>> make(std::vector<uint16_t> ethdev_ports,
                                                 const FlowTableOptions& opt);
  ~FlowTable();
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  FlowStatus validate(const rte_flow_attr& attr, const rte_flow_item* pattern,
                      const rte_flow_action* actions) const;
  FlowResult<FlowHandle> create(const rte_flow_attr& attr, const rte_flow_item* pattern,
                                const rte_flow_action* actions);
  // As FlowBackend::create_batch: n create() calls, in runs of kCreateRun rules, each
  // compiled before any of it is inserted.
  static constexpr size_t kCreateRun = 32;
  void create_batch(const FlowRuleRef* rules, size_t n, std::vector<FlowResult<FlowHandle>>& out);
  FlowStatus destroy(FlowHandle h);                          // ENOENT for an unknown handle
  FlowResult<FlowCounters> query_count(FlowHandle h) const;  // ENOTSUP without COUNT
  // Removes every rule, then every meter and meter profile.
  void clear();
  size_t size() const;

  // Meters, as drivers/flow_backend.h describes them.
  FlowStatus add_meter_profile(uint32_t profile_id, const MeterProfile& profile);
  FlowStatus delete_meter_profile(uint32_t profile_id);
  FlowStatus create_meter(uint32_t meter_id, uint32_t profile_id);
  FlowStatus destroy_meter(uint32_t meter_id);
  FlowResult<MeterStats> meter_stats(uint32_t meter_id) const;

  // Decides the fate of a frame that entered on sim port in_port and counts the rules and
  // meters it hits. On forward, pkt holds the edited frame (data may move by the VLAN
  // edits); on miss or drop it is untouched. Mirror copies are described in the verdict
  // (copy them before the next call). No allocation.
  Verdict classify(uint16_t in_port, PacketBuffer& pkt);

 private:
  struct Impl;
  explicit FlowTable(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// rte_flow's own spelling of an item / action type ("GENEVE", "OF_PUSH_VLAN").
std::string flow_item_name(rte_flow_item_type t);
std::string flow_action_name(rte_flow_action_type t);

}  // namespace vfs::drivers::sim
