// drivers/netlink messages: each VF / devlink operation built by vf_messages.h and
// devlink_messages.h is compared byte for byte with what iproute2 sent for the same
// command on this machine (tests/data/netlink/*.nlmsg, made by capture.sh; no strace is
// needed here). nlmsg_seq and nlmsg_pid (bytes 8..15) are not compared: every process
// numbers its requests its own way, and we leave both 0 for the socket to fill.
// The parsers get hand-built kernel answers, then every truncation of them.
#include <arpa/inet.h>
#include <linux/devlink.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <doctest/doctest.h>

#include "drivers/netlink/devlink_messages.h"
#include "drivers/netlink/vf_messages.h"

using namespace vfs::drivers;
using namespace vfs::drivers::netlink;

namespace {

// The error's message, or "" (doctest evaluates messages even when the check passes under -s).
template <class R>
std::string why(const R& r) {
  return r.ok() ? std::string() : r.error().message;
}

std::filesystem::path data_dir() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "data" /
         "netlink";
}

struct Fixture {
  std::map<std::string, std::string> keys;
  std::vector<uint8_t> bytes;
  int ifindex() const { return std::stoi(keys.at("ifindex")); }
  uint16_t family() const {
    return static_cast<uint16_t>(std::stoi(keys.at("family"), nullptr, 0));
  }
};

Fixture load(const std::string& name) {
  Fixture f;
  std::ifstream in(data_dir() / (name + ".nlmsg"));
  REQUIRE_MESSAGE(in.good(), "missing fixture " << (data_dir() / (name + ".nlmsg")).string());
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto colon = line.find(": ");
    REQUIRE(colon != std::string::npos);
    f.keys[line.substr(0, colon)] = line.substr(colon + 2);
  }
  std::istringstream hex(f.keys.at("bytes"));
  std::string b;
  while (hex >> b) f.bytes.push_back(static_cast<uint8_t>(std::stoul(b, nullptr, 16)));
  REQUIRE(f.bytes.size() >= sizeof(nlmsghdr));
  return f;
}

// Bytes with nlmsg_seq and nlmsg_pid zeroed, as hex, so a mismatch prints readably.
std::string comparable(std::vector<uint8_t> b) {
  for (size_t i = 8; i < 16 && i < b.size(); ++i) b[i] = 0;
  std::string s;
  for (size_t i = 0; i < b.size(); ++i)
    s += fmt::format("{}{:02x}", i % 16 == 0 ? (i ? "\n" : "") : " ", b[i]);
  return s;
}

void check_same(const std::string& name, const std::function<NlMsg(const Fixture&)>& build) {
  Fixture f = load(name);
  NlMsg m = build(f);
  INFO("fixture " << name << ": " << f.keys["command"]);
  CHECK(comparable(message_bytes(m.get())) == comparable(f.bytes));
}

constexpr VfMac kMac{0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

}  // namespace

TEST_CASE("VF settings are byte for byte what `ip link set DEV vf 3 ...` sends") {
  check_same("vf_mac", [](const Fixture& f) { return build_set_vf_mac(f.ifindex(), 3, kMac); });
  check_same("vf_vlan", [](const Fixture& f) {
    return build_set_vf_vlan(f.ifindex(), 3, {100, 3, VlanProto::dot1q});
  });
  check_same("vf_vlan_none",
             [](const Fixture& f) { return build_set_vf_vlan(f.ifindex(), 3, {}); });
  check_same("vf_vlan_8021ad", [](const Fixture& f) {
    return build_set_vf_vlan(f.ifindex(), 3, {100, 3, VlanProto::dot1ad});
  });
  check_same("vf_rate", [](const Fixture& f) {
    return build_set_vf_rate(f.ifindex(), 3, {100, 1000});
  });
  check_same("vf_spoofchk_on",
             [](const Fixture& f) { return build_set_vf_spoofchk(f.ifindex(), 3, true); });
  check_same("vf_spoofchk_off",
             [](const Fixture& f) { return build_set_vf_spoofchk(f.ifindex(), 3, false); });
  check_same("vf_trust_on",
             [](const Fixture& f) { return build_set_vf_trust(f.ifindex(), 3, true); });
  check_same("vf_trust_off",
             [](const Fixture& f) { return build_set_vf_trust(f.ifindex(), 3, false); });
  check_same("vf_state_auto", [](const Fixture& f) {
    return build_set_vf_link_state(f.ifindex(), 3, VfLinkState::automatic);
  });
  check_same("vf_state_enable", [](const Fixture& f) {
    return build_set_vf_link_state(f.ifindex(), 3, VfLinkState::enable);
  });
  check_same("vf_state_disable", [](const Fixture& f) {
    return build_set_vf_link_state(f.ifindex(), 3, VfLinkState::disable);
  });
}

