// The sim's wires on the host: creation (alias, link up, offloads off, IPv6 off on the
// switch end), adoption by a second open, refusal to take over an interface that is not
// ours (with nothing created), and removal. Needs root (creates veth pairs).
#include <doctest/doctest.h>

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "drivers/sim/sim_eswitch.h"
#include "drivers/sim/sim_wires.h"
#include "sim_test_support.h"

using namespace vfs::drivers;
using namespace vfs::test;

namespace {

// Value of an ethtool boolean feature (ETHTOOL_G*), or -1 if it cannot be read.
int ethtool_get(const std::string& dev, uint32_t cmd) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  ethtool_value ev{};
  ev.cmd = cmd;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&ev);
  const int rc = ::ioctl(fd, SIOCETHTOOL, &ifr);
  ::close(fd);
  return rc < 0 ? -1 : static_cast<int>(ev.data);
}

bool is_up(const std::string& dev) {
  const std::string flags = read_text("/sys/class/net/" + dev + "/flags");
  return !flags.empty() && (std::stoul(flags, nullptr, 16) & IFF_UP) != 0;
}

}  // namespace

TEST_CASE("sim name validation names the bad value") {
  CHECK(validate_sim_name("vfs").ok());
  CHECK(validate_sim_name("a1b2c3d4").ok());
  for (const std::string bad : {"", "ninechars", "Vfs", "a-b", "a b", "vfs/"}) {
    auto r = validate_sim_name(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == EINVAL);
    CHECK(r.error().message.find("'" + bad + "'") != std::string::npos);
  }
}

TEST_CASE("sim wires: created with alias, up, offloads and IPv6 off; adopted on a second open") {
  const std::string name = random_sim_name();
  WireGuard guard(name, 2);

  auto first = sim::open_wires(name, 2);
  REQUIRE_MESSAGE(first.ok(), first.error().message);
  REQUIRE(first.value().size() == 3);
  CHECK(first.value()[0].vm_end == name + "up");
  CHECK(first.value()[0].switch_end == name + "ups");
  CHECK(first.value()[2].vm_end == name + "vf1");
  for (const sim::Wire& w : first.value()) {
    CAPTURE(w.switch_end);
    CHECK(w.created);
    REQUIRE(link_exists(w.vm_end));
    REQUIRE(link_exists(w.switch_end));
    CHECK(read_text("/sys/class/net/" + w.switch_end + "/ifalias") == "vfswitch-sim:" + name);
    CHECK(is_up(w.switch_end));
    CHECK(is_up(w.vm_end));
    CHECK(read_text("/proc/sys/net/ipv6/conf/" + w.switch_end + "/disable_ipv6") == "1");
    for (const std::string& dev : {w.switch_end, w.vm_end}) {
      CAPTURE(dev);
      CHECK(ethtool_get(dev, ETHTOOL_GTXCSUM) == 0);
      CHECK(ethtool_get(dev, ETHTOOL_GRXCSUM) == 0);
      CHECK(ethtool_get(dev, ETHTOOL_GSG) == 0);
      CHECK(ethtool_get(dev, ETHTOOL_GTSO) == 0);
      CHECK(ethtool_get(dev, ETHTOOL_GGSO) == 0);
      CHECK(ethtool_get(dev, ETHTOOL_GGRO) == 0);
    }
  }
  const unsigned ifindex = ::if_nametoindex((name + "vf0s").c_str());

  auto second = sim::open_wires(name, 2);
  REQUIRE_MESSAGE(second.ok(), second.error().message);
  for (const sim::Wire& w : second.value()) CHECK_FALSE(w.created);
  CHECK(::if_nametoindex((name + "vf0s").c_str()) == ifindex);

  SUBCASE("a larger VF count adopts the existing wires and adds the missing one") {
    auto third = sim::open_wires(name, 3);  // the guard's removal finds vf2 by its alias
    REQUIRE_MESSAGE(third.ok(), third.error().message);
    CHECK_FALSE(third.value()[1].created);
    CHECK(third.value()[3].created);
    CHECK(link_exists(name + "vf2s"));
  }
}

TEST_CASE(
    "sim wires: an interface named like a VM end that is not ours stops the open, nothing "
    "is created") {
  const std::string name = random_sim_name();
  WireGuard guard(name, 2);
  guard.also_delete(name + "vf1");
  REQUIRE(run_quiet("ip link add " + name + "vf1 type bridge") == 0);

  auto r = sim::open_wires(name, 2);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == EEXIST);
  CHECK(r.error().message.find("interface " + name + "vf1 ") != std::string::npos);
  CHECK_FALSE(link_exists(name + "up"));
  CHECK_FALSE(link_exists(name + "ups"));
  CHECK_FALSE(link_exists(name + "vf0"));
  CHECK_FALSE(link_exists(name + "vf0s"));
}

TEST_CASE("sim wires: a switch end without our alias is refused and left alone") {
  const std::string name = random_sim_name();
  WireGuard guard(name, 1);
  guard.also_delete(name + "vf0s");
  REQUIRE(run_quiet("ip link add " + name + "vf0s type bridge") == 0);

  auto r = sim::open_wires(name, 1);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find(name + "vf0s") != std::string::npos);
  CHECK_FALSE(link_exists(name + "up"));

  auto removed = remove_sim_wires(name, 1);
  CHECK_FALSE(removed.ok());  // reports the foreign interface ...
  CHECK(removed.error().message.find(name + "vf0s") != std::string::npos);
  CHECK(link_exists(name + "vf0s"));  // ... and does not touch it
}

TEST_CASE(
    "sim wires: remove_sim_wires deletes both ends, also of VFs past the count, and is "
    "idempotent") {
  const std::string name = random_sim_name();
  WireGuard guard(name, 3);
  auto r = sim::open_wires(name, 3);
  REQUIRE_MESSAGE(r.ok(), r.error().message);

  auto removed = remove_sim_wires(name, 2);
  REQUIRE_MESSAGE(removed.ok(), removed.error().message);
  for (const char* dev : {"up", "ups", "vf0", "vf0s", "vf1s", "vf2", "vf2s"}) {
    CAPTURE(dev);
    CHECK_FALSE(link_exists(name + dev));
  }
  CHECK(remove_sim_wires(name, 2).ok());
  CHECK_FALSE(remove_sim_wires("Bad!", 2).ok());
}
