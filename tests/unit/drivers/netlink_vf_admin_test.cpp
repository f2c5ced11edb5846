// drivers/netlink against the running kernel. With no SR-IOV PF here, a veth made for the
// test stands in: the kernel answers our RTM_GETLINK (no VFs), refuses a VF setting sent
// anyway with EOPNOTSUPP (the errno path), and NetlinkVfAdmin refuses VF indexes before
// sending. A test against a real PF (an interface with device/sriov_numvfs > 0) runs when
// one is present and says why it is skipped otherwise.
#include <net/if.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include "drivers/netlink/netlink_vf_admin.h"

using namespace vfs::drivers;
using namespace vfs::drivers::netlink;

namespace {

// The error's message, or "" (doctest evaluates messages even when the check passes under -s).
template <class R>
std::string admin_error_text(const R& r) {
  return r.ok() ? std::string() : r.error().message;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A veth pair with a unique name, deleted when the test ends (also on failure).
class TestVeth {
 public:
  TestVeth() {
    static int n = 0;
    name_ = fmt::format("vfsu{:x}{}", ::getpid() & 0xfffff, n++);
    const std::string cmd =
        fmt::format("ip link add {} type veth peer name {}p >/dev/null 2>&1", name_, name_);
    if (std::system(cmd.c_str()) != 0 || ::if_nametoindex(name_.c_str()) == 0) {
      why_ = fmt::format("`ip link add {} type veth` failed (needs root and veth)", name_);
      return;
    }
    made_ = true;
  }
  ~TestVeth() {
    if (made_) (void)std::system(fmt::format("ip link del {} >/dev/null 2>&1", name_).c_str());
  }
  bool made() const { return made_; }
  const std::string& why() const { return why_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_, why_;
  bool made_ = false;
};

constexpr VfMac kAdminMac{0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

NetlinkVfAdminOptions options(const std::string& pf, const std::string& bus = "",
                              const std::string& dev = "") {
  NetlinkVfAdminOptions o;
  o.pf = pf;
  o.devlink_bus = bus;
  o.devlink_device = dev;
  return o;
}

}  // namespace

TEST_CASE("the kernel answers our messages: a veth has no VFs and refuses VF settings") {
  TestVeth veth;
  if (!veth.made()) {
    MESSAGE("skipped: " << veth.why());
    return;
  }
  auto admin = NetlinkVfAdmin::open(options(veth.name()));
  REQUIRE_MESSAGE(admin.ok(), admin_error_text(admin));
  auto& a = **admin;
  CHECK(a.ifindex() == static_cast<int>(::if_nametoindex(veth.name().c_str())));
  CHECK(a.name() == "PF " + veth.name());

  auto count = a.vf_count();
  REQUIRE_MESSAGE(count.ok(), admin_error_text(count));
  CHECK(*count == 0);
  auto infos = a.vf_infos();
  REQUIRE(infos.ok());
  CHECK(infos->empty());

  SUBCASE("NetlinkVfAdmin refuses a VF the PF does not have, before sending") {
    auto r = a.set_mac(0, kAdminMac);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ERANGE);
    CHECK(contains(r.error().message, "PF " + veth.name()));
    CHECK(contains(r.error().message, "VF 0"));
    auto info = a.vf_info(0);
    REQUIRE_FALSE(info.ok());
    CHECK(info.error().code == ERANGE);
  }

  SUBCASE("sent anyway, a VF setting comes back with the kernel's errno, named") {
    auto sock = NetlinkSocket::open(NETLINK_ROUTE);
    REQUIRE(sock.ok());
    NlMsg m = build_set_vf_mac(a.ifindex(), 3, kAdminMac);
    auto r = sock->request(m.get(), "PF " + veth.name() + " VF 3: set mac");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == EOPNOTSUPP);
    CHECK(contains(r.error().message, "PF " + veth.name() + " VF 3: set mac: "));
    // The socket stays usable after a refusal: the next query gets its own answer.
    NlMsg get = build_get_link(veth.name());
    auto again = sock->query(get.get(), "read link");
    REQUIRE_MESSAGE(again.ok(), admin_error_text(again));
    auto parsed = parse_link_vfs(*again, "PF");
    REQUIRE(parsed.ok());
    CHECK(parsed->ifindex == a.ifindex());
  }

  SUBCASE("bad values are refused with EINVAL and nothing is sent") {
    auto v = a.set_vlan(0, {5000, 0, VlanProto::dot1q});
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().code == EINVAL);
    CHECK(contains(v.error().message, "5000"));
    auto q = a.set_vlan(0, {10, 9, VlanProto::dot1q});
    CHECK(q.error().code == EINVAL);
    auto rate = a.set_rate(0, {500, 100});
    CHECK(rate.error().code == EINVAL);
    auto mc = a.set_mac(0, VfMac{0x01, 0, 0x5e, 0, 0, 1});
    CHECK(mc.error().code == EINVAL);
  }

