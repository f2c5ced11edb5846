// rte_flow_conv (type names) is still experimental in DPDK 22.11; this must precede every
// DPDK header.
#define ALLOW_EXPERIMENTAL_API
#include "drivers/sim/sim_flow_table.h"

#include <strings.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

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
constexpr unsigned kMaxHeader = 40;       // IPv6, the longest header item
constexpr unsigned kMaxTags = 4;          // VLAN tags the parser walks
constexpr unsigned kMaxVlanItems = 2;
constexpr unsigned kWindowHead = 64;  // room for VLAN pushes in the edit window
constexpr unsigned kWindowMax = 256;  // frame bytes copied into the edit window

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherArp = 0x0806;
constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17, kProtoIcmp6 = 58;

uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
bool is_vlan_tpid(uint16_t t) { return t == 0x8100 || t == 0x88a8 || t == 0x9100; }

FlowError flow_error(int code, rte_flow_error_type type, std::string msg) {
  return FlowError{code, type, std::move(msg)};
}

// ---- compiled rules --------------------------------------------------------------------

enum class StepKind : uint8_t { eth, vlan, l3, l4 };

// One header item: value = spec & mask in wire layout, compared over cmp_len bytes.
struct MatchStep {
  StepKind kind = StepKind::eth;
  uint8_t cmp_len = 0;     // 0: the header's presence is enough
  uint8_t vlan_index = 0;  // vlan: 0 = outermost tag
  int8_t flag = -1;        // eth: has_vlan; vlan: has_more_vlan (-1 = not matched)
  int8_t tags = -1;        // l3: VLAN tags that must precede it (-1 = any)
  uint8_t l4_proto = 0;    // l4: IP protocol
  uint16_t ethertype = 0;  // l3: its EtherType; l4: that of its L3 (0 = IPv4 or IPv6)
  std::array<uint8_t, kMaxHeader> value{};
  std::array<uint8_t, kMaxHeader> mask{};
};

struct Edit {
  enum class Kind : uint8_t { push_vlan, set_vid, set_pcp, pop_vlan };
  Kind kind;
  uint16_t value;  // TPID, VID or PCP
};

struct Rule {
  uint64_t id = 0;
  uint64_t seq = 0;  // insertion order, breaks priority ties
  uint32_t group = 0;
  uint32_t priority = 0;
  int src_port = -1;  // sim port index, -1 = any
  std::vector<MatchStep> steps;
  std::vector<Edit> edits;  // applied in order, before the outputs
  enum class Fate : uint8_t { none, drop, jump, output } fate = Fate::none;
  uint32_t jump_group = 0;
  uint8_t n_out = 0;
  std::array<Destination, kMaxOutputs> out{};
  bool counted = false;
  FlowCounters counters;
};

bool runs_before(const Rule* a, const Rule* b) {
  return a->priority != b->priority ? a->priority < b->priority : a->seq < b->seq;
}

struct Group {
  std::vector<std::vector<Rule*>> by_port;  // rules that match one source port
  std::vector<Rule*> any_port;              // rules that match any source port
  size_t size = 0;
};

// ---- packet layout ---------------------------------------------------------------------

struct Layout {
  bool eth = false;      // a full Ethernet header is present
  uint8_t n_tags = 0;    // VLAN tags after the MAC addresses
  uint16_t l3_off = 0;   // first byte after the tags' EtherType
  uint16_t l3_type = 0;  // that EtherType
  bool l4 = false;       // an L4 header starts at l4_off
  uint8_t l4_proto = 0;
  uint16_t l4_off = 0;
};

