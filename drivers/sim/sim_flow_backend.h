// drivers/sim/sim_flow_backend.h owns the FlowBackend face of the sim: its rule table and
// meters behind the mutex the sim's datapath takes once per burst, plus the knobs that
// make the sim a slow, flaky or smaller NIC on purpose (ESwitchOptions: insertion latency
// and injected failures, which apply to create() only; METER in sim_unsupported, which
// makes every rte_mtr call answer ENOTSUP, as a NIC without meters does). The sim eSwitch
// uses it; tests above drivers/ use it as the NIC's rule memory with no wires.
#pragma once

#include <strings.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/core.h>

#include "drivers/eswitch.h"
#include "drivers/flow_backend.h"
#include "drivers/sim/sim_flow_table.h"

namespace vfs::drivers::sim {

class SimFlowBackend final : public FlowBackend {
 public:
  SimFlowBackend(std::mutex& mu, FlowTable& table, const ESwitchOptions& opt)
      : mu_(mu),
        table_(table),
        insert_latency_(opt.sim_insert_latency_us),
        fail_rate_(opt.sim_fail_rate),
        fail_errno_(opt.sim_fail_errno),
        has_meters_(std::none_of(
            opt.sim_unsupported.begin(), opt.sim_unsupported.end(),
            [](const std::string& n) { return strcasecmp(n.c_str(), "METER") == 0; })) {}

  std::string_view name() const override { return "sim"; }

  FlowStatus validate(const rte_flow_attr& attr, const rte_flow_item* pattern,
                      const rte_flow_action* actions) override {
    std::lock_guard<std::mutex> g(mu_);
    return table_.validate(attr, pattern, actions);
  }

  FlowResult<FlowHandle> create(const rte_flow_attr& attr, const rte_flow_item* pattern,
                                const rte_flow_action* actions) override {
    // The latency is the firmware's, not the table's: the datapath keeps running.
    if (insert_latency_.count() > 0) std::this_thread::sleep_for(insert_latency_);
    std::lock_guard<std::mutex> g(mu_);
    if (fail_rate_ > 0 && chance_(rng_) < fail_rate_)
      return FlowError{fail_errno_, RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
                       fmt::format("sim: cannot create flow: {} (injected by --sim-fail-rate {})",
                                   std::strerror(fail_errno_), fail_rate_)};
    return table_.create(attr, pattern, actions);
  }

  // One lock per run of the table's (FlowTable::kCreateRun rules), so the datapath waits for a run
  // (about 10 us), not for the whole batch. With an insertion latency or injected failures, rule by
  // rule as create() (both are per rule).
  void create_batch(const FlowRuleRef* rules, size_t n,
                    std::vector<FlowResult<FlowHandle>>& out) override {
    if (insert_latency_.count() > 0 || fail_rate_ > 0)
      return FlowBackend::create_batch(rules, n, out);
    constexpr size_t kRun = FlowTable::kCreateRun;
    for (size_t i = 0; i < n; i += kRun) {
      std::lock_guard<std::mutex> g(mu_);
      table_.create_batch(rules + i, std::min(kRun, n - i), out);
    }
  }

  FlowStatus destroy(FlowHandle h) override {
    std::lock_guard<std::mutex> g(mu_);
    return table_.destroy(h);
  }

  FlowResult<FlowCounters> query_count(FlowHandle h) override {
    std::lock_guard<std::mutex> g(mu_);
    return table_.query_count(h);
  }

  FlowStatus flush() override {
    std::lock_guard<std::mutex> g(mu_);
    table_.clear();
    return Unit{};
  }

  FlowStatus add_meter_profile(uint32_t profile_id, const MeterProfile& profile) override {
    if (!has_meters_) return no_meters("profile", profile_id);
    std::lock_guard<std::mutex> g(mu_);
    return table_.add_meter_profile(profile_id, profile);
  }
  FlowStatus delete_meter_profile(uint32_t profile_id) override {
    std::lock_guard<std::mutex> g(mu_);
    return table_.delete_meter_profile(profile_id);
  }
  FlowStatus create_meter(uint32_t meter_id, uint32_t profile_id) override {
    if (!has_meters_) return no_meters("", meter_id);
    std::lock_guard<std::mutex> g(mu_);
    return table_.create_meter(meter_id, profile_id);
  }
  FlowStatus destroy_meter(uint32_t meter_id) override {
    std::lock_guard<std::mutex> g(mu_);
    return table_.destroy_meter(meter_id);
  }
  FlowResult<MeterStats> read_meter_stats(uint32_t meter_id) override {
    if (!has_meters_) return no_meters("", meter_id);
    std::lock_guard<std::mutex> g(mu_);
    return table_.meter_stats(meter_id);
  }

 private:
  static FlowError no_meters(const char* what, uint32_t id) {
    return FlowError{
        ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
        fmt::format("sim: meter {}{}{}: action type METER not supported (no rte_mtr on this NIC)",
                    what, *what ? " " : "", id)};
  }

  std::mutex& mu_;
  FlowTable& table_;
  std::chrono::microseconds insert_latency_;
  double fail_rate_;
  int fail_errno_;
  bool has_meters_;
  std::mt19937 rng_{20240601};  // fixed seed: a test run's failures are reproducible
  std::uniform_real_distribution<double> chance_{0.0, 1.0};
};

}  // namespace vfs::drivers::sim
