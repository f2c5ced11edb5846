// VF wires as tap devices, for QEMU guests: created persistent with our alias, adopted by
// a second open, refused when the VF already has a wire of the other kind, removed with
// the sim's wires; frames written by "the guest" (a process holding the tap's file side)
// reach the representor and frames the slow path sends reach the guest. The tap VF list's
// text form. Needs root (/dev/net/tun, AF_PACKET).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>

#include "drivers/sim/sim_eswitch.h"
#include "drivers/sim/sim_wires.h"
#include "sim_packet_builder.h"
#include "sim_test_support.h"
#include "sim_wire_support.h"

using namespace vfs::drivers;
using namespace vfs::test;

namespace {

const Mac kTapMacA = {0x02, 0, 0, 0, 0x7a, 0x0a};
const Mac kTapMacB = {0x02, 0, 0, 0, 0x7a, 0x0b};

std::vector<uint8_t> tap_nonce_frame(uint32_t nonce) {
  return PacketBuilder().eth(kTapMacB, kTapMacA, 0x88b5).u32(0x76667377).u32(nonce).pad(52).bytes();
}

// The file side of a tap, as QEMU holds it.
class TapGuest {
 public:
  explicit TapGuest(const std::string& dev) {
    fd_ = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    REQUIRE(fd_ >= 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    REQUIRE_MESSAGE(::ioctl(fd_, TUNSETIFF, &ifr) == 0, std::strerror(errno));
  }
  ~TapGuest() { ::close(fd_); }
  TapGuest(const TapGuest&) = delete;
  TapGuest& operator=(const TapGuest&) = delete;

  bool send(const std::vector<uint8_t>& f) {
    return ::write(fd_, f.data(), f.size()) == static_cast<ssize_t>(f.size());
  }
  bool wait_for(const std::vector<uint8_t>& want) {
    const auto deadline = WireClock::now() + kWireWait;
    std::vector<uint8_t> buf(4096);
    while (WireClock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::read(fd_, buf.data(), buf.size());
      if (n > 0 && std::vector<uint8_t>(buf.begin(), buf.begin() + n) == want) return true;
    }
    return false;
  }

 private:
  int fd_ = -1;
};

std::string link_type(const std::string& dev) {
  // tun devices have a tun_flags attribute in sysfs; veths do not.
  return read_text("/sys/class/net/" + dev + "/tun_flags").empty() ? "other" : "tun";
}

}  // namespace

TEST_CASE("sim tap VF list: text form") {
  CHECK(parse_sim_tap_vfs("").value().empty());
  CHECK(parse_sim_tap_vfs("all").value() == std::vector<int>{kSimAllVfs});
  CHECK(parse_sim_tap_vfs("0,2,5").value() == std::vector<int>{0, 2, 5});
  CHECK(parse_sim_tap_vfs("3,3").value() == std::vector<int>{3});
  for (const char* bad : {"x", "1,", "-1", "1,,2", "2 ", "all,1"}) {
    auto r = parse_sim_tap_vfs(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == EINVAL);
    CHECK(r.error().message.find(std::string("'") + bad + "'") != std::string::npos);
  }
}

TEST_CASE("sim tap wires: created persistent with our alias, adopted, refused across kinds") {
  const std::string name = random_sim_name();
  WireGuard guard(name, 2);
  const std::string alias = sim::wire_alias(name);

  SUBCASE("a tap VF out of range creates nothing") {
    auto r = sim::open_wires(name, 2, {2});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == EINVAL);
    CHECK(r.error().message.find("tap VF 2") != std::string::npos);
    CHECK_FALSE(link_exists(name + "up"));
  }

