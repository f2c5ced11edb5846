#include "drivers/sim/sim_rule_compiler.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include <fmt/core.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

namespace vfs::drivers::sim {
namespace {

// The header items are compared as wire bytes; these hold for the DPDK 22.11 structs.
static_assert(sizeof(rte_ether_hdr) == 14);
static_assert(sizeof(rte_vlan_hdr) == 4);
static_assert(sizeof(rte_ipv4_hdr) == 20);
static_assert(sizeof(rte_ipv6_hdr) == 40);
static_assert(sizeof(rte_tcp_hdr) == 20);
static_assert(sizeof(rte_udp_hdr) == 8);
static_assert(sizeof(rte_icmp_hdr) == 8);
static_assert(sizeof(rte_flow_item_icmp6) == 4);

constexpr unsigned kMaxListLength = 128;  // items or actions before END; guards a missing END
constexpr unsigned kMaxVlanItems = 2;

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherArp = 0x0806;
constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17, kProtoIcmp6 = 58;

FlowError flow_error(int code, rte_flow_error_type type, std::string msg) {
  return FlowError{code, type, std::move(msg)};
}

// ---- default masks (rte_flow.h hides its own from C++) ---------------------------------

template <size_t N>
constexpr std::array<uint8_t, N> mask_bytes(
    std::initializer_list<std::pair<unsigned, unsigned>> ranges) {
  std::array<uint8_t, N> m{};
  for (auto [from, to] : ranges)
    for (unsigned i = from; i < to; ++i) m[i] = 0xff;
  return m;
}

const auto kEthMask = mask_bytes<14>({{0, 12}});
const std::array<uint8_t, 4> kVlanMask = {0x0f, 0xff, 0, 0};
const auto kIpv4Mask = mask_bytes<20>({{12, 20}});
const auto kIpv6Mask = mask_bytes<40>({{8, 40}});
const auto kPortsMask = mask_bytes<20>({{0, 4}});  // TCP / UDP ports
const auto kIcmpMask = mask_bytes<8>({{0, 2}});    // ICMP / ICMP6 type and code
const auto kArpMask = mask_bytes<28>({{8, 28}});

// ARP_ETH_IPV4 is not packed in DPDK 22.11: serialise it field by field.
std::array<uint8_t, 28> arp_wire(const rte_flow_item_arp_eth_ipv4& a) {
  std::array<uint8_t, 28> b{};
  std::memcpy(&b[0], &a.hrd, 2);
  std::memcpy(&b[2], &a.pro, 2);
  b[4] = a.hln;
  b[5] = a.pln;
  std::memcpy(&b[6], &a.op, 2);
  std::memcpy(&b[8], &a.sha, 6);
  std::memcpy(&b[14], &a.spa, 4);
  std::memcpy(&b[18], &a.tha, 6);
  std::memcpy(&b[24], &a.tpa, 4);
  return b;
}

using Values = std::array<uint8_t, kMaxHeader>;

// Word by word and branch-free on purpose: this is most of a rule's compile time. N is
// the header's fixed size, so that the copies and the loop unroll.
template <unsigned N>
void set_compare(StepShape& s, Values& value, const uint8_t* spec, const uint8_t* mask) {
  static_assert(N <= kMaxHeader);
  constexpr unsigned kWords = (N + 7) / 8;
  uint64_t v[kWords] = {}, m[kWords] = {};  // bytes past N stay zero
  std::memcpy(v, spec, N);
  std::memcpy(m, mask, N);
  std::memcpy(s.mask.data(), mask, N);
  unsigned len = 0;  // up to the last byte the mask keeps
  for (unsigned i = 0; i < kWords; ++i) {
    v[i] &= m[i];
    static_assert(std::endian::native == std::endian::little);
    // The highest set bit is in the word's last nonzero byte.
    if (m[i]) len = 8 * i + (63 - static_cast<unsigned>(__builtin_clzll(m[i]))) / 8 + 1;
  }
  std::memcpy(value.data(), v, N);
  s.cmp_len = static_cast<uint8_t>(len);
}

bool all_ones(const uint8_t* m, unsigned n) {
  return std::all_of(m, m + n, [](uint8_t b) { return b == 0xff; });
}

int sim_port(const CompileContext& cx, uint32_t ethdev) {
  if (ethdev >= cx.sim_port_of.size()) return -1;
  const uint16_t p = cx.sim_port_of[ethdev];
  return p == kNoSimPort ? -1 : p;
}

inline bool listed(const std::vector<int>& v, int t) {
  return !v.empty() && std::find(v.begin(), v.end(), t) != v.end();
}

// What the previous pattern item says the next header is (fully masked fields only).
struct Announced {
  int ethertype = -1;
  int proto = -1;
};

enum class Layer { none, eth, vlan, l3, l4 };

// The pattern in compiled form, before the key is laid out.
struct Pattern {
  explicit Pattern(MatchShape& s) : shape(s) {}
  int src_port = -1;  // sim port, -1 = any
  MatchShape& shape;
  std::array<Values, kMaxSteps> values;  // the first cmp_len bytes of each step are set
  bool vlan_matched = false;             // a tag is known to be there (for VLAN edits)
};

FlowStatus compile_pattern(const CompileContext& cx, const rte_flow_item* pattern, Pattern& out) {
  if (!pattern) return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_NUM, "sim: pattern is NULL");
  Layer layer = Layer::none;
  uint16_t l3_type = 0;
  unsigned n_vlan = 0;
  int eth_has_vlan = -1;
  bool port_seen = false;
  Announced next;
  MatchShape& shape = out.shape;

