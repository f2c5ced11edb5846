// drivers/forwarding_flow_backend.h owns ForwardingFlowBackend: a FlowBackend that passes
// every call to another one. Code that observes or perturbs a NIC (a recorder in the rule
// table's tests, a clock on create() in the first-packet bench) derives from it and
// overrides only the calls it watches, so a call added to the seam reaches the NIC
// everywhere without another copy of the pass-through. create_batch() is not passed on:
// FlowBackend's own calls create() per rule, so an observer of create() sees every rule.
#pragma once

#include "drivers/flow_backend.h"

namespace vfs::drivers {

class ForwardingFlowBackend : public FlowBackend {
 public:
  explicit ForwardingFlowBackend(FlowBackend& inner) : inner_(inner) {}

  std::string_view name() const override { return inner_.name(); }
  FlowStatus validate(const rte_flow_attr& attr, const rte_flow_item* pattern,
                      const rte_flow_action* actions) override {
    return inner_.validate(attr, pattern, actions);
  }
  FlowResult<FlowHandle> create(const rte_flow_attr& attr, const rte_flow_item* pattern,
                                const rte_flow_action* actions) override {
    return inner_.create(attr, pattern, actions);
  }
  FlowStatus destroy(FlowHandle h) override { return inner_.destroy(h); }
  FlowResult<FlowCounters> query_count(FlowHandle h) override { return inner_.query_count(h); }
  FlowStatus flush() override { return inner_.flush(); }
  FlowStatus add_meter_profile(uint32_t profile_id, const MeterProfile& profile) override {
    return inner_.add_meter_profile(profile_id, profile);
  }
  FlowStatus delete_meter_profile(uint32_t profile_id) override {
    return inner_.delete_meter_profile(profile_id);
  }
  FlowStatus create_meter(uint32_t meter_id, uint32_t profile_id) override {
    return inner_.create_meter(meter_id, profile_id);
  }
  FlowStatus destroy_meter(uint32_t meter_id) override { return inner_.destroy_meter(meter_id); }
  FlowResult<MeterStats> read_meter_stats(uint32_t meter_id) override {
    return inner_.read_meter_stats(meter_id);
  }

 protected:
  FlowBackend& inner() { return inner_; }

 private:
  FlowBackend& inner_;
};

}  // namespace vfs::drivers
