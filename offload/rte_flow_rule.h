// offload/rte_flow_rule.h owns the translation of a RuleSpec into the rte_flow arrays a
// PMD receives (attr, END-terminated items with spec/mask, END-terminated actions with
// their confs). The arrays point into the object itself, so it is neither copied nor
// moved; build it where it is used.
#pragma once

#include <array>

#include <rte_flow.h>

#include "offload/rule_spec.h"

namespace vfs::offload {

class RteFlowRule {
 public:
  explicit RteFlowRule(const RuleSpec& spec);
  RteFlowRule(const RteFlowRule&) = delete;
  RteFlowRule& operator=(const RteFlowRule&) = delete;

  const rte_flow_attr& attr() const { return attr_; }
  const rte_flow_item* pattern() const { return items_.data(); }
  const rte_flow_action* actions() const { return actions_.data(); }

 private:
  static constexpr size_t kMaxItems = 8;
  static constexpr size_t kMaxActions = 16;
  static constexpr size_t kMaxMirrors = 4;

  // The conf of action k (one kind each).
  union ActionConf {
    rte_flow_action_ethdev port;
    rte_flow_action_jump jump;
    rte_flow_action_of_push_vlan push;
    rte_flow_action_of_set_vlan_vid vid;
    rte_flow_action_meter meter;
  };

  // Built once per rule created on the NIC: only what a rule uses is written (the arrays
  // up to their END, the specs and masks of its items, the confs of its actions), so that
  // the translation costs what the rule holds, not the size of this object.
  rte_flow_attr attr_{};
  std::array<rte_flow_item, kMaxItems> items_;
  std::array<rte_flow_action, kMaxActions> actions_;

  rte_flow_item_ethdev port_spec_, port_mask_;
  rte_flow_item_eth eth_spec_, eth_mask_;
  rte_flow_item_vlan vlan_spec_, vlan_mask_;
  rte_flow_item_ipv4 ipv4_spec_, ipv4_mask_;
  rte_flow_item_ipv6 ipv6_spec_, ipv6_mask_;
  rte_flow_item_tcp tcp_spec_, tcp_mask_;
  rte_flow_item_udp udp_spec_, udp_mask_;
  rte_flow_item_icmp icmp_spec_, icmp_mask_;
  rte_flow_item_icmp6 icmp6_spec_, icmp6_mask_;

  std::array<ActionConf, kMaxActions> conf_;
  rte_flow_action_count count_conf_{};
  // SAMPLE ratio 1: each mirror's sub-action list is REPRESENTED_PORT, END.
  std::array<rte_flow_action_sample, kMaxMirrors> sample_conf_;
  std::array<rte_flow_action_ethdev, kMaxMirrors> sample_port_;
  std::array<std::array<rte_flow_action, 2>, kMaxMirrors> sample_actions_;
};

}  // namespace vfs::offload