  for (unsigned n = 0;; ++n, ++pattern) {
    if (n == kMaxListLength)
      return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_NUM,
                        fmt::format("sim: pattern longer than {} items (missing END?)", n));
    const rte_flow_item& it = *pattern;
    if (it.type == RTE_FLOW_ITEM_TYPE_END) break;
    if (it.type == RTE_FLOW_ITEM_TYPE_VOID) continue;
    // Names only for messages: looking them up costs more than compiling the item.
    auto name = [&] { return flow_item_name(it.type); };
    if (listed(cx.unsupported_items, it.type))
      return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM,
                        fmt::format("sim: item type {} not supported", name()));
    if (it.last)
      return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_LAST,
                        fmt::format("sim: item {}: ranges (last) not supported", name()));
    if (!it.spec && it.mask)
      return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ITEM,
                        fmt::format("sim: item {}: mask without spec", name()));

    auto out_of_order = [&](const char* after) {
      return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ITEM,
                        fmt::format("sim: item {} cannot follow {}", name(), after));
    };
    auto layer_name = [&]() -> const char* {
      switch (layer) {
        case Layer::none:
          return "nothing";
        case Layer::eth:
          return "ETH";
        case Layer::vlan:
          return "VLAN";
        case Layer::l3:
          return l3_type == kEtherIpv4 ? "IPV4" : l3_type == kEtherIpv6 ? "IPV6" : "ARP_ETH_IPV4";
        case Layer::l4:
          return l3_type == kEtherArp ? "ARP_ETH_IPV4" : "an L4 item";
      }
      return "?";
    };
    // The ordering rules below allow at most kMaxSteps header items.
    if (it.type != RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT && it.type != RTE_FLOW_ITEM_TYPE_PORT_ID &&
        shape.n_steps == kMaxSteps)
      return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM,
                        fmt::format("sim: item {}: more than {} header items", name(), kMaxSteps));
    StepShape& s = shape.steps[shape.n_steps];
    Values& value = out.values[shape.n_steps];

    switch (it.type) {
      case RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT:
      case RTE_FLOW_ITEM_TYPE_PORT_ID: {
        if (port_seen)
          return flow_error(
              EINVAL, RTE_FLOW_ERROR_TYPE_ITEM,
              fmt::format("sim: item {}: the source port is already matched", name()));
        port_seen = true;
        if (!it.spec) break;  // any port
        uint32_t id = 0;
        uint32_t mask = 0;
        if (it.type == RTE_FLOW_ITEM_TYPE_PORT_ID) {
          id = static_cast<const rte_flow_item_port_id*>(it.spec)->id;
          mask = it.mask ? static_cast<const rte_flow_item_port_id*>(it.mask)->id : 0xffffffffu;
          if (mask == 0xffffffffu) mask = 0xffff;
        } else {
          id = static_cast<const rte_flow_item_ethdev*>(it.spec)->port_id;
          mask = it.mask ? static_cast<const rte_flow_item_ethdev*>(it.mask)->port_id : 0xffff;
        }
        if (mask == 0) break;
        if (mask != 0xffff)
          return flow_error(
              ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_MASK,
              fmt::format("sim: item {}: partial port mask {:#x} not supported", name(), mask));
        const int p = sim_port(cx, id);
        if (p < 0)
          return flow_error(
              EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_SPEC,
              fmt::format("sim: item {}: port {} is not a port of this eSwitch", name(), id));
        out.src_port = p;
        break;
      }

      case RTE_FLOW_ITEM_TYPE_ETH: {
        if (layer != Layer::none) return out_of_order(layer_name());
        s = StepShape{};
        s.kind = StepKind::eth;
        if (it.spec) {
          const auto* spec = static_cast<const rte_flow_item_eth*>(it.spec);
          const auto* m = static_cast<const rte_flow_item_eth*>(it.mask);
          const uint8_t* mb = m ? reinterpret_cast<const uint8_t*>(&m->hdr) : kEthMask.data();
          set_compare<14>(s, value, reinterpret_cast<const uint8_t*>(&spec->hdr), mb);
          if (m && m->reserved)
            return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_MASK,
                              "sim: item ETH: reserved mask bits set");
          if (m && m->has_vlan) {
            eth_has_vlan = spec->has_vlan;
            s.flag = static_cast<int8_t>(spec->has_vlan);
          }
          if (all_ones(mb + 12, 2)) next.ethertype = load_be16(value.data() + 12);
        }
        ++shape.n_steps;
        layer = Layer::eth;
        if (eth_has_vlan == 1) out.vlan_matched = true;
        continue;  // `next` describes this item's successor
      }

      case RTE_FLOW_ITEM_TYPE_VLAN: {
        if (layer != Layer::none && layer != Layer::eth && layer != Layer::vlan)
          return out_of_order(layer_name());
        if (n_vlan == kMaxVlanItems)
          return flow_error(
              ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM,
              fmt::format("sim: more than {} VLAN items not supported", kMaxVlanItems));
        if (eth_has_vlan == 0)
          return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ITEM,
                            "sim: item VLAN conflicts with ETH has_vlan = 0");
        if (next.ethertype >= 0 && !is_vlan_tpid(static_cast<uint16_t>(next.ethertype)))
          return flow_error(
              EINVAL, RTE_FLOW_ERROR_TYPE_ITEM,
              fmt::format("sim: item VLAN follows EtherType {:#06x}", next.ethertype));
        next = {};
        s = StepShape{};
        s.kind = StepKind::vlan;
        s.vlan_index = static_cast<uint8_t>(n_vlan);
        if (it.spec) {
          const auto* spec = static_cast<const rte_flow_item_vlan*>(it.spec);
          const auto* m = static_cast<const rte_flow_item_vlan*>(it.mask);
          const uint8_t* mb = m ? reinterpret_cast<const uint8_t*>(&m->hdr) : kVlanMask.data();
          set_compare<4>(s, value, reinterpret_cast<const uint8_t*>(&spec->hdr), mb);
          if (m && m->reserved)
            return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_MASK,
                              "sim: item VLAN: reserved mask bits set");
          if (m && m->has_more_vlan) s.flag = static_cast<int8_t>(spec->has_more_vlan);
          if (all_ones(mb + 2, 2)) next.ethertype = load_be16(value.data() + 2);
        }
        ++shape.n_steps;
        ++n_vlan;
        layer = Layer::vlan;
        out.vlan_matched = true;
        continue;
      }

      case RTE_FLOW_ITEM_TYPE_IPV4:
      case RTE_FLOW_ITEM_TYPE_IPV6:
      case RTE_FLOW_ITEM_TYPE_ARP_ETH_IPV4: {
        if (layer != Layer::none && layer != Layer::eth && layer != Layer::vlan)
          return out_of_order(layer_name());
        s = StepShape{};
        s.kind = StepKind::l3;
        s.ethertype = it.type == RTE_FLOW_ITEM_TYPE_IPV4   ? kEtherIpv4
                      : it.type == RTE_FLOW_ITEM_TYPE_IPV6 ? kEtherIpv6
                                                           : kEtherArp;
        if (next.ethertype >= 0 && next.ethertype != s.ethertype &&
            !(layer == Layer::eth && is_vlan_tpid(static_cast<uint16_t>(next.ethertype))))
          return flow_error(
              EINVAL, RTE_FLOW_ERROR_TYPE_ITEM,
              fmt::format("sim: item {} follows EtherType {:#06x}", name(), next.ethertype));
        next = {};
        s.tags = n_vlan > 0 ? static_cast<int8_t>(n_vlan) : (eth_has_vlan == 0 ? 0 : -1);
        if (it.spec) {
          if (it.type == RTE_FLOW_ITEM_TYPE_IPV4) {
            const auto* spec = static_cast<const rte_flow_item_ipv4*>(it.spec);
            const auto* m = static_cast<const rte_flow_item_ipv4*>(it.mask);
            const uint8_t* mb = m ? reinterpret_cast<const uint8_t*>(&m->hdr) : kIpv4Mask.data();
            set_compare<20>(s, value, reinterpret_cast<const uint8_t*>(&spec->hdr), mb);
            if (mb[9] == 0xff) next.proto = value[9];
          } else if (it.type == RTE_FLOW_ITEM_TYPE_IPV6) {
            const auto* spec = static_cast<const rte_flow_item_ipv6*>(it.spec);
            const auto* m = static_cast<const rte_flow_item_ipv6*>(it.mask);
            if (m && (m->has_hop_ext || m->has_route_ext || m->has_frag_ext || m->has_auth_ext ||
                      m->has_esp_ext || m->has_dest_ext || m->has_mobil_ext || m->has_hip_ext ||
                      m->has_shim6_ext || m->reserved))
              return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_MASK,
                                "sim: item IPV6: extension header matching not supported");
            const uint8_t* mb = m ? reinterpret_cast<const uint8_t*>(&m->hdr) : kIpv6Mask.data();
            set_compare<40>(s, value, reinterpret_cast<const uint8_t*>(&spec->hdr), mb);
            if (mb[6] == 0xff) next.proto = value[6];
          } else {
            const auto spec = arp_wire(*static_cast<const rte_flow_item_arp_eth_ipv4*>(it.spec));
            const auto mb = it.mask
                                ? arp_wire(*static_cast<const rte_flow_item_arp_eth_ipv4*>(it.mask))
                                : kArpMask;
            set_compare<28>(s, value, spec.data(), mb.data());
          }
        }
        ++shape.n_steps;
        l3_type = s.ethertype;
        layer = it.type == RTE_FLOW_ITEM_TYPE_ARP_ETH_IPV4 ? Layer::l4 : Layer::l3;
        continue;
      }

      case RTE_FLOW_ITEM_TYPE_TCP:
      case RTE_FLOW_ITEM_TYPE_UDP:
      case RTE_FLOW_ITEM_TYPE_ICMP:
      case RTE_FLOW_ITEM_TYPE_ICMP6: {
        StepShape l4;
        l4.kind = StepKind::l4;
        unsigned hlen = 0;
        const uint8_t* default_mask = nullptr;
        uint16_t needs_l3 = 0;
        switch (it.type) {
          case RTE_FLOW_ITEM_TYPE_TCP:
            l4.l4_proto = kProtoTcp, hlen = 20, default_mask = kPortsMask.data();
            break;
          case RTE_FLOW_ITEM_TYPE_UDP:
            l4.l4_proto = kProtoUdp, hlen = 8, default_mask = kPortsMask.data();
            break;
          case RTE_FLOW_ITEM_TYPE_ICMP:
            l4.l4_proto = kProtoIcmp, hlen = 8, default_mask = kIcmpMask.data(),
            needs_l3 = kEtherIpv4;
            break;
          default:
            l4.l4_proto = kProtoIcmp6, hlen = 4, default_mask = kIcmpMask.data(),
            needs_l3 = kEtherIpv6;
            break;
        }
        if (layer == Layer::l3) {
          if (needs_l3 && l3_type != needs_l3) return out_of_order(layer_name());
        } else if (layer != Layer::none) {
          return out_of_order(layer_name());
        }
        if (next.proto >= 0 && next.proto != l4.l4_proto)
          return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ITEM,
                            fmt::format("sim: item {} follows IP protocol {}", name(), next.proto));
        next = {};
        l4.ethertype = layer == Layer::l3 ? l3_type : needs_l3;
        if (it.spec) {
          // The rte_flow_item_{tcp,udp,icmp,icmp6} structs are the wire headers.
          const auto* spec = static_cast<const uint8_t*>(it.spec);
          const auto* mb = it.mask ? static_cast<const uint8_t*>(it.mask) : default_mask;
          switch (hlen) {
            case 20:
              set_compare<20>(l4, value, spec, mb);
              break;
            case 8:
              set_compare<8>(l4, value, spec, mb);
              break;
            default:
              set_compare<4>(l4, value, spec, mb);
              break;
          }
        }
        s = l4;
        ++shape.n_steps;
        layer = Layer::l4;
        continue;
      }

      default:
        return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM,
                          fmt::format("sim: item type {} not supported", name()));
    }
  }
  return Unit{};
}

