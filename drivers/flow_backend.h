// drivers/flow_backend.h owns the NIC rule seam. A FlowBackend takes rules as real
// rte_flow structures (attr / item[] / action[], END-terminated, as a PMD receives them)
// and answers as rte_flow does: on failure a FlowError that keeps the NIC's words
// (errno, rte_flow_error type, the offending item/action named in the message).
//
// Contract, for every member:
// - Synchronous: when a call returns, the NIC has done it (or refused it).
// - Thread-safety: calls may come from any one thread at a time per backend (the offload
//   worker); the backend itself must be safe against its own datapath threads.
// - Rules are transfer rules on the eSwitch: attr.transfer = 1, items/actions name ports
//   by DPDK ethdev port id (REPRESENTED_PORT / PORT_ID of a representor = that VF).
// - Errors: EINVAL = malformed (our compiler is wrong); ENOTSUP = valid but unsupported
//   here; ENOSPC = table full; EEXIST / EBUSY as rte_flow. The caller keeps ENOTSUP /
//   ENOSPC / EBUSY rules in software and records the reason.
// - Miss semantics: a packet that matches no rule in a group it reaches goes to the
//   representor of the port it entered on, as it entered (no rule's edits applied).
// - Meters are rte_mtr's (see the meter members below); a rule polices through the action
//   METER {mtr_id}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rte_flow.h>

#include "base/result.h"

namespace vfs::drivers {

// A refused or failed flow operation, in the NIC's own terms.
struct FlowError {
  int code = EINVAL;  // positive errno
  rte_flow_error_type type = RTE_FLOW_ERROR_TYPE_UNSPECIFIED;
  std::string message;  // names the item/action concerned

  Error to_error() const;  // "<type name>: <message> (<strerror>)"
};

const char* flow_error_type_name(rte_flow_error_type t);

// Builds a FlowError from what an rte_flow_* call filled in; ret is its -errno.
FlowError flow_error_from(const rte_flow_error& e, int rte_errno_value);

template <class T>
class [[nodiscard]] FlowResult {
 public:
  FlowResult(T v) : ok_(true), v_(std::move(v)) {}           // NOLINT
  FlowResult(FlowError e) : ok_(false), e_(std::move(e)) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const T& value() const { return v_; }
  const FlowError& error() const { return e_; }

 private:
  bool ok_;
  T v_{};
  FlowError e_{};
};

struct Unit {};
using FlowStatus = FlowResult<Unit>;

// Opaque per-backend handle of an installed rule.
struct FlowHandle {
  uint64_t id = 0;
  bool operator==(const FlowHandle&) const = default;
};

struct FlowCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

// A single-rate three-colour marker profile (srTCM, RFC 2697), as rte_mtr's
// RTE_MTR_SRTCM_RFC2697: rate in bytes per second, bursts in bytes. cir > 0 and
// cbs + ebs > 0.
struct MeterProfile {
  uint64_t cir = 0;  // committed information rate
  uint64_t cbs = 0;  // committed burst size
  uint64_t ebs = 0;  // excess burst size
  bool operator==(const MeterProfile&) const = default;
};

// Cumulative per meter and colour (color-blind srTCM): green = conform, yellow = exceed,
// red = violate. Bytes are frame bytes without FCS, as COUNT counts them.
struct MeterStats {
  uint64_t conform_packets = 0, conform_bytes = 0;
  uint64_t exceed_packets = 0, exceed_bytes = 0;
  uint64_t violate_packets = 0, violate_bytes = 0;
  bool operator==(const MeterStats&) const = default;
};

// One rule of a create_batch(): the three arrays create() takes.
struct FlowRuleRef {
  const rte_flow_attr* attr = nullptr;
  const rte_flow_item* pattern = nullptr;
  const rte_flow_action* actions = nullptr;
};

class FlowBackend {
 public:
  virtual ~FlowBackend() = default;

  virtual std::string_view name() const = 0;

  // Checks that the rule could be created now, without creating it.
  virtual FlowStatus validate(const rte_flow_attr& attr, const rte_flow_item* pattern,
                              const rte_flow_action* actions) = 0;
  virtual FlowResult<FlowHandle> create(const rte_flow_attr& attr, const rte_flow_item* pattern,
                                        const rte_flow_action* actions) = 0;
  // Creates rules[0, n) in that order and appends their n results to `out`: the same
  // rules, handles and refusals as n create() calls, and as synchronous (every rule is in
  // or refused on return). What a backend gains is overlap: the rules are compiled before
  // any is inserted, so the memory each insertion touches is loaded while the others
  // compile, as a NIC's asynchronous flow queues (rte_flow_async_create, then
  // rte_flow_push) let its firmware batch. The default calls create() n times, so a
  // backend that observes create() (drivers/forwarding_flow_backend.h) sees every rule.
  virtual void create_batch(const FlowRuleRef* rules, size_t n,
                            std::vector<FlowResult<FlowHandle>>& out);
  // Destroying an unknown handle answers ENOENT.
  virtual FlowStatus destroy(FlowHandle h) = 0;
  // Cumulative COUNT of the rule (it must carry a COUNT action, else ENOTSUP).
  virtual FlowResult<FlowCounters> query_count(FlowHandle h) = 0;
  // Removes every rule this backend holds on the eSwitch (also ones left by a previous
  // run of the daemon on hardware that outlives it), then every meter and meter profile
  // it created.
  virtual FlowStatus flush() = 0;

  // Meters, shaped like rte_mtr (rte_mtr_meter_profile_add / rte_mtr_create /
  // rte_mtr_stats_read): the caller picks the ids; profiles and meters are separate id
  // spaces. A rule polices through the action METER {mtr_id}. The policy is fixed: green
  // and yellow frames go on with the rule's other actions, red frames are dropped.
  // EEXIST for an id in use, ENOENT for an unknown id, EINVAL for a bad profile, EBUSY to
  // delete a profile a meter uses or a meter a rule uses. The defaults answer ENOTSUP: a
  // NIC without meters (the caller polices in software).
  virtual FlowStatus add_meter_profile(uint32_t profile_id, const MeterProfile& profile);
  virtual FlowStatus delete_meter_profile(uint32_t profile_id);
  virtual FlowStatus create_meter(uint32_t meter_id, uint32_t profile_id);
  virtual FlowStatus destroy_meter(uint32_t meter_id);
  virtual FlowResult<MeterStats> read_meter_stats(uint32_t meter_id);
};

// Checks a profile as every backend does (EINVAL naming the profile id).
FlowStatus check_meter_profile(uint32_t profile_id, const MeterProfile& profile);

}  // namespace vfs::drivers