  SUBCASE("a veth has no bus device, so no devlink eSwitch") {
    CHECK_FALSE(a.devlink().has_value());
    auto m = a.eswitch_mode();
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().code == ENODEV);
    CHECK(contains(m.error().message, veth.name()));
  }
}

TEST_CASE("devlink on a device that does not exist: the kernel's answer, named") {
  TestVeth veth;
  if (!veth.made()) {
    MESSAGE("skipped: " << veth.why());
    return;
  }
  auto admin = NetlinkVfAdmin::open(options(veth.name(), "pci", "0000:ff:1f.7"));
  REQUIRE_MESSAGE(admin.ok(), admin_error_text(admin));
  auto m = (*admin)->eswitch_mode();
  REQUIRE_FALSE(m.ok());
  // Without devlink in the kernel (as on the CI machines) EOPNOTSUPP saying so; with it,
  // the kernel's ENODEV for the unknown handle.
  INFO(m.error().message);
  CHECK((m.error().code == EOPNOTSUPP || m.error().code == ENODEV));
  if (m.error().code == EOPNOTSUPP) CHECK(contains(m.error().message, "no devlink"));
  if (m.error().code == ENODEV) CHECK(contains(m.error().message, "pci/0000:ff:1f.7"));
}

TEST_CASE("opening a PF that does not exist names it") {
  auto admin = NetlinkVfAdmin::open(options("vfsnosuchdev0"));
  REQUIRE_FALSE(admin.ok());
  CHECK(admin.error().code == ENODEV);
  CHECK(contains(admin.error().message, "vfsnosuchdev0"));
  CHECK_FALSE(NetlinkVfAdmin::open(options("")).ok());
}

TEST_CASE("devlink handle from sysfs") {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / fmt::format("vfs-sysfs-{}", ::getpid());
  fs::remove_all(root);
  fs::create_directories(root / "class/net/ens1f0");
  fs::create_directories(root / "devices/pci0000:00/0000:03:00.0");
  fs::create_directories(root / "bus/pci");
  fs::create_directory_symlink(root / "devices/pci0000:00/0000:03:00.0",
                               root / "class/net/ens1f0/device");
  fs::create_directory_symlink(root / "bus/pci",
                               root / "devices/pci0000:00/0000:03:00.0/subsystem");
  fs::create_directories(root / "class/net/veth0");
  auto h = devlink_handle_of(root.string(), "ens1f0");
  REQUIRE(h.has_value());
  CHECK(h->text() == "pci/0000:03:00.0");
  CHECK_FALSE(devlink_handle_of(root.string(), "veth0").has_value());
  CHECK_FALSE(devlink_handle_of(root.string(), "nosuch").has_value());
  fs::remove_all(root);
}

namespace {

// The first interface whose device has SR-IOV VFs enabled, or "".
std::string find_sriov_pf() {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/sys/class/net", ec)) {
    std::ifstream f(e.path() / "device/sriov_numvfs");
    int n = 0;
    if (f >> n && n > 0) return e.path().filename().string();
  }
  return "";
}

}  // namespace