TEST_CASE("reading VFs is byte for byte what `ip -s link show dev DEV` sends") {
  check_same("get_link", [](const Fixture& f) { return build_get_link(f.keys.at("ifname")); });
}

TEST_CASE("devlink messages are byte for byte what `devlink dev eswitch ...` sends") {
  check_same("genl_get_family_devlink", [](const Fixture&) { return build_get_family("devlink"); });
  const DevlinkHandle h{"pci", "0000:03:00.0"};
  check_same("eswitch_show", [&](const Fixture& f) { return build_eswitch_get(f.family(), h); });
  check_same("eswitch_set_switchdev", [&](const Fixture& f) {
    return build_eswitch_set(f.family(), h, EswitchMode::switchdev);
  });
  check_same("eswitch_set_legacy", [&](const Fixture& f) {
    return build_eswitch_set(f.family(), h, EswitchMode::legacy);
  });
}

TEST_CASE("a comparison that must fail does: another VF, another value") {
  Fixture f = load("vf_mac");
  CHECK(comparable(message_bytes(build_set_vf_mac(f.ifindex(), 2, kMac).get())) !=
        comparable(f.bytes));
  VfMac other = kMac;
  other[5] = 0x56;
  CHECK(comparable(message_bytes(build_set_vf_mac(f.ifindex(), 3, other).get())) !=
        comparable(f.bytes));
  CHECK(comparable(message_bytes(build_set_vf_mac(f.ifindex() + 1, 3, kMac).get())) !=
        comparable(f.bytes));
}