Layout parse_layout(const uint8_t* p, uint32_t len) {
  Layout l;
  if (len < RTE_ETHER_HDR_LEN) return l;
  l.eth = true;
  uint32_t type_off = 12;
  uint16_t type = load_be16(p + type_off);
  while (is_vlan_tpid(type) && l.n_tags < kMaxTags && len >= type_off + 6) {
    ++l.n_tags;
    type_off += 4;
    type = load_be16(p + type_off);
  }
  l.l3_type = type;
  l.l3_off = static_cast<uint16_t>(type_off + 2);
  const uint8_t* ip = p + l.l3_off;
  if (type == kEtherIpv4 && len >= l.l3_off + 20u && (ip[0] >> 4) == 4 && (ip[0] & 0xf) >= 5) {
    const uint16_t frag_offset = load_be16(ip + 6) & 0x1fff;
    l.l4_off = static_cast<uint16_t>(l.l3_off + (ip[0] & 0xf) * 4);
    l.l4_proto = ip[9];
    l.l4 = frag_offset == 0 && l.l4_off <= len;
  } else if (type == kEtherIpv6 && len >= l.l3_off + 40u && (ip[0] >> 4) == 6) {
    l.l4_off = static_cast<uint16_t>(l.l3_off + 40);
    l.l4_proto = ip[6];
    l.l4 = true;
  }
  return l;
}

bool compare_masked(const MatchStep& s, const uint8_t* p, uint32_t len, uint32_t off) {
  if (len < off + s.cmp_len) return false;
  for (unsigned i = 0; i < s.cmp_len; ++i)
    if ((p[off + i] & s.mask[i]) != s.value[i]) return false;
  return true;
}

bool step_matches(const MatchStep& s, const Layout& l, const uint8_t* p, uint32_t len) {
  switch (s.kind) {
    case StepKind::eth:
      if (!l.eth) return false;
      if (s.flag >= 0 && (l.n_tags > 0) != (s.flag == 1)) return false;
      return compare_masked(s, p, len, 0);
    case StepKind::vlan:
      if (!l.eth || l.n_tags <= s.vlan_index) return false;
      if (s.flag >= 0 && (l.n_tags > s.vlan_index + 1) != (s.flag == 1)) return false;
      return compare_masked(s, p, len, RTE_ETHER_HDR_LEN + 4u * s.vlan_index);
    case StepKind::l3:
      if (!l.eth || l.l3_type != s.ethertype) return false;
      if (s.tags >= 0 && l.n_tags != s.tags) return false;
      return compare_masked(s, p, len, l.l3_off);
    case StepKind::l4:
      if (!l.l4 || l.l4_proto != s.l4_proto) return false;
      if (s.ethertype != 0 && l.l3_type != s.ethertype) return false;
      return compare_masked(s, p, len, l.l4_off);
  }
  return false;
}

bool rule_matches(const Rule& r, const Layout& l, const uint8_t* p, uint32_t len) {
  for (const MatchStep& s : r.steps)
    if (!step_matches(s, l, p, len)) return false;
  return true;
}

// ---- the edit window -------------------------------------------------------------------

// The first bytes of a frame, copied so that VLAN edits can be undone by a later miss; the
// bytes past the window never change.
struct Window {
  uint8_t* data = nullptr;
  uint32_t len = 0;
  uint32_t head = 0;  // free bytes in front of data
};

// Returns the drop reason, or nullopt-like SimCounter::count_ on success.
SimCounter apply_edit(const Edit& e, Window& w) {
  switch (e.kind) {
    case Edit::Kind::push_vlan:
      if (w.len < 12) return SimCounter::drop_edit_failed;
      if (w.head < 4) return SimCounter::drop_no_headroom;
      std::memmove(w.data - 4, w.data, 12);
      w.data -= 4;
      w.head -= 4;
      w.len += 4;
      store_be16(w.data + 12, e.value);
      store_be16(w.data + 14, 0);
      return SimCounter::count_;
    case Edit::Kind::pop_vlan:
      if (w.len < 18 || !is_vlan_tpid(load_be16(w.data + 12))) return SimCounter::count_;
      std::memmove(w.data + 4, w.data, 12);
      w.data += 4;
      w.head += 4;
      w.len -= 4;
      return SimCounter::count_;
    case Edit::Kind::set_vid:
    case Edit::Kind::set_pcp: {
      if (w.len < 16 || !is_vlan_tpid(load_be16(w.data + 12))) return SimCounter::count_;
      uint16_t tci = load_be16(w.data + 14);
      tci = e.kind == Edit::Kind::set_vid ? static_cast<uint16_t>((tci & 0xf000) | e.value)
                                          : static_cast<uint16_t>((tci & 0x1fff) | e.value << 13);
      store_be16(w.data + 14, tci);
      return SimCounter::count_;
    }
  }
  return SimCounter::count_;
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

void set_compare(MatchStep& s, const uint8_t* spec, const uint8_t* mask, unsigned n) {
  for (unsigned i = 0; i < n; ++i) {
    s.mask[i] = mask[i];
    s.value[i] = spec[i] & mask[i];
    if (mask[i]) s.cmp_len = static_cast<uint8_t>(i + 1);
  }
}

bool all_ones(const uint8_t* m, unsigned n) {
  return std::all_of(m, m + n, [](uint8_t b) { return b == 0xff; });
}

std::string type_name(const char* name, int t) {
  return name ? std::string(name) : fmt::format("type {}", t);
}

}  // namespace

