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
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <rte_flow.h>

#include "base/result.h"

namespace vfs::drivers {

// A refused or failed flow operation, in the NIC's own terms.
struct FlowError {
  int code = EINVAL;                              // positive errno
  rte_flow_error_type type = RTE_FLOW_ERROR_TYPE_UNSPECIFIED;
  std::string message;                            // names the item/action concerned

  Error to_error() const;                         // "<type name>: <message> (<strerror>)"
};

const char* flow_error_type_name(rte_flow_error_type t);

// Builds a FlowError from what an rte_flow_* call filled in; ret is its -errno.
FlowError flow_error_from(const rte_flow_error& e, int rte_errno_value);

template <class T>
class [[nodiscard]] FlowResult {
 public:
  FlowResult(T v) : ok_(true), v_(std::move(v)) {}       // NOLINT
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

class FlowBackend {
 public:
  virtual ~FlowBackend() = default;

  virtual std::string_view name() const = 0;

  // Checks that the rule could be created now, without creating it.
  virtual FlowStatus validate(const rte_flow_attr& attr, const rte_flow_item* pattern,
                              const rte_flow_action* actions) = 0;
  virtual FlowResult<FlowHandle> create(const rte_flow_attr& attr, const rte_flow_item* pattern,
                                        const rte_flow_action* actions) = 0;
  // Destroying an unknown handle answers ENOENT.
  virtual FlowStatus destroy(FlowHandle h) = 0;
  // Cumulative COUNT of the rule (it must carry a COUNT action, else ENOTSUP).
  virtual FlowResult<FlowCounters> query_count(FlowHandle h) = 0;
  // Removes every rule this backend holds on the eSwitch (also ones left by a previous
  // run of the daemon on hardware that outlives it).
  virtual FlowStatus flush() = 0;
};

}  // namespace vfs::drivers