TEST_CASE("a real SR-IOV PF: VFs read back as sysfs counts them, settings round-trip") {
  const std::string pf = find_sriov_pf();
  if (pf.empty()) {
    MESSAGE("skipped: no interface here has SR-IOV VFs (/sys/class/net/*/device/sriov_numvfs > 0)");
    return;
  }
  auto admin = NetlinkVfAdmin::open(options(pf));
  REQUIRE_MESSAGE(admin.ok(), admin_error_text(admin));
  auto& a = **admin;
  int numvfs = 0;
  std::ifstream("/sys/class/net/" + pf + "/device/sriov_numvfs") >> numvfs;
  auto count = a.vf_count();
  REQUIRE(count.ok());
  CHECK(*count == numvfs);
  auto infos = a.vf_infos();
  REQUIRE_MESSAGE(infos.ok(), admin_error_text(infos));
  CHECK(static_cast<int>(infos->size()) == numvfs);
  auto v0 = a.vf_info(0);
  REQUIRE_MESSAGE(v0.ok(), admin_error_text(v0));
  // Writing back what is there changes nothing on the host and exercises every path.
  if (v0->spoofchk) CHECK_MESSAGE(a.set_spoofchk(0, *v0->spoofchk).ok(), "spoofchk");
  if (v0->trust) CHECK_MESSAGE(a.set_trust(0, *v0->trust).ok(), "trust");
  if (v0->link_state) CHECK_MESSAGE(a.set_link_state(0, *v0->link_state).ok(), "link state");
  auto after = a.vf_info(0);
  REQUIRE(after.ok());
  CHECK(after->spoofchk == v0->spoofchk);
  CHECK(after->trust == v0->trust);
  CHECK(after->link_state == v0->link_state);
  auto mode = a.eswitch_mode();
  MESSAGE("PF " << pf << ": " << numvfs << " VFs, eSwitch "
                << (mode.ok() ? to_string(*mode) : mode.error().message));
}

TEST_CASE("shared value checks and names") {
  CHECK(check_vf_index("PF x", 0, 4).ok());
  CHECK(check_vf_index("PF x", 4, 4).error().code == ERANGE);
  CHECK(check_vf_index("PF x", -1, 4).error().code == ERANGE);
  CHECK(contains(check_vf_index("PF x", 0, 0).error().message, "no VFs"));
  CHECK(check_vf_vlan("PF x", 0, {4095, 7, VlanProto::dot1ad}).ok());
  CHECK_FALSE(check_vf_vlan("PF x", 0, {4096, 0, VlanProto::dot1q}).ok());
  CHECK_FALSE(check_vf_vlan("PF x", 0, {1, 0, static_cast<VlanProto>(0x9100)}).ok());
  CHECK(check_vf_rate("PF x", 0, {100, 0}).ok());  // a floor without a ceiling
  CHECK(check_vf_rate("PF x", 0, {100, 100}).ok());
  CHECK_FALSE(check_vf_rate("PF x", 0, {101, 100}).ok());
  CHECK_FALSE(check_vf_mac("PF x", 0, VfMac{}).ok());
  CHECK(check_vf_mac("PF x", 0, kAdminMac).ok());
  auto m = parse_mac("02:AB:cd:00:00:01");
  REQUIRE(m.has_value());
  CHECK(format_mac(*m) == "02:ab:cd:00:00:01");
  CHECK_FALSE(parse_mac("02:ab:cd:00:00").has_value());
  CHECK_FALSE(parse_mac("02-ab-cd-00-00-01").has_value());
  CHECK_FALSE(parse_mac("02:ab:cd:00:00:0g").has_value());
  CHECK(parse_eswitch_mode("switchdev") == EswitchMode::switchdev);
  CHECK_FALSE(parse_eswitch_mode("offload").has_value());
}