std::string flow_item_name(rte_flow_item_type t) {
  const char* name = nullptr;
  if (static_cast<int>(t) >= 0 &&
      rte_flow_conv(RTE_FLOW_CONV_OP_ITEM_NAME_PTR, &name, sizeof(name),
                    reinterpret_cast<const void*>(static_cast<uintptr_t>(t)), nullptr) < 0)
    name = nullptr;
  return type_name(name, t);
}

std::string flow_action_name(rte_flow_action_type t) {
  const char* name = nullptr;
  if (static_cast<int>(t) >= 0 &&
      rte_flow_conv(RTE_FLOW_CONV_OP_ACTION_NAME_PTR, &name, sizeof(name),
                    reinterpret_cast<const void*>(static_cast<uintptr_t>(t)), nullptr) < 0)
    name = nullptr;
  return type_name(name, t);
}

// ---- the table -------------------------------------------------------------------------

struct FlowTable::Impl {
  std::vector<uint16_t> ethdev_ports;
  uint32_t capacity = 0;
  std::vector<int> unsupported_items;
  std::vector<int> unsupported_actions;
  std::unordered_map<uint64_t, std::unique_ptr<Rule>> rules;
  std::map<uint32_t, Group> groups;
  uint64_t next_id = 1;
  uint64_t next_seq = 1;
  std::array<uint8_t, kWindowHead + kWindowMax> window{};

  int sim_port(uint32_t ethdev) const {
    for (size_t i = 0; i < ethdev_ports.size(); ++i)
      if (ethdev_ports[i] == ethdev) return static_cast<int>(i);
    return -1;
  }
  FlowStatus compile(const rte_flow_attr& attr, const rte_flow_item* pattern,
                     const rte_flow_action* actions, Rule& r) const;
  FlowStatus compile_pattern(const rte_flow_item* pattern, Rule& r, bool& vlan_matched) const;
  FlowStatus compile_actions(const rte_flow_action* actions, const rte_flow_attr& attr,
                             bool vlan_matched, Rule& r) const;
  Rule* lookup(Group& g, uint16_t port, const Layout& l, const uint8_t* p, uint32_t len);
  std::vector<Rule*>& bucket(Group& g, const Rule& r) {
    return r.src_port >= 0 ? g.by_port[static_cast<size_t>(r.src_port)] : g.any_port;
  }
};

namespace {

// What the previous pattern item says the next header is (fully masked fields only).
struct Announced {
  int ethertype = -1;
  int proto = -1;
};

enum class Layer { none, eth, vlan, l3, l4 };

}  // namespace

