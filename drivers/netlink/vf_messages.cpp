#include "drivers/netlink/vf_messages.h"

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

namespace vfs::drivers::netlink {
namespace {

// RTM_NEWLINK on the PF carrying one IFLA_VF_* attribute, as iproute2's iplink_modify.
template <class Payload>
NlMsg set_vf(int ifindex, int attr, const Payload& payload) {
  NlMsg m = new_message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, sizeof(ifinfomsg));
  auto* ifi = static_cast<ifinfomsg*>(family_header(m.get()));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  nlattr* list = begin_nest(m.get(), IFLA_VFINFO_LIST);
  nlattr* info = begin_nest(m.get(), IFLA_VF_INFO);
  put_attr(m.get(), attr, &payload, sizeof(payload));
  end_nest(m.get(), info);
  end_nest(m.get(), list);
  return m;
}

uint32_t vf_u32(int vf) { return static_cast<uint32_t>(vf); }

// A fixed-size IFLA_VF_* payload; nullopt when the attribute is missing or too short.
template <class T>
std::optional<T> payload(const nlattr* a) {
  if (!a || nla_len(a) < static_cast<int>(sizeof(T))) return std::nullopt;
  T v;
  std::memcpy(&v, nla_data(a), sizeof(T));
  return v;
}

Error malformed(std::string_view who, std::string_view what) {
  return make_error(EPROTO, "{}: malformed RTM_NEWLINK answer: {}", who, what);
}

// One IFLA_VF_INFO nest. The kernel reports every VF with at least IFLA_VF_MAC.
Result<VfInfo> parse_vf_info(nlattr* info, std::string_view who) {
  nlattr* tb[IFLA_VF_MAX + 1] = {};
  if (nla_parse_nested(tb, IFLA_VF_MAX, info, nullptr) < 0)
    return malformed(who, "bad IFLA_VF_INFO nest");
  auto mac = payload<ifla_vf_mac>(tb[IFLA_VF_MAC]);
  if (!mac) return malformed(who, "IFLA_VF_INFO without a whole IFLA_VF_MAC");
  VfInfo v;
  v.vf = static_cast<int>(mac->vf);
  std::memcpy(v.mac.data(), mac->mac, v.mac.size());

  if (auto vlan = payload<ifla_vf_vlan>(tb[IFLA_VF_VLAN])) {
    v.vlan.vid = static_cast<uint16_t>(vlan->vlan);
    v.vlan.qos = static_cast<uint8_t>(vlan->qos);
  }
  // The list carries the protocol; the kernel reports one entry (no QinQ stacks).
  if (nlattr* list = tb[IFLA_VF_VLAN_LIST]) {
    nlattr* entry;
    int rem;
    nla_for_each_nested(entry, list, rem) {
      if (nla_type(entry) != IFLA_VF_VLAN_INFO) continue;
      auto vi = payload<ifla_vf_vlan_info>(entry);
      if (!vi) return malformed(who, "short IFLA_VF_VLAN_INFO");
      v.vlan.vid = static_cast<uint16_t>(vi->vlan);
      v.vlan.qos = static_cast<uint8_t>(vi->qos);
      v.vlan.proto = ntohs(vi->vlan_proto) == 0x88a8 ? VlanProto::dot1ad : VlanProto::dot1q;
      break;
    }
  }
  if (auto rate = payload<ifla_vf_rate>(tb[IFLA_VF_RATE])) {
    v.rate.min_mbps = rate->min_tx_rate;
    v.rate.max_mbps = rate->max_tx_rate;
  } else if (auto tx = payload<ifla_vf_tx_rate>(tb[IFLA_VF_TX_RATE])) {
    v.rate.max_mbps = tx->rate;
  }
  // The kernel sends (u32)-1 for a knob the PF driver does not report.
  if (auto s = payload<ifla_vf_spoofchk>(tb[IFLA_VF_SPOOFCHK]); s && s->setting != UINT32_MAX)
    v.spoofchk = s->setting != 0;
  if (auto t = payload<ifla_vf_trust>(tb[IFLA_VF_TRUST]); t && t->setting != UINT32_MAX)
    v.trust = t->setting != 0;
  if (auto ls = payload<ifla_vf_link_state>(tb[IFLA_VF_LINK_STATE])) {
    switch (ls->link_state) {
      case IFLA_VF_LINK_STATE_AUTO:
        v.link_state = VfLinkState::automatic;
        break;
      case IFLA_VF_LINK_STATE_ENABLE:
        v.link_state = VfLinkState::enable;
        break;
      case IFLA_VF_LINK_STATE_DISABLE:
        v.link_state = VfLinkState::disable;
        break;
      default:
        break;  // a state newer than this code: not reported
    }
  }
  if (nlattr* st = tb[IFLA_VF_STATS]) {
    nlattr* s[IFLA_VF_STATS_MAX + 1] = {};
    if (nla_parse_nested(s, IFLA_VF_STATS_MAX, st, nullptr) < 0)
      return malformed(who, "bad IFLA_VF_STATS nest");
    VfStats stats;
    auto get = [&](int type, uint64_t& out) {
      if (auto x = payload<uint64_t>(s[type])) out = *x;
    };
    get(IFLA_VF_STATS_RX_PACKETS, stats.rx_packets);
    get(IFLA_VF_STATS_TX_PACKETS, stats.tx_packets);
    get(IFLA_VF_STATS_RX_BYTES, stats.rx_bytes);
    get(IFLA_VF_STATS_TX_BYTES, stats.tx_bytes);
    get(IFLA_VF_STATS_BROADCAST, stats.broadcast);
    get(IFLA_VF_STATS_MULTICAST, stats.multicast);
    get(IFLA_VF_STATS_RX_DROPPED, stats.rx_dropped);
    get(IFLA_VF_STATS_TX_DROPPED, stats.tx_dropped);
    v.stats = stats;
  }
  return v;
}

}  // namespace