// The sim port an output action names, or its refusal.
FlowResult<Destination> output_of(const CompileContext& cx, const rte_flow_action& a,
                                  const char* where) {
  auto name = [&] { return flow_action_name(a.type); };
  if (!a.conf)
    return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                      fmt::format("sim: {}action {} needs a configuration", where, name()));
  uint32_t id = 0;
  if (a.type == RTE_FLOW_ACTION_TYPE_PORT_ID) {
    const auto* c = static_cast<const rte_flow_action_port_id*>(a.conf);
    if (c->original)
      return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                        fmt::format("sim: {}action PORT_ID: original not supported", where));
    id = c->id;
  } else {
    id = static_cast<const rte_flow_action_ethdev*>(a.conf)->port_id;
  }
  const int p = sim_port(cx, id);
  if (p < 0)
    return flow_error(
        EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
        fmt::format("sim: {}action {}: port {} is not a port of this eSwitch", where, name(), id));
  return Destination{a.type == RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR
                         ? Destination::Kind::representor
                         : Destination::Kind::wire,
                     static_cast<uint16_t>(p)};
}

bool is_output(rte_flow_action_type t) {
  return t == RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT || t == RTE_FLOW_ACTION_TYPE_PORT_ID ||
         t == RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR;
}

FlowResult<Sample> compile_sample(const CompileContext& cx, const rte_flow_action_sample& c) {
  if (c.ratio == 0)
    return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                      "sim: action SAMPLE: ratio 0 is invalid (1 samples every packet)");
  if (c.ratio != 1)
    return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                      fmt::format("sim: action SAMPLE: ratio {} not supported (only 1: a copy of "
                                  "every packet, for mirroring)",
                                  c.ratio));
  if (!c.actions)
    return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                      "sim: action SAMPLE: no action list");
  Sample s;
  const rte_flow_action* a = c.actions;
  for (unsigned n = 0;; ++n, ++a) {
    if (n == kMaxListLength)
      return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                        fmt::format("sim: action SAMPLE: list longer than {} (missing END?)", n));
    if (a->type == RTE_FLOW_ACTION_TYPE_END) break;
    if (a->type == RTE_FLOW_ACTION_TYPE_VOID) continue;
    if (listed(cx.unsupported_actions, a->type) || !is_output(a->type))
      return flow_error(
          ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
          fmt::format("sim: action SAMPLE: action {} not supported in a sample list{}",
                      flow_action_name(a->type),
                      listed(cx.unsupported_actions, a->type)
                          ? ""
                          : " (only REPRESENTED_PORT, PORT_ID and PORT_REPRESENTOR)"));
    auto d = output_of(cx, *a, "SAMPLE list: ");
    if (!d) return d.error();
    if (s.n_out == kMaxOutputs)
      return flow_error(
          ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
          fmt::format("sim: action SAMPLE: more than {} destinations not supported", kMaxOutputs));
    s.out[s.n_out++] = d.value();
  }
  if (s.n_out == 0)
    return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                      "sim: action SAMPLE: no destination (REPRESENTED_PORT, PORT_ID or "
                      "PORT_REPRESENTOR) in its list");
  return s;
}