FlowStatus FlowTable::Impl::compile_pattern(const rte_flow_item* pattern, Rule& r,
                                            bool& vlan_matched) const {
  if (!pattern) return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_NUM, "sim: pattern is NULL");
  Layer layer = Layer::none;
  uint16_t l3_type = 0;
  unsigned n_vlan = 0;
  int eth_has_vlan = -1;
  bool port_seen = false;
  Announced next;
  vlan_matched = false;

  for (unsigned n = 0;; ++n, ++pattern) {
    if (n == kMaxListLength)
      return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_NUM,
                        fmt::format("sim: pattern longer than {} items (missing END?)", n));
    const rte_flow_item& it = *pattern;
    if (it.type == RTE_FLOW_ITEM_TYPE_END) break;
    if (it.type == RTE_FLOW_ITEM_TYPE_VOID) continue;
    const std::string name = flow_item_name(it.type);
    if (std::find(unsupported_items.begin(), unsupported_items.end(), it.type) !=
        unsupported_items.end())
      return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM,
                        fmt::format("sim: item type {} not supported", name));
    if (it.last)
      return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_LAST,
                        fmt::format("sim: item {}: ranges (last) not supported", name));
    if (!it.spec && it.mask)
      return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ITEM,
                        fmt::format("sim: item {}: mask without spec", name));

    auto out_of_order = [&](const char* after) {
      return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ITEM,
                        fmt::format("sim: item {} cannot follow {}", name, after));
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

    switch (it.type) {
      case RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT:
      case RTE_FLOW_ITEM_TYPE_PORT_ID: {
        if (port_seen)
          return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ITEM,
                            fmt::format("sim: item {}: the source port is already matched", name));
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
              fmt::format("sim: item {}: partial port mask {:#x} not supported", name, mask));
        const int p = sim_port(id);
        if (p < 0)
          return flow_error(
              EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_SPEC,
              fmt::format("sim: item {}: port {} is not a port of this eSwitch", name, id));
        r.src_port = p;
        break;
      }

      case RTE_FLOW_ITEM_TYPE_ETH: {
        if (layer != Layer::none) return out_of_order(layer_name());
        MatchStep s;
        s.kind = StepKind::eth;
        if (it.spec) {
          const auto* spec = static_cast<const rte_flow_item_eth*>(it.spec);
          const auto* m = static_cast<const rte_flow_item_eth*>(it.mask);
          const uint8_t* mb = m ? reinterpret_cast<const uint8_t*>(&m->hdr) : kEthMask.data();
          set_compare(s, reinterpret_cast<const uint8_t*>(&spec->hdr), mb, 14);
          if (m && m->reserved)
            return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_MASK,
                              "sim: item ETH: reserved mask bits set");
          if (m && m->has_vlan) {
            eth_has_vlan = spec->has_vlan;
            s.flag = static_cast<int8_t>(spec->has_vlan);
          }
          if (all_ones(mb + 12, 2)) next.ethertype = load_be16(s.value.data() + 12);
        }
        r.steps.push_back(s);
        layer = Layer::eth;
        if (eth_has_vlan == 1) vlan_matched = true;
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
        MatchStep s;
        s.kind = StepKind::vlan;
        s.vlan_index = static_cast<uint8_t>(n_vlan);
        if (it.spec) {
          const auto* spec = static_cast<const rte_flow_item_vlan*>(it.spec);
          const auto* m = static_cast<const rte_flow_item_vlan*>(it.mask);
          const uint8_t* mb = m ? reinterpret_cast<const uint8_t*>(&m->hdr) : kVlanMask.data();
          set_compare(s, reinterpret_cast<const uint8_t*>(&spec->hdr), mb, 4);
          if (m && m->reserved)
            return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_MASK,
                              "sim: item VLAN: reserved mask bits set");
          if (m && m->has_more_vlan) s.flag = static_cast<int8_t>(spec->has_more_vlan);
          if (all_ones(mb + 2, 2)) next.ethertype = load_be16(s.value.data() + 2);
        }
        r.steps.push_back(s);
        ++n_vlan;
        layer = Layer::vlan;
        vlan_matched = true;
        continue;
      }

      case RTE_FLOW_ITEM_TYPE_IPV4:
      case RTE_FLOW_ITEM_TYPE_IPV6:
      case RTE_FLOW_ITEM_TYPE_ARP_ETH_IPV4: {
        if (layer != Layer::none && layer != Layer::eth && layer != Layer::vlan)
          return out_of_order(layer_name());
        MatchStep s;
        s.kind = StepKind::l3;
        s.ethertype = it.type == RTE_FLOW_ITEM_TYPE_IPV4   ? kEtherIpv4
                      : it.type == RTE_FLOW_ITEM_TYPE_IPV6 ? kEtherIpv6
                                                           : kEtherArp;
        if (next.ethertype >= 0 && next.ethertype != s.ethertype &&
            !(layer == Layer::eth && is_vlan_tpid(static_cast<uint16_t>(next.ethertype))))
          return flow_error(
              EINVAL, RTE_FLOW_ERROR_TYPE_ITEM,
              fmt::format("sim: item {} follows EtherType {:#06x}", name, next.ethertype));
        next = {};
        s.tags = n_vlan > 0 ? static_cast<int8_t>(n_vlan) : (eth_has_vlan == 0 ? 0 : -1);
        if (it.spec) {
          if (it.type == RTE_FLOW_ITEM_TYPE_IPV4) {
            const auto* spec = static_cast<const rte_flow_item_ipv4*>(it.spec);
            const auto* m = static_cast<const rte_flow_item_ipv4*>(it.mask);
            const uint8_t* mb = m ? reinterpret_cast<const uint8_t*>(&m->hdr) : kIpv4Mask.data();
            set_compare(s, reinterpret_cast<const uint8_t*>(&spec->hdr), mb, 20);
            if (mb[9] == 0xff) next.proto = s.value[9];
          } else if (it.type == RTE_FLOW_ITEM_TYPE_IPV6) {
            const auto* spec = static_cast<const rte_flow_item_ipv6*>(it.spec);
            const auto* m = static_cast<const rte_flow_item_ipv6*>(it.mask);
            if (m && (m->has_hop_ext || m->has_route_ext || m->has_frag_ext || m->has_auth_ext ||
                      m->has_esp_ext || m->has_dest_ext || m->has_mobil_ext || m->has_hip_ext ||
                      m->has_shim6_ext || m->reserved))
              return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_MASK,
                                "sim: item IPV6: extension header matching not supported");
            const uint8_t* mb = m ? reinterpret_cast<const uint8_t*>(&m->hdr) : kIpv6Mask.data();
            set_compare(s, reinterpret_cast<const uint8_t*>(&spec->hdr), mb, 40);
            if (mb[6] == 0xff) next.proto = s.value[6];
          } else {
            const auto spec = arp_wire(*static_cast<const rte_flow_item_arp_eth_ipv4*>(it.spec));
            const auto mb = it.mask
                                ? arp_wire(*static_cast<const rte_flow_item_arp_eth_ipv4*>(it.mask))
                                : kArpMask;
            set_compare(s, spec.data(), mb.data(), 28);
          }
        }
        r.steps.push_back(s);
        l3_type = s.ethertype;
        layer = it.type == RTE_FLOW_ITEM_TYPE_ARP_ETH_IPV4 ? Layer::l4 : Layer::l3;
        continue;
      }

      case RTE_FLOW_ITEM_TYPE_TCP:
      case RTE_FLOW_ITEM_TYPE_UDP:
      case RTE_FLOW_ITEM_TYPE_ICMP:
      case RTE_FLOW_ITEM_TYPE_ICMP6: {
        MatchStep s;
        s.kind = StepKind::l4;
        unsigned hlen = 0;
        const uint8_t* default_mask = nullptr;
        uint16_t needs_l3 = 0;
        switch (it.type) {
          case RTE_FLOW_ITEM_TYPE_TCP:
            s.l4_proto = kProtoTcp, hlen = 20, default_mask = kPortsMask.data();
            break;
          case RTE_FLOW_ITEM_TYPE_UDP:
            s.l4_proto = kProtoUdp, hlen = 8, default_mask = kPortsMask.data();
            break;
          case RTE_FLOW_ITEM_TYPE_ICMP:
            s.l4_proto = kProtoIcmp, hlen = 8, default_mask = kIcmpMask.data(),
            needs_l3 = kEtherIpv4;
            break;
          default:
            s.l4_proto = kProtoIcmp6, hlen = 4, default_mask = kIcmpMask.data(),
            needs_l3 = kEtherIpv6;
            break;
        }
        if (layer == Layer::l3) {
          if (needs_l3 && l3_type != needs_l3) return out_of_order(layer_name());
        } else if (layer != Layer::none) {
          return out_of_order(layer_name());
        }
        if (next.proto >= 0 && next.proto != s.l4_proto)
          return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ITEM,
                            fmt::format("sim: item {} follows IP protocol {}", name, next.proto));
        next = {};
        s.ethertype = layer == Layer::l3 ? l3_type : needs_l3;
        if (it.spec) {
          // The rte_flow_item_{tcp,udp,icmp,icmp6} structs are the wire headers.
          const auto* spec = static_cast<const uint8_t*>(it.spec);
          const auto* mb = it.mask ? static_cast<const uint8_t*>(it.mask) : default_mask;
          set_compare(s, spec, mb, hlen);
        }
        r.steps.push_back(s);
        layer = Layer::l4;
        continue;
      }

      default:
        return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM,
                          fmt::format("sim: item type {} not supported", name));
    }
  }
  return Unit{};
}

