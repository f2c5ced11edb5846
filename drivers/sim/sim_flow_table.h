// drivers/sim/sim_flow_table.h owns the sim's rule interpreter: it turns rte_flow transfer
// rules into a self-contained internal form (specs are copied; the caller's arrays are
// transient), refuses what a PMD would refuse with a typed FlowError, and classifies
// frames the way the eSwitch would.
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
// - L4 items need the first fragment (IPv4) or an L4 header right after the fixed IPv6
//   header (extension headers are not walked).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_flow.h>

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

struct Destination {
  enum class Kind : uint8_t { wire, representor };
  Kind kind = Kind::wire;
  uint16_t port = 0;  // sim port index: 0 = uplink, 1 + i = VF i
  bool operator==(const Destination&) const = default;
};

struct Verdict {
  enum class Kind : uint8_t { miss, drop, forward };
  Kind kind = Kind::miss;
  SimCounter drop_reason = SimCounter::drop_rule;  // when kind == drop
  uint8_t n_out = 0;                               // when kind == forward
  std::array<Destination, kMaxOutputs> out{};
};

struct FlowTableOptions {
  uint32_t capacity = 65536;  // rules; create() answers ENOSPC past it
  // Item/action names (rte_flow spelling, any case: "IPV6", "OF_PUSH_VLAN") refused with
  // ENOTSUP, as by a NIC without them. A name that is both (PORT_ID) covers both.
  std::vector<std::string> unsupported;
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
  FlowStatus destroy(FlowHandle h);                          // ENOENT for an unknown handle
  FlowResult<FlowCounters> query_count(FlowHandle h) const;  // ENOTSUP without COUNT
  void clear();
  size_t size() const;

  // Decides the fate of a frame that entered on sim port in_port and counts the rules it
  // hits. On forward, pkt holds the edited frame (data may move by the VLAN edits); on
  // miss or drop it is untouched. No allocation.
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