NlMsg build_set_vf_mac(int ifindex, int vf, const VfMac& mac) {
  ifla_vf_mac p{};
  p.vf = vf_u32(vf);
  std::memcpy(p.mac, mac.data(), mac.size());
  return set_vf(ifindex, IFLA_VF_MAC, p);
}

NlMsg build_set_vf_vlan(int ifindex, int vf, const VfVlan& vlan) {
  if (vlan.proto == VlanProto::dot1q) {
    ifla_vf_vlan p{vf_u32(vf), vlan.vid, vlan.qos};
    return set_vf(ifindex, IFLA_VF_VLAN, p);
  }
  NlMsg m = new_message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, sizeof(ifinfomsg));
  auto* ifi = static_cast<ifinfomsg*>(family_header(m.get()));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  nlattr* list = begin_nest(m.get(), IFLA_VFINFO_LIST);
  nlattr* info = begin_nest(m.get(), IFLA_VF_INFO);
  nlattr* vlans = begin_nest(m.get(), IFLA_VF_VLAN_LIST);
  ifla_vf_vlan_info p{};
  p.vf = vf_u32(vf);
  p.vlan = vlan.vid;
  p.qos = vlan.qos;
  p.vlan_proto = htons(static_cast<uint16_t>(vlan.proto));
  put_attr(m.get(), IFLA_VF_VLAN_INFO, &p, sizeof(p));
  end_nest(m.get(), vlans);
  end_nest(m.get(), info);
  end_nest(m.get(), list);
  return m;
}

NlMsg build_set_vf_rate(int ifindex, int vf, const VfRate& rate) {
  ifla_vf_rate p{vf_u32(vf), rate.min_mbps, rate.max_mbps};
  return set_vf(ifindex, IFLA_VF_RATE, p);
}

NlMsg build_set_vf_spoofchk(int ifindex, int vf, bool on) {
  ifla_vf_spoofchk p{vf_u32(vf), on ? 1u : 0u};
  return set_vf(ifindex, IFLA_VF_SPOOFCHK, p);
}

NlMsg build_set_vf_trust(int ifindex, int vf, bool on) {
  ifla_vf_trust p{vf_u32(vf), on ? 1u : 0u};
  return set_vf(ifindex, IFLA_VF_TRUST, p);
}

NlMsg build_set_vf_link_state(int ifindex, int vf, VfLinkState state) {
  uint32_t s = IFLA_VF_LINK_STATE_AUTO;
  if (state == VfLinkState::enable) s = IFLA_VF_LINK_STATE_ENABLE;
  if (state == VfLinkState::disable) s = IFLA_VF_LINK_STATE_DISABLE;
  ifla_vf_link_state p{vf_u32(vf), s};
  return set_vf(ifindex, IFLA_VF_LINK_STATE, p);
}

NlMsg build_get_link(std::string_view ifname) {
  NlMsg m = new_message(RTM_GETLINK, NLM_F_REQUEST, sizeof(ifinfomsg));
  // iproute2 6.1 asks with AF_PACKET (its "link" family); the kernel ignores the family
  // of a GETLINK by name.
  static_cast<ifinfomsg*>(family_header(m.get()))->ifi_family = AF_PACKET;
  std::string name(ifname);
  put_attr(m.get(), IFLA_IFNAME, name.c_str(), name.size() + 1);
  uint32_t mask = RTEXT_FILTER_VF;
  put_attr(m.get(), IFLA_EXT_MASK, &mask, sizeof(mask));
  return m;
}

Result<LinkVfs> parse_link_vfs(const std::vector<uint8_t>& message, std::string_view who) {
  RawMessage raw = first_message(message);
  if (!raw.header) return malformed(who, "no whole netlink message");
  if (raw.header->nlmsg_type != RTM_NEWLINK)
    return malformed(who,
                     fmt::format("message type {} instead of RTM_NEWLINK", raw.header->nlmsg_type));
  if (raw.length < NLMSG_LENGTH(sizeof(ifinfomsg)))
    return malformed(who, "shorter than an ifinfomsg");
  auto* hdr = const_cast<nlmsghdr*>(raw.header);  // libnl's parsers take non-const; they only read
  nlattr* tb[IFLA_MAX + 1] = {};
  if (nlmsg_parse(hdr, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0)
    return malformed(who, "bad attributes");

  LinkVfs out;
  ifinfomsg ifi;
  std::memcpy(&ifi, nlmsg_data(hdr), sizeof(ifi));
  out.ifindex = ifi.ifi_index;
  if (auto n = payload<uint32_t>(tb[IFLA_NUM_VF])) out.num_vf = static_cast<int>(*n);
  if (nlattr* list = tb[IFLA_VFINFO_LIST]) {
    nlattr* info;
    int rem;
    nla_for_each_nested(info, list, rem) {
      if (nla_type(info) != IFLA_VF_INFO) continue;
      auto v = parse_vf_info(info, who);
      if (!v) return v.error();
      out.vfs.push_back(std::move(*v));
    }
  }
  return out;
}

}  // namespace vfs::drivers::netlink