FlowStatus FlowTable::Impl::compile_actions(const rte_flow_action* actions,
                                            const rte_flow_attr& attr, bool vlan_matched,
                                            Rule& r) const {
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
    const std::string name = flow_action_name(a.type);
    if (std::find(unsupported_actions.begin(), unsupported_actions.end(), a.type) !=
        unsupported_actions.end())
      return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                        fmt::format("sim: action type {} not supported", name));
    auto no_conf = [&] {
      return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                        fmt::format("sim: action {} needs a configuration", name));
    };
    auto conflicting_fate = [&] {
      return flow_error(
          EINVAL, RTE_FLOW_ERROR_TYPE_ACTION,
          fmt::format("sim: action {} conflicts with the rule's other fate action", name));
    };
    auto edit_after_output = [&] {
      return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                        fmt::format("sim: action {} after an output action not supported", name));
    };
    auto needs_tag = [&] {
      return flow_error(
          ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
          fmt::format("sim: action {} needs OF_PUSH_VLAN before it or a VLAN match", name));
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
        uint32_t id = 0;
        if (a.type == RTE_FLOW_ACTION_TYPE_PORT_ID) {
          const auto* c = static_cast<const rte_flow_action_port_id*>(a.conf);
          if (c->original)
            return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                              "sim: action PORT_ID: original not supported");
          id = c->id;
        } else {
          id = static_cast<const rte_flow_action_ethdev*>(a.conf)->port_id;
        }
        const int p = sim_port(id);
        if (p < 0)
          return flow_error(
              EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF,
              fmt::format("sim: action {}: port {} is not a port of this eSwitch", name, id));
        if (r.n_out == kMaxOutputs)
          return flow_error(
              ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
              fmt::format("sim: more than {} output actions not supported", kMaxOutputs));
        r.out[r.n_out++] = Destination{a.type == RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR
                                           ? Destination::Kind::representor
                                           : Destination::Kind::wire,
                                       static_cast<uint16_t>(p)};
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
        r.edits.push_back({Edit::Kind::push_vlan, tpid});
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
        r.edits.push_back({Edit::Kind::set_vid, vid});
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
        r.edits.push_back({Edit::Kind::set_pcp, pcp});
        break;
      }

      case RTE_FLOW_ACTION_TYPE_OF_POP_VLAN:
        if (r.fate == Rule::Fate::output) return edit_after_output();
        if (!vlan_matched)
          return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                            "sim: action OF_POP_VLAN needs a VLAN match in the pattern");
        r.edits.push_back({Edit::Kind::pop_vlan, 0});
        break;

      default:
        return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                          fmt::format("sim: action type {} not supported", name));
    }
  }
  if (r.fate == Rule::Fate::none)
    return flow_error(EINVAL, RTE_FLOW_ERROR_TYPE_ACTION,
                      "sim: rule has no fate action (DROP, JUMP, PORT_ID, REPRESENTED_PORT or "
                      "PORT_REPRESENTOR)");
  return Unit{};
}