namespace {

// A kernel answer to RTM_GETLINK with two VFs, laid out as rtnl_fill_vfinfo does.
std::vector<uint8_t> link_answer(int ifindex) {
  NlMsg m = new_message(RTM_NEWLINK, 0, sizeof(ifinfomsg));
  static_cast<ifinfomsg*>(family_header(m.get()))->ifi_index = ifindex;
  const char name[] = "ens1f0";
  put_attr(m.get(), IFLA_IFNAME, name, sizeof(name));
  uint32_t num = 2;
  put_attr(m.get(), IFLA_NUM_VF, &num, sizeof(num));
  nlattr* list = begin_nest(m.get(), IFLA_VFINFO_LIST);
  for (uint32_t vf = 0; vf < 2; ++vf) {
    nlattr* info = begin_nest(m.get(), IFLA_VF_INFO);
    ifla_vf_mac mac{};
    mac.vf = vf;
    std::memcpy(mac.mac, kMac.data(), 6);
    mac.mac[5] = static_cast<uint8_t>(0x50 + vf);
    put_attr(m.get(), IFLA_VF_MAC, &mac, sizeof(mac));
    ifla_vf_vlan vlan{vf, vf == 0 ? 100u : 0u, vf == 0 ? 5u : 0u};
    put_attr(m.get(), IFLA_VF_VLAN, &vlan, sizeof(vlan));
    nlattr* vlans = begin_nest(m.get(), IFLA_VF_VLAN_LIST);
    ifla_vf_vlan_info vi{};
    vi.vf = vf;
    vi.vlan = vlan.vlan;
    vi.qos = vlan.qos;
    vi.vlan_proto = htons(vf == 0 ? 0x88a8 : 0x8100);
    put_attr(m.get(), IFLA_VF_VLAN_INFO, &vi, sizeof(vi));
    end_nest(m.get(), vlans);
    ifla_vf_tx_rate tx{vf, 1000};
    put_attr(m.get(), IFLA_VF_TX_RATE, &tx, sizeof(tx));
    ifla_vf_rate rate{vf, 10, 1000};
    put_attr(m.get(), IFLA_VF_RATE, &rate, sizeof(rate));
    ifla_vf_spoofchk sc{vf, vf == 0 ? 1u : UINT32_MAX};  // VF 1: not reported by the driver
    put_attr(m.get(), IFLA_VF_SPOOFCHK, &sc, sizeof(sc));
    ifla_vf_link_state ls{
        vf, vf == 0 ? uint32_t{IFLA_VF_LINK_STATE_DISABLE} : uint32_t{IFLA_VF_LINK_STATE_AUTO}};
    put_attr(m.get(), IFLA_VF_LINK_STATE, &ls, sizeof(ls));
    ifla_vf_trust tr{vf, vf == 0 ? 0u : 1u};
    put_attr(m.get(), IFLA_VF_TRUST, &tr, sizeof(tr));
    nlattr* stats = begin_nest(m.get(), IFLA_VF_STATS);
    for (int t = IFLA_VF_STATS_RX_PACKETS; t <= IFLA_VF_STATS_TX_DROPPED; ++t) {
      if (t == IFLA_VF_STATS_PAD) continue;
      uint64_t v = 1000u * (vf + 1) + static_cast<uint64_t>(t);
      put_attr(m.get(), t, &v, sizeof(v));
    }
    end_nest(m.get(), stats);
    end_nest(m.get(), info);
  }
  end_nest(m.get(), list);
  return message_bytes(m.get());
}

}  // namespace

TEST_CASE("a kernel RTM_NEWLINK answer parses into VfInfo") {
  auto r = parse_link_vfs(link_answer(7), "PF ens1f0");
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(r->ifindex == 7);
  CHECK(r->num_vf == 2);
  REQUIRE(r->vfs.size() == 2);
  const VfInfo& a = r->vfs[0];
  CHECK(a.vf == 0);
  CHECK(format_mac(a.mac) == "02:11:22:33:44:50");
  CHECK(a.vlan == VfVlan{100, 5, VlanProto::dot1ad});
  CHECK(a.rate == VfRate{10, 1000});
  CHECK(a.spoofchk == true);
  CHECK(a.trust == false);
  CHECK(a.link_state == VfLinkState::disable);
  REQUIRE(a.stats.has_value());
  CHECK(a.stats->rx_packets == 1000 + IFLA_VF_STATS_RX_PACKETS);
  CHECK(a.stats->tx_dropped == 1000 + IFLA_VF_STATS_TX_DROPPED);
  CHECK(a.stats->multicast == 1000 + IFLA_VF_STATS_MULTICAST);
  const VfInfo& b = r->vfs[1];
  CHECK(b.vf == 1);
  CHECK(b.vlan == VfVlan{});
  CHECK_FALSE(b.spoofchk.has_value());
  CHECK(b.trust == true);
  CHECK(b.link_state == VfLinkState::automatic);
  CHECK(b.stats->rx_bytes == 2000 + IFLA_VF_STATS_RX_BYTES);
}

TEST_CASE("a device without SR-IOV answers no VFs") {
  NlMsg m = new_message(RTM_NEWLINK, 0, sizeof(ifinfomsg));
  static_cast<ifinfomsg*>(family_header(m.get()))->ifi_index = 3;
  auto r = parse_link_vfs(message_bytes(m.get()), "PF lo");
  REQUIRE(r.ok());
  CHECK(r->num_vf == 0);
  CHECK(r->vfs.empty());
}