FlowStatus compile_actions(const CompileContext& cx, const rte_flow_action* actions,
                           const rte_flow_attr& attr, bool vlan_matched, RuleActions& r) {
  if (!actions)
    return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_NUM, "sim: action list is NULL");
  bool pushed = false;
  for (unsigned n = 0;; ++n, ++actions) {
    if (n == kMaxListLength)
      return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_NUM,
                        fmt::format("sim: action list longer than {} (missing END?)", n));
    const rte_flow_action& a = *actions;
    if (a.type == RTE_FLOW_ACTION_TYPE_END) break;
    if (a.type == RTE_FLOW_ACTION_TYPE_VOID) continue;
    auto name = [&] { return flow_action_name(a.type); };
    if (listed(cx.unsupported_actions, a.type))
      return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                        fmt::format("sim: action type {} not supported", name()));
    auto no_conf = [&] {
      return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                        fmt::format("sim: action {} needs a configuration", name()));
    };
    auto conflicting_fate = [&] {
      return flow_error(
          EINVAL, RTE_FLOW_ERROR_TYPE_ACTION,
          fmt::format("sim: action {} conflicts with the rule's other fate action", name()));
    };
    auto edit_after_output = [&] {
      return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                        fmt::format("sim: action {} after an output action not supported", name()));
    };
    auto needs_tag = [&] {
      return flow_error(
          ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
          fmt::format("sim: action {} needs OF_PUSH_VLAN before it or a VLAN match", name()));
    };
    auto add_op = [&](Op op) -> FlowStatus {
      if (r.n_ops == kMaxOps)
        return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                          fmt::format("sim: action {}: more than {} VLAN edit, METER and SAMPLE "
                                      "actions per rule not supported",
                                      name(), kMaxOps));
      r.ops[r.n_ops++] = op;
      return Unit{};
    };

    switch (a.type) {
      case RTE_FLOW_ACTION_TYPE_COUNT:
        if (r.counted)
          return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ACTION, "sim: duplicate COUNT action");
        r.counted = true;
        break;

      case RTE_FLOW_ACTION_TYPE_DROP:
        if (r.fate != Rule::Fate::none) return conflicting_fate();
        r.fate = Rule::Fate::drop;
        break;

      case RTE_FLOW_ACTION_TYPE_JUMP: {
        if (!a.conf) return no_conf();
        if (r.fate == Rule::Fate::output)
          return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                            "sim: JUMP together with output actions not supported");
        if (r.fate != Rule::Fate::none) return conflicting_fate();
        const uint32_t target = static_cast<const rte_flow_action_jump*>(a.conf)->group;
        if (target <= attr.group)
          return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                            fmt::format("sim: JUMP from group {} to group {}: only jumps to a "
                                        "higher group are supported",
                                        attr.group, target));
        r.fate = Rule::Fate::jump;
        r.jump_group = target;
        break;
      }

      case RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT:
      case RTE_FLOW_ACTION_TYPE_PORT_ID:
      case RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR: {
        if (!a.conf) return no_conf();
        if (r.fate == Rule::Fate::jump)
          return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                            "sim: JUMP together with output actions not supported");
        if (r.fate == Rule::Fate::drop) return conflicting_fate();
        auto d = output_of(cx, a, "");
        if (!d) return d.error();
        if (r.n_out == kMaxOutputs)
          return flow_error(
              ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
              fmt::format("sim: more than {} output actions not supported", kMaxOutputs));
        r.out[r.n_out++] = d.value();
        r.fate = Rule::Fate::output;
        break;
      }

      case RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN: {
        if (!a.conf) return no_conf();
        if (r.fate == Rule::Fate::output) return edit_after_output();
        if (pushed)
          return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                            "sim: more than one OF_PUSH_VLAN per rule not supported");
        const uint16_t tpid =
            rte_be_to_cpu_16(static_cast<const rte_flow_action_of_push_vlan*>(a.conf)->ethertype);
        if (tpid != 0x8100 && tpid != 0x88a8)
          return flow_error(
              EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
              fmt::format("sim: action OF_PUSH_VLAN: {:#06x} is not a VLAN TPID", tpid));
        if (auto st = add_op({Op::Kind::push_vlan, tpid}); !st) return st;
        pushed = true;
        break;
      }

      case RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID: {
        if (!a.conf) return no_conf();
        if (r.fate == Rule::Fate::output) return edit_after_output();
        if (!pushed && !vlan_matched) return needs_tag();
        const uint16_t vid =
            rte_be_to_cpu_16(static_cast<const rte_flow_action_of_set_vlan_vid*>(a.conf)->vlan_vid);
        if (vid > 0xfff)
          return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                            fmt::format("sim: action OF_SET_VLAN_VID: VID {} out of range", vid));
        if (auto st = add_op({Op::Kind::set_vid, vid}); !st) return st;
        break;
      }

      case RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP: {
        if (!a.conf) return no_conf();
        if (r.fate == Rule::Fate::output) return edit_after_output();
        if (!pushed && !vlan_matched) return needs_tag();
        const uint8_t pcp = static_cast<const rte_flow_action_of_set_vlan_pcp*>(a.conf)->vlan_pcp;
        if (pcp > 7)
          return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                            fmt::format("sim: action OF_SET_VLAN_PCP: PCP {} out of range", pcp));
        if (auto st = add_op({Op::Kind::set_pcp, pcp}); !st) return st;
        break;
      }

      case RTE_FLOW_ACTION_TYPE_OF_POP_VLAN:
        if (r.fate == Rule::Fate::output) return edit_after_output();
        if (!vlan_matched)
          return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                            "sim: action OF_POP_VLAN needs a VLAN match in the pattern");
        if (auto st = add_op({Op::Kind::pop_vlan, 0}); !st) return st;
        break;

      case RTE_FLOW_ACTION_TYPE_METER: {
        if (!a.conf) return no_conf();
        if (r.meter)
          return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                            "sim: more than one METER action per rule not supported");
        const uint32_t id = static_cast<const rte_flow_action_meter*>(a.conf)->mtr_id;
        Meter* m = cx.meters.find(id);
        if (!m)
          return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                            fmt::format("sim: action METER: no meter {} (create it first)", id));
        if (auto st = add_op({Op::Kind::meter, 0}); !st) return st;
        r.meter = m;
        break;
      }

      case RTE_FLOW_ACTION_TYPE_SAMPLE: {
        if (!a.conf) return no_conf();
        if (r.n_samples == kMaxSamples)
          return flow_error(
              ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
              fmt::format("sim: more than {} SAMPLE actions per rule not supported", kMaxSamples));
        auto s = compile_sample(cx, *static_cast<const rte_flow_action_sample*>(a.conf));
        if (!s) return s.error();
        if (auto st = add_op({Op::Kind::sample, r.n_samples}); !st) return st;
        r.samples[r.n_samples++] = s.value();
        break;
      }

      default:
        return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                          fmt::format("sim: action type {} not supported", name()));
    }
  }
  if (r.fate == Rule::Fate::none)
    return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ACTION,
                      "sim: rule has no fate action (DROP, JUMP, PORT_ID, REPRESENTED_PORT or "
                      "PORT_REPRESENTOR)");
  return Unit{};
}

}  // namespace

