// drivers/rte_flow/rte_flow_backend.h owns the FlowBackend of a real NIC: each call is the
// matching rte_flow_* call on the eSwitch's transfer proxy port, and each failure comes
// back as a FlowError in the PMD's own words, prefixed with the operation and the port,
// and naming the offending item or action when the PMD points at one.
//
// Contract: drivers/flow_backend.h. Handles are ours (rte_flow pointers never leave this
// class). Before each call the rte_flow_error is poisoned, as testpmd does, so that a PMD
// that fails without filling it in is reported as such instead of being believed.
// Meters are rte_mtr objects on the same port, all under one meter policy that this class
// adds on first use (green and yellow: no action, red: DROP).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <rte_flow.h>
#include <rte_mtr.h>

#include "drivers/flow_backend.h"

namespace vfs::drivers {

class RteFlowBackend final : public FlowBackend {
 public:
  // proxy_port: the port rte_flow_pick_transfer_proxy answered; port_name for messages.
  RteFlowBackend(uint16_t proxy_port, std::string port_name);
  ~RteFlowBackend() override;  // destroys the rules it created
  RteFlowBackend(const RteFlowBackend&) = delete;
  RteFlowBackend& operator=(const RteFlowBackend&) = delete;

  std::string_view name() const override { return "rte_flow"; }
  FlowStatus validate(const rte_flow_attr& attr, const rte_flow_item* pattern,
                      const rte_flow_action* actions) override;
  FlowResult<FlowHandle> create(const rte_flow_attr& attr, const rte_flow_item* pattern,
                                const rte_flow_action* actions) override;
  FlowStatus destroy(FlowHandle h) override;
  FlowResult<FlowCounters> query_count(FlowHandle h) override;
  FlowStatus flush() override;

  FlowStatus add_meter_profile(uint32_t profile_id, const MeterProfile& profile) override;
  FlowStatus delete_meter_profile(uint32_t profile_id) override;
  FlowStatus create_meter(uint32_t meter_id, uint32_t profile_id) override;
  FlowStatus destroy_meter(uint32_t meter_id) override;
  FlowResult<MeterStats> read_meter_stats(uint32_t meter_id) override;

  uint16_t proxy_port() const { return port_; }
  size_t rule_count() const { return rules_.size(); }

 private:
  struct Rule {
    rte_flow* flow = nullptr;
    bool counted = false;  // carries a COUNT action
  };
  FlowError failure(const char* op, const rte_flow_error& e, int ret,
                    const rte_flow_item* pattern = nullptr,
                    const rte_flow_action* actions = nullptr) const;
  FlowError mtr_failure(const char* op, uint32_t id, const rte_mtr_error& e, int ret) const;
  FlowStatus ensure_policy();
  FlowStatus remove_meters();  // every meter, the policy, every profile

  uint16_t port_;
  std::string port_name_;
  std::unordered_map<uint64_t, Rule> rules_;
  uint64_t next_id_ = 1;
  std::unordered_set<uint32_t> meters_;
  std::unordered_set<uint32_t> profiles_;
  bool policy_added_ = false;
};

// The meter policy id this backend adds: vfswitch's one policy per port.
inline constexpr uint32_t kVfsMeterPolicyId = 0x76667300;  // "vfs\0"

// An rte_flow_error filled with the poison pattern, to pass to an rte_flow_* call.
rte_flow_error poisoned_flow_error();

// FlowError from an rte_flow_error that started poisoned: fields the PMD left poisoned
// are treated as unset. ret is the call's -errno (or rte_errno).
FlowError flow_error_from_pmd(const rte_flow_error& e, int ret);

// "item 2 (IPV4)" / "action 0 (PORT_ID)" when cause points at an entry of pattern or
// actions (or at its spec/last/mask/conf), else "".
std::string flow_error_cause(const void* cause, const rte_flow_item* pattern,
                             const rte_flow_action* actions);

}  // namespace vfs::drivers