TEST_CASE("malformed link answers are errors, never out-of-bounds reads") {
  const auto good = link_answer(7);
  SUBCASE("every truncation") {
    for (size_t n = 0; n < good.size(); ++n) {
      std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
      auto r = parse_link_vfs(cut, "PF ens1f0");
      // A cut message no longer holds nlmsg_len bytes.
      CHECK_FALSE(r.ok());
      if (!r.ok()) CHECK(r.error().code == EPROTO);
    }
  }
  SUBCASE("nlmsg_len shortened so that attributes end mid-way") {
    for (size_t n = NLMSG_LENGTH(sizeof(ifinfomsg)); n < good.size(); n += 3) {
      std::vector<uint8_t> b = good;
      uint32_t len = static_cast<uint32_t>(n);
      std::memcpy(b.data(), &len, sizeof(len));
      auto r = parse_link_vfs(b, "PF ens1f0");  // a VF may be dropped, never misread
      if (r.ok()) CHECK(r->vfs.size() <= 2);
    }
  }
  SUBCASE("byte flips") {
    uint32_t seed = 12345;
    for (int i = 0; i < 2000; ++i) {
      std::vector<uint8_t> b = good;
      for (int k = 0; k < 3; ++k) {
        seed = seed * 1103515245u + 12345u;
        size_t at = 16 + (seed >> 8) % (b.size() - 16);  // keep the netlink header whole
        b[at] = static_cast<uint8_t>(seed >> 24);
      }
      (void)parse_link_vfs(b, "PF ens1f0");
    }
  }
  SUBCASE("wrong message type") {
    std::vector<uint8_t> b = good;
    uint16_t t = RTM_DELLINK;
    std::memcpy(b.data() + 4, &t, sizeof(t));
    auto r = parse_link_vfs(b, "PF ens1f0");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("PF ens1f0") != std::string::npos);
  }
}

namespace {

std::vector<uint8_t> genl_answer(uint16_t type, const std::function<void(nl_msg*)>& attrs) {
  NlMsg m = new_message(type, 0, GENL_HDRLEN);
  attrs(m.get());
  return message_bytes(m.get());
}

}  // namespace

TEST_CASE("devlink answers: family id, eSwitch mode") {
  auto fam = genl_answer(GENL_ID_CTRL, [](nl_msg* m) {
    const char name[] = "devlink";
    put_attr(m, CTRL_ATTR_FAMILY_NAME, name, sizeof(name));
    uint16_t id = 0x2a;
    put_attr(m, CTRL_ATTR_FAMILY_ID, &id, sizeof(id));
  });
  auto id = parse_family_id(fam, "devlink");
  REQUIRE(id.ok());
  CHECK(*id == 0x2a);
  CHECK_FALSE(parse_family_id(genl_answer(GENL_ID_CTRL, [](nl_msg*) {}), "devlink").ok());

  const DevlinkHandle h{"pci", "0000:03:00.0"};
  for (auto [v, want] : {std::pair{DEVLINK_ESWITCH_MODE_SWITCHDEV, EswitchMode::switchdev},
                         std::pair{DEVLINK_ESWITCH_MODE_LEGACY, EswitchMode::legacy}}) {
    auto ans = genl_answer(0x2a, [v = v](nl_msg* m) {
      uint16_t x = static_cast<uint16_t>(v);
      put_attr(m, DEVLINK_ATTR_ESWITCH_MODE, &x, sizeof(x));
    });
    auto mode = parse_eswitch_mode_answer(ans, 0x2a, h);
    REQUIRE(mode.ok());
    CHECK(*mode == want);
    CHECK_FALSE(parse_eswitch_mode_answer(ans, 0x2b, h).ok());  // another family's message
    for (size_t n = 0; n < ans.size(); ++n)
      CHECK_FALSE(
          parse_eswitch_mode_answer({ans.begin(), ans.begin() + static_cast<long>(n)}, 0x2a, h)
              .ok());
  }
  auto none = parse_eswitch_mode_answer(genl_answer(0x2a, [](nl_msg*) {}), 0x2a, h);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == EOPNOTSUPP);
  CHECK(none.error().message.find("pci/0000:03:00.0") != std::string::npos);
}
