// tests/unit/drivers/sim_rule_builder.h gives the sim's table tests short ways to state
// rte_flow rules (attributes, items, actions, END added) and to install them.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include <rte_flow.h>

#include "drivers/sim/sim_flow_table.h"

namespace vfs::test {

inline rte_flow_attr transfer_attr(uint32_t group = 0, uint32_t priority = 0) {
  rte_flow_attr a{};
  a.group = group;
  a.priority = priority;
  a.transfer = 1;
  return a;
}

inline rte_flow_item flow_item(rte_flow_item_type t, const void* spec = nullptr,
                               const void* mask = nullptr) {
  return rte_flow_item{t, spec, nullptr, mask};
}

inline rte_flow_action flow_action(rte_flow_action_type t, const void* conf = nullptr) {
  return rte_flow_action{t, conf};
}

inline drivers::FlowResult<drivers::FlowHandle> install_rule(drivers::sim::FlowTable& t,
                                                             const rte_flow_attr& a,
                                                             std::vector<rte_flow_item> items,
                                                             std::vector<rte_flow_action> acts) {
  items.push_back(flow_item(RTE_FLOW_ITEM_TYPE_END));
  acts.push_back(flow_action(RTE_FLOW_ACTION_TYPE_END));
  return t.create(a, items.data(), acts.data());
}

inline drivers::FlowHandle must_install_rule(drivers::sim::FlowTable& t, const rte_flow_attr& a,
                                             std::vector<rte_flow_item> items,
                                             std::vector<rte_flow_action> acts) {
  auto r = install_rule(t, a, std::move(items), std::move(acts));
  const std::string why = r.ok() ? std::string() : r.error().message;
  INFO(why);
  REQUIRE(r.ok());
  return r.value();
}

inline void check_flow_error(const drivers::FlowError& e, int code, rte_flow_error_type type,
                             const std::string& words) {
  CHECK(e.code == code);
  CHECK(e.type == type);
  INFO(e.message);
  CHECK(e.message.find(words) != std::string::npos);
}

// A SAMPLE action's configuration with its own END-terminated list, kept alive together.
struct SampleConf {
  std::vector<rte_flow_action> list;
  rte_flow_action_sample conf{};
  SampleConf(uint32_t ratio, std::vector<rte_flow_action> actions) : list(std::move(actions)) {
    list.push_back(flow_action(RTE_FLOW_ACTION_TYPE_END));
    conf.ratio = ratio;
    conf.actions = list.data();
  }
  SampleConf(const SampleConf&) = delete;
  SampleConf& operator=(const SampleConf&) = delete;
};

// The bytes of a verdict's SAMPLE copy; orig is the frame's first byte before classify().
inline std::vector<uint8_t> mirror_bytes(const drivers::sim::Mirror& m, const uint8_t* orig,
                                         uint32_t orig_len) {
  std::vector<uint8_t> out(drivers::sim::mirror_length(m, orig_len));
  drivers::sim::copy_mirror(m, orig, orig_len, out.data());
  return out;
}

}  // namespace vfs::test