FlowStatus compile_match(const CompileContext& cx, const rte_flow_attr& attr,
                         const rte_flow_item* pattern, Rule& r, MatchShape& shape,
                         bool& vlan_matched) {
  if (!attr.transfer)
    return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER,
                      "sim: only transfer rules are supported");
  if (attr.ingress)
    return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ATTR_INGRESS,
                      "sim: ingress is not supported on transfer rules");
  if (attr.egress)
    return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ATTR_EGRESS,
                      "sim: egress is not supported on transfer rules");
  if (attr.reserved)
    return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ATTR, "sim: reserved attribute bits set");
  r.group = attr.group;
  r.priority = attr.priority;
  shape.n_steps = 0;
  Pattern p(shape);
  if (auto st = compile_pattern(cx, pattern, p); !st) return st;
  vlan_matched = p.vlan_matched;

  // Lay out the key: the port, then each step's compared bytes.
  shape.port = p.src_port >= 0;
  shape.finish();
  unsigned at = 0;
  if (shape.port) {
    store_be16(r.key.bytes.data(), static_cast<uint16_t>(p.src_port));
    at = 2;
  }
  for (unsigned i = 0; i < shape.n_steps; ++i) {
    std::memcpy(r.key.bytes.data() + at, p.values[i].data(), shape.steps[i].cmp_len);
    at += shape.steps[i].cmp_len;
  }
  return Unit{};
}

FlowStatus compile_rule_actions(const CompileContext& cx, const rte_flow_attr& attr,
                                const rte_flow_action* actions, bool vlan_matched, Rule& r) {
  RuleActions a;
  if (auto st = compile_actions(cx, actions, attr, vlan_matched, a); !st) return st;
  r.set_actions(a);
  return Unit{};
}

FlowStatus compile_rule(const CompileContext& cx, const rte_flow_attr& attr,
                        const rte_flow_item* pattern, const rte_flow_action* actions, Rule& r,
                        MatchShape& shape) {
  bool vlan_matched = false;
  if (auto st = compile_match(cx, attr, pattern, r, shape, vlan_matched); !st) return st;
  return compile_rule_actions(cx, attr, actions, vlan_matched, r);
}

}  // namespace vfs::drivers::sim
