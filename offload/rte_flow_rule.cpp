#include "offload/rte_flow_rule.h"

#include <cstring>
#include <stdexcept>

#include <rte_byteorder.h>

namespace vfs::offload {

RteFlowRule::RteFlowRule(const RuleSpec& spec) {
  attr_.group = spec.group;
  attr_.priority = spec.priority;
  attr_.transfer = 1;

  size_t n = 0;
  const auto& m = spec.match;
  const bool vlan_item = m.tagged || m.tpid || m.vlan_vid || m.more_vlan;
  if (m.in_port) {
    port_spec_ = {};
    port_mask_ = {};
    port_spec_.port_id = *m.in_port;
    port_mask_.port_id = 0xffff;
    items_[n++] = {RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &port_spec_, nullptr, &port_mask_};
  }
  if (m.eth_src || m.eth_dst || m.has_vlan || (m.ether_type && !vlan_item) || vlan_item || m.l3) {
    eth_spec_ = {};
    eth_mask_ = {};
    if (m.eth_src) {
      std::copy(m.eth_src->begin(), m.eth_src->end(), eth_spec_.hdr.src_addr.addr_bytes);
      const Mac mask = m.eth_src_mask.value_or(Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
      std::copy(mask.begin(), mask.end(), eth_mask_.hdr.src_addr.addr_bytes);
    }
    if (m.eth_dst) {
      std::copy(m.eth_dst->begin(), m.eth_dst->end(), eth_spec_.hdr.dst_addr.addr_bytes);
      const Mac mask = m.eth_dst_mask.value_or(Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
      std::copy(mask.begin(), mask.end(), eth_mask_.hdr.dst_addr.addr_bytes);
    }
    if (m.ether_type && !vlan_item) {
      eth_spec_.hdr.ether_type = rte_cpu_to_be_16(*m.ether_type);
      eth_mask_.hdr.ether_type = 0xffff;
    }
    if (m.tpid && vlan_item) {
      eth_spec_.hdr.ether_type = rte_cpu_to_be_16(*m.tpid);
      eth_mask_.hdr.ether_type = 0xffff;
    }
    if (m.has_vlan) {
      eth_spec_.has_vlan = *m.has_vlan ? 1 : 0;
      eth_mask_.has_vlan = 1;
    }
    items_[n++] = {RTE_FLOW_ITEM_TYPE_ETH, &eth_spec_, nullptr, &eth_mask_};
  }
  if (vlan_item) {
    vlan_spec_ = {};
    vlan_mask_ = {};
    if (m.vlan_vid) {
      vlan_spec_.hdr.vlan_tci = rte_cpu_to_be_16(*m.vlan_vid & 0x0fff);
      vlan_mask_.hdr.vlan_tci = rte_cpu_to_be_16(0x0fff);
    }
    if (m.more_vlan) {
      vlan_spec_.has_more_vlan = *m.more_vlan ? 1 : 0;
      vlan_mask_.has_more_vlan = 1;
    }
    if (m.ether_type) {
      vlan_spec_.hdr.eth_proto = rte_cpu_to_be_16(*m.ether_type);
      vlan_mask_.hdr.eth_proto = 0xffff;
    }
    items_[n++] = {RTE_FLOW_ITEM_TYPE_VLAN, &vlan_spec_, nullptr, &vlan_mask_};
  }
  if (m.l3 == 4) {
    ipv4_spec_ = {};
    ipv4_mask_ = {};
    if (m.ip_src) {
      std::memcpy(&ipv4_spec_.hdr.src_addr, m.ip_src->addr.data(), 4);
      std::memcpy(&ipv4_mask_.hdr.src_addr, m.ip_src->mask.data(), 4);
    }
    if (m.ip_dst) {
      std::memcpy(&ipv4_spec_.hdr.dst_addr, m.ip_dst->addr.data(), 4);
      std::memcpy(&ipv4_mask_.hdr.dst_addr, m.ip_dst->mask.data(), 4);
    }
    if (m.ip_proto) {
      ipv4_spec_.hdr.next_proto_id = *m.ip_proto;
      ipv4_mask_.hdr.next_proto_id = 0xff;
    }
    items_[n++] = {RTE_FLOW_ITEM_TYPE_IPV4, &ipv4_spec_, nullptr, &ipv4_mask_};
  } else if (m.l3 == 6) {
    ipv6_spec_ = {};
    ipv6_mask_ = {};
    if (m.ip_src) {
      std::memcpy(ipv6_spec_.hdr.src_addr, m.ip_src->addr.data(), 16);
      std::memcpy(ipv6_mask_.hdr.src_addr, m.ip_src->mask.data(), 16);
    }
    if (m.ip_dst) {
      std::memcpy(ipv6_spec_.hdr.dst_addr, m.ip_dst->addr.data(), 16);
      std::memcpy(ipv6_mask_.hdr.dst_addr, m.ip_dst->mask.data(), 16);
    }
    if (m.ip_proto) {
      ipv6_spec_.hdr.proto = *m.ip_proto;
      ipv6_mask_.hdr.proto = 0xff;
    }
    items_[n++] = {RTE_FLOW_ITEM_TYPE_IPV6, &ipv6_spec_, nullptr, &ipv6_mask_};
  }
  if (m.has_l4()) {
    if (m.icmp_type || m.icmp_code) {
      if (m.l3 == 6) {
        icmp6_spec_ = {};
        icmp6_mask_ = {};
        if (m.icmp_type) icmp6_spec_.type = *m.icmp_type, icmp6_mask_.type = 0xff;
        if (m.icmp_code) icmp6_spec_.code = *m.icmp_code, icmp6_mask_.code = 0xff;
        items_[n++] = {RTE_FLOW_ITEM_TYPE_ICMP6, &icmp6_spec_, nullptr, &icmp6_mask_};
      } else {
        icmp_spec_ = {};
        icmp_mask_ = {};
        if (m.icmp_type) icmp_spec_.hdr.icmp_type = *m.icmp_type, icmp_mask_.hdr.icmp_type = 0xff;
        if (m.icmp_code) icmp_spec_.hdr.icmp_code = *m.icmp_code, icmp_mask_.hdr.icmp_code = 0xff;
        items_[n++] = {RTE_FLOW_ITEM_TYPE_ICMP, &icmp_spec_, nullptr, &icmp_mask_};
      }
    } else if (m.ip_proto == 17) {
      udp_spec_ = {};
      udp_mask_ = {};
      if (m.l4_src) {
        udp_spec_.hdr.src_port = rte_cpu_to_be_16(m.l4_src->value);
        udp_mask_.hdr.src_port = rte_cpu_to_be_16(m.l4_src->mask);
      }
      if (m.l4_dst) {
        udp_spec_.hdr.dst_port = rte_cpu_to_be_16(m.l4_dst->value);
        udp_mask_.hdr.dst_port = rte_cpu_to_be_16(m.l4_dst->mask);
      }
      items_[n++] = {RTE_FLOW_ITEM_TYPE_UDP, &udp_spec_, nullptr, &udp_mask_};
    } else {
      tcp_spec_ = {};
      tcp_mask_ = {};
      if (m.l4_src) {
        tcp_spec_.hdr.src_port = rte_cpu_to_be_16(m.l4_src->value);
        tcp_mask_.hdr.src_port = rte_cpu_to_be_16(m.l4_src->mask);
      }
      if (m.l4_dst) {
        tcp_spec_.hdr.dst_port = rte_cpu_to_be_16(m.l4_dst->value);
        tcp_mask_.hdr.dst_port = rte_cpu_to_be_16(m.l4_dst->mask);
      }
      if (m.tcp_flags) {
        tcp_spec_.hdr.tcp_flags = m.tcp_flags->value;
        tcp_mask_.hdr.tcp_flags = m.tcp_flags->mask;
      }
      items_[n++] = {RTE_FLOW_ITEM_TYPE_TCP, &tcp_spec_, nullptr, &tcp_mask_};
    }
  }
  items_[n] = {RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr, nullptr};

  if (spec.actions.size() + 1 > kMaxActions)
    throw std::logic_error("RuleSpec has too many actions");
  size_t k = 0, mirrors = 0;
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
        conf_[k].jump = {a.arg};
        out = {RTE_FLOW_ACTION_TYPE_JUMP, &conf_[k].jump};
        break;
      case ActionKind::port:
        conf_[k].port = {static_cast<uint16_t>(a.arg)};
        out = {RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &conf_[k].port};
        break;
      case ActionKind::to_slow_path:
        conf_[k].port = {static_cast<uint16_t>(a.arg)};
        out = {RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR, &conf_[k].port};
        break;
      case ActionKind::push_vlan:
        conf_[k].push = {rte_cpu_to_be_16(static_cast<uint16_t>(a.arg))};
        out = {RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN, &conf_[k].push};
        break;
      case ActionKind::set_vlan_vid:
        conf_[k].vid = {rte_cpu_to_be_16(static_cast<uint16_t>(a.arg))};
        out = {RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID, &conf_[k].vid};
        break;
      case ActionKind::pop_vlan:
        out = {RTE_FLOW_ACTION_TYPE_OF_POP_VLAN, nullptr};
        break;
      case ActionKind::meter:
        conf_[k].meter = {a.arg};
        out = {RTE_FLOW_ACTION_TYPE_METER, &conf_[k].meter};
        break;
      case ActionKind::mirror: {
        if (mirrors == kMaxMirrors) throw std::logic_error("RuleSpec has too many mirror actions");
        sample_port_[mirrors] = {static_cast<uint16_t>(a.arg)};
        sample_actions_[mirrors][0] = {RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT,
                                       &sample_port_[mirrors]};
        sample_actions_[mirrors][1] = {RTE_FLOW_ACTION_TYPE_END, nullptr};
        sample_conf_[mirrors] = {};
        sample_conf_[mirrors].ratio = 1;
        sample_conf_[mirrors].actions = sample_actions_[mirrors].data();
        out = {RTE_FLOW_ACTION_TYPE_SAMPLE, &sample_conf_[mirrors]};
        ++mirrors;
        break;
      }
    }
    ++k;
  }
  actions_[k] = {RTE_FLOW_ACTION_TYPE_END, nullptr};
}

}  // namespace vfs::offload