FlowStatus FlowTable::Impl::compile(const rte_flow_attr& attr, const rte_flow_item* pattern,
                                    const rte_flow_action* actions, Rule& r) const {
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
  bool vlan_matched = false;
  if (auto st = compile_pattern(pattern, r, vlan_matched); !st) return st;
  return compile_actions(actions, attr, vlan_matched, r);
}

Rule* FlowTable::Impl::lookup(Group& g, uint16_t port, const Layout& l, const uint8_t* p,
                              uint32_t len) {
  const std::vector<Rule*>& a = g.by_port[port];
  const std::vector<Rule*>& b = g.any_port;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    Rule* r = (j == b.size() || (i < a.size() && runs_before(a[i], b[j]))) ? a[i++] : b[j++];
    if (rule_matches(*r, l, p, len)) return r;
  }
  return nullptr;
}

FlowTable::FlowTable(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FlowTable::~FlowTable() = default;

Result<std::unique_ptr<FlowTable>> FlowTable::make(std::vector<uint16_t> ethdev_ports,
                                                   const FlowTableOptions& opt) {
  if (ethdev_ports.empty() || ethdev_ports.size() > UINT16_MAX)
    return make_error(EINVAL, "sim flow table: {} ports", ethdev_ports.size());
  auto impl = std::make_unique<Impl>();
  impl->ethdev_ports = std::move(ethdev_ports);
  impl->capacity = opt.capacity;
  // Item and action types are small dense enums; private (negative) types have no name.
  constexpr int kTypeScan = 1024;
  for (const std::string& want : opt.unsupported) {
    if (strcasecmp(want.c_str(), "END") == 0 || strcasecmp(want.c_str(), "VOID") == 0)
      return make_error(EINVAL, "unsupported-feature name '{}': END and VOID are always supported",
                        want);
    bool found = false;
    for (int t = 0; t < kTypeScan; ++t) {
      if (strcasecmp(flow_item_name(static_cast<rte_flow_item_type>(t)).c_str(), want.c_str()) ==
          0) {
        impl->unsupported_items.push_back(t);
        found = true;
        break;
      }
    }
    for (int t = 0; t < kTypeScan; ++t) {
      if (strcasecmp(flow_action_name(static_cast<rte_flow_action_type>(t)).c_str(),
                     want.c_str()) == 0) {
        impl->unsupported_actions.push_back(t);
        found = true;
        break;
      }
    }
    if (!found)
      return make_error(EINVAL, "unsupported-feature name '{}' is not an rte_flow item or action",
                        want);
  }
  return std::unique_ptr<FlowTable>(new FlowTable(std::move(impl)));
}

FlowStatus FlowTable::validate(const rte_flow_attr& attr, const rte_flow_item* pattern,
                               const rte_flow_action* actions) const {
  Rule r;
  if (auto st = impl_->compile(attr, pattern, actions, r); !st) return st;
  if (impl_->rules.size() >= impl_->capacity)
    return flow_error(ENOSPC, RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
                      fmt::format("sim: flow table full ({} rules)", impl_->capacity));
  return Unit{};
}

FlowResult<FlowHandle> FlowTable::create(const rte_flow_attr& attr, const rte_flow_item* pattern,
                                         const rte_flow_action* actions) {
  Impl& m = *impl_;
  auto rule = std::make_unique<Rule>();
  if (auto st = m.compile(attr, pattern, actions, *rule); !st) return st.error();
  if (m.rules.size() >= m.capacity)
    return flow_error(ENOSPC, RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
                      fmt::format("sim: flow table full ({} rules)", m.capacity));
  rule->id = m.next_id++;
  rule->seq = m.next_seq++;
  Group& g = m.groups[rule->group];
  if (g.by_port.empty()) g.by_port.resize(m.ethdev_ports.size());
  std::vector<Rule*>& b = m.bucket(g, *rule);
  b.insert(std::upper_bound(b.begin(), b.end(), rule.get(), runs_before), rule.get());
  ++g.size;
  const FlowHandle h{rule->id};
  m.rules.emplace(rule->id, std::move(rule));
  return h;
}

FlowStatus FlowTable::destroy(FlowHandle h) {
  Impl& m = *impl_;
  auto it = m.rules.find(h.id);
  if (it == m.rules.end())
    return flow_error(ENOENT, RTE_FLOW_ERROR_TYPE_HANDLE,
                      fmt::format("sim: no flow with handle {}", h.id));
  Rule* r = it->second.get();
  auto git = m.groups.find(r->group);
  std::vector<Rule*>& b = m.bucket(git->second, *r);
  auto pos = std::lower_bound(b.begin(), b.end(), r, runs_before);
  b.erase(pos);
  if (--git->second.size == 0) m.groups.erase(git);
  m.rules.erase(it);
  return Unit{};
}

FlowResult<FlowCounters> FlowTable::query_count(FlowHandle h) const {
  auto it = impl_->rules.find(h.id);
  if (it == impl_->rules.end())
    return flow_error(ENOENT, RTE_FLOW_ERROR_TYPE_HANDLE,
                      fmt::format("sim: no flow with handle {}", h.id));
  if (!it->second->counted)
    return flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                      fmt::format("sim: flow {} has no COUNT action", h.id));
  return it->second->counters;
}

