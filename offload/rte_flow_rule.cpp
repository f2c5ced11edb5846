#include "offload/rte_flow_rule.h"

#include <stdexcept>

#include <rte_byteorder.h>

namespace vfs::offload {

RteFlowRule::RteFlowRule(const RuleSpec& spec) {
  attr_.group = spec.group;
  attr_.priority = spec.priority;
  attr_.transfer = 1;

  size_t n = 0;
  const auto& m = spec.match;
  if (m.in_port) {
    port_spec_.port_id = *m.in_port;
    port_mask_.port_id = 0xffff;
    items_[n++] = {RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &port_spec_, nullptr, &port_mask_};
  }
  if (m.eth_src || m.eth_dst || m.has_vlan || m.vlan_vid) {
    if (m.eth_src) {
      std::copy(m.eth_src->begin(), m.eth_src->end(), eth_spec_.hdr.src_addr.addr_bytes);
      std::fill(std::begin(eth_mask_.hdr.src_addr.addr_bytes), std::end(eth_mask_.hdr.src_addr.addr_bytes), 0xff);
    }
    if (m.eth_dst) {
      std::copy(m.eth_dst->begin(), m.eth_dst->end(), eth_spec_.hdr.dst_addr.addr_bytes);
      std::fill(std::begin(eth_mask_.hdr.dst_addr.addr_bytes), std::end(eth_mask_.hdr.dst_addr.addr_bytes), 0xff);
    }
    if (m.has_vlan) {
      eth_spec_.has_vlan = *m.has_vlan ? 1 : 0;
      eth_mask_.has_vlan = 1;
    }
    items_[n++] = {RTE_FLOW_ITEM_TYPE_ETH, &eth_spec_, nullptr, &eth_mask_};
  }
  if (m.vlan_vid) {
    vlan_spec_.hdr.vlan_tci = rte_cpu_to_be_16(*m.vlan_vid & 0x0fff);
    vlan_mask_.hdr.vlan_tci = rte_cpu_to_be_16(0x0fff);
    items_[n++] = {RTE_FLOW_ITEM_TYPE_VLAN, &vlan_spec_, nullptr, &vlan_mask_};
  }
  items_[n] = {RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr, nullptr};

  if (spec.actions.size() + 1 > kMaxActions) throw std::logic_error("RuleSpec has too many actions");
  size_t k = 0;
  for (const auto& a : spec.actions) {
    rte_flow_action& out = actions_[k];
    switch (a.kind) {
      case ActionKind::count:
        out = {RTE_FLOW_ACTION_TYPE_COUNT, &count_conf_};
        break;
      case ActionKind::drop:
        out = {RTE_FLOW_ACTION_TYPE_DROP, nullptr};
        break;
      case ActionKind::jump:
        jump_conf_[k].group = a.arg;
        out = {RTE_FLOW_ACTION_TYPE_JUMP, &jump_conf_[k]};
        break;
      case ActionKind::port:
        port_conf_[k].port_id = static_cast<uint16_t>(a.arg);
        out = {RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &port_conf_[k]};
        break;
      case ActionKind::push_vlan:
        push_conf_[k].ethertype = rte_cpu_to_be_16(static_cast<uint16_t>(a.arg));
        out = {RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN, &push_conf_[k]};
        break;
      case ActionKind::set_vlan_vid:
        vid_conf_[k].vlan_vid = rte_cpu_to_be_16(static_cast<uint16_t>(a.arg));
        out = {RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID, &vid_conf_[k]};
        break;
      case ActionKind::pop_vlan:
        out = {RTE_FLOW_ACTION_TYPE_OF_POP_VLAN, nullptr};
        break;
    }
    ++k;
  }
  actions_[k] = {RTE_FLOW_ACTION_TYPE_END, nullptr};
}

}  // namespace vfs::offload