  SUBCASE("created, then adopted") {
    auto first = sim::open_wires(name, 2, {1});
    REQUIRE_MESSAGE(first.ok(), first.error().message);
    const auto& w = first.value();
    REQUIRE(w.size() == 3);
    CHECK(w[1].kind == sim::WireKind::veth);
    CHECK(w[2].kind == sim::WireKind::tap);
    CHECK(w[2].vm_end == name + "vf1");
    CHECK(w[2].switch_end == name + "vf1");
    CHECK(w[2].created);
    CHECK(link_type(name + "vf1") == "tun");
    CHECK(read_text("/sys/class/net/" + name + "vf1/ifalias") == alias);
    CHECK(read_text("/proc/sys/net/ipv6/conf/" + name + "vf1/disable_ipv6") == "1");
    CHECK_FALSE(link_exists(name + "vf1s"));

    auto again = sim::open_wires(name, 2, {1});
    REQUIRE_MESSAGE(again.ok(), again.error().message);
    CHECK_FALSE(again.value()[2].created);

    // The same VF asked to be a veth now: refused, naming the tap.
    auto veth = sim::open_wires(name, 2, {});
    REQUIRE_FALSE(veth.ok());
    CHECK(veth.error().code == EEXIST);
    CHECK(veth.error().message.find("is a tap wire of this sim") != std::string::npos);

    // Removal takes the tap with the veth wires.
    REQUIRE(remove_sim_wires(name, 2).ok());
    CHECK_FALSE(link_exists(name + "vf1"));
    CHECK_FALSE(link_exists(name + "vf0s"));
  }

  SUBCASE("a VF with a veth wire is not turned into a tap") {
    REQUIRE(sim::open_wires(name, 2, {}).ok());
    auto tap = sim::open_wires(name, 2, {kSimAllVfs});
    REQUIRE_FALSE(tap.ok());
    CHECK(tap.error().code == EEXIST);
    CHECK(tap.error().message.find("asked to be a tap") != std::string::npos);
    CHECK(link_type(name + "vf0") != "tun");
    // The VM end moved into a namespace: the switch end still tells.
    REQUIRE(run_quiet("ip netns add " + name) == 0);
    REQUIRE(run_quiet("ip link set " + name + "vf0 netns " + name) == 0);
    auto moved = sim::open_wires(name, 2, {0});
    CHECK(run_quiet("ip netns del " + name) == 0);
    REQUIRE_FALSE(moved.ok());
    CHECK(moved.error().message.find("has a veth wire") != std::string::npos);
  }

  SUBCASE("an interface that is not ours is left alone") {
    guard.also_delete(name + "vf0");
    REQUIRE(run_quiet("ip tuntap add dev " + name + "vf0 mode tap") == 0);
    auto r = sim::open_wires(name, 2, {0});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == EEXIST);
    CHECK(r.error().message.find("not a wire of this sim") != std::string::npos);
    CHECK_FALSE(link_exists(name + "up"));
  }
}

TEST_CASE("sim eswitch: a tap VF wire carries the guest's frames both ways") {
  ESwitchOptions opt;
  opt.sim_tap_vfs = {1};
  OpenSim s(opt);
  const PortInfo& vf1 = s.sw->ports()[2];
  CHECK(vf1.wire == s.name + "vf1");
  CHECK(s.sw->ports()[1].wire == s.name + "vf0");
  REQUIRE(run_quiet("sysctl -w net.ipv6.conf." + s.name + "vf0.disable_ipv6=1") == 0);
  REQUIRE(s.sw->start().ok());

  TapGuest guest(vf1.wire);
  REQUIRE(guest.send(tap_nonce_frame(1)));
  CHECK(representor_wait_for(vf1.ethdev_port, tap_nonce_frame(1)).has_value());
  REQUIRE(representor_send(vf1.ethdev_port, tap_nonce_frame(2)));
  CHECK(guest.wait_for(tap_nonce_frame(2)));

  // A rule from the veth VF to the tap VF.
  const rte_flow_item_ethdev from_vf0{s.sw->ports()[1].ethdev_port};
  const rte_flow_action_ethdev to_vf1{vf1.ethdev_port};
  const rte_flow_item pattern[] = {
      {RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &from_vf0, nullptr, nullptr},
      {RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr, nullptr}};
  const rte_flow_action actions[] = {{RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &to_vf1},
                                     {RTE_FLOW_ACTION_TYPE_END, nullptr}};
  rte_flow_attr attr{};
  attr.transfer = 1;
  REQUIRE(s.sw->flows().create(attr, pattern, actions).ok());
  PacketSocket vm0(s.name + "vf0");
  REQUIRE(vm0.send(tap_nonce_frame(3)));
  CHECK(guest.wait_for(tap_nonce_frame(3)));
}