void FlowTable::clear() {
  impl_->groups.clear();
  impl_->rules.clear();
}

size_t FlowTable::size() const { return impl_->rules.size(); }

Verdict FlowTable::classify(uint16_t in_port, PacketBuffer& pkt) {
  Impl& m = *impl_;
  Verdict v;
  if (in_port >= m.ethdev_ports.size()) return v;
  const uint8_t* view = pkt.data;
  uint32_t view_len = pkt.len;
  Window w;
  uint32_t window_len0 = 0;  // frame bytes the window replaces
  bool edited = false;
  uint32_t group = 0;
  const Rule* last = nullptr;
  // JUMP only goes forward, so the walk ends after at most one hop per group.
  for (;;) {
    auto git = m.groups.find(group);
    if (git == m.groups.end()) return v;
    const Layout l = parse_layout(view, view_len);
    Rule* r = m.lookup(git->second, in_port, l, view, view_len);
    if (!r) return v;
    ++r->counters.packets;
    r->counters.bytes += edited ? pkt.len + w.len - window_len0 : pkt.len;
    if (!r->edits.empty()) {
      if (!edited) {
        window_len0 = std::min<uint32_t>(pkt.len, kWindowMax);
        std::memcpy(m.window.data() + kWindowHead, pkt.data, window_len0);
        w = Window{m.window.data() + kWindowHead, window_len0, kWindowHead};
        edited = true;
      }
      for (const Edit& e : r->edits) {
        const SimCounter failed = apply_edit(e, w);
        if (failed != SimCounter::count_) {
          v.kind = Verdict::Kind::drop;
          v.drop_reason = failed;
          return v;
        }
      }
      view = w.data;
      view_len = w.len;
    }
    if (r->fate == Rule::Fate::jump) {
      group = r->jump_group;
      continue;
    }
    last = r;
    break;
  }
  if (last->fate == Rule::Fate::drop) {
    v.kind = Verdict::Kind::drop;
    v.drop_reason = SimCounter::drop_rule;
    return v;
  }
  if (edited) {
    // The window replaces the frame's first window_len0 bytes; the rest stays in place.
    const int64_t grow = static_cast<int64_t>(w.len) - window_len0;
    if (grow > static_cast<int64_t>(pkt.headroom)) {
      v.kind = Verdict::Kind::drop;
      v.drop_reason = SimCounter::drop_no_headroom;
      return v;
    }
    pkt.data -= grow;
    pkt.headroom = static_cast<uint32_t>(pkt.headroom - grow);
    pkt.len = static_cast<uint32_t>(pkt.len + grow);
    std::memcpy(pkt.data, w.data, w.len);
  }
  v.kind = Verdict::Kind::forward;
  v.n_out = last->n_out;
  v.out = last->out;
  return v;
}

}  // namespace vfs::drivers::sim
