// libvirt hook: reading domain XML (tests/data/libvirt/*.xml and inline cases), deciding
// which interfaces are vfswitch's with which VF and profile, and the hook config.
#include <doctest/doctest.h>

#include "tests/unit/tools/libvirt_hook_support.h"
#include "tools/libvirt-hook/domain_xml.h"
#include "tools/libvirt-hook/hook_config.h"
#include "tools/libvirt-hook/vfswitch_ports.h"

using namespace vfs::tools::libvirt;
using namespace vfs::tools::libvirt::testing;

namespace {

template <class R>
std::string why(const R& r) {
  return r.ok() ? std::string() : r.error().message;
}

bool has_text(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

struct Expected {
  int vf;
  std::string profile;
  std::string source;
};

std::vector<Expected> ports_of(const std::string& xml, const HookConfig& c) {
  auto d = parse_domain_xml(xml);
  REQUIRE_MESSAGE(d.ok(), why(d));
  auto ports = vfswitch_ports(*d, c, read_vf_directory(c));
  REQUIRE_MESSAGE(ports.ok(), why(ports));
  std::vector<Expected> out;
  for (const auto& p : *ports) out.push_back({p.vf, p.profile, p.profile_source});
  return out;
}

// The reason vfswitch_ports refuses a domain.
std::string refusal(const std::string& xml, const HookConfig& c) {
  auto d = parse_domain_xml(xml);
  REQUIRE_MESSAGE(d.ok(), why(d));
  auto ports = vfswitch_ports(*d, c, read_vf_directory(c));
  REQUIRE_FALSE(ports.ok());
  return ports.error().message;
}

std::string domain_with(const std::string& interfaces, const std::string& metadata = "") {
  return "<domain type='kvm'><name>t1</name><uuid>12345678-1234-4234-8234-123456789abc</uuid>" +
         (metadata.empty() ? "" : "<metadata>" + metadata + "</metadata>") + "<devices>" +
         interfaces + "</devices></domain>";
}

}  // namespace

TEST_CASE("hostdev VF: identity, MAC, host PCI address (not the guest's), 802.1Qbh profile") {
  auto d = parse_domain_xml(domain_file("hostdev_vf.xml"));
  REQUIRE_MESSAGE(d.ok(), why(d));
  CHECK(d->name == "web1");
  CHECK(d->uuid == "6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5");
  REQUIRE(d->interfaces.size() == 1);
  const auto& i = d->interfaces[0];
  CHECK(i.type == "hostdev");
  CHECK(i.mac == "52:54:00:6d:90:01");  // written upper-case in the file
  REQUIRE(i.pci.has_value());
  CHECK(i.pci->text() == "0000:03:10.1");
  CHECK(i.qbh_profile == "web");
}

TEST_CASE("each domain file: the vfswitch interfaces, their VF and port-profile") {
  FakeSysfs sys;
  const HookConfig c = test_config(sys);
  using V = std::vector<Expected>;
  auto check = [&](const char* file, const V& want) {
    INFO(file);
    auto got = ports_of(domain_file(file), c);
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      CHECK(got[i].vf == want[i].vf);
      CHECK(got[i].profile == want[i].profile);
      CHECK(got[i].source == want[i].source);
    }
  };
  check("hostdev_vf.xml", V{{1, "web", "802.1Qbh profileid"}});
  check("ethernet_sim.xml", V{{1, "web", "vfswitch metadata"}});
  check("network_portgroup.xml", V{{2, "db", "portgroup of network vfswitch"}});
  check("qbh_sim.xml", V{{3, "db", "802.1Qbh profileid"}});
  check("several_nics.xml", V{{3, "web", "vfswitch metadata"}, {0, "db", "802.1Qbh profileid"}});
  check("none_of_ours.xml", V{});
}

TEST_CASE("malformed domain XML is an error that says where") {
  auto d = parse_domain_xml(domain_file("malformed.xml"));
  REQUIRE_FALSE(d.ok());
  CHECK(has_text(d.error().message, "malformed domain XML at byte"));
  CHECK_FALSE(parse_domain_xml("").ok());
  CHECK_FALSE(parse_domain_xml("<network><name>x</name></network>").ok());
  CHECK(has_text(parse_domain_xml("<domain><uuid>x</uuid></domain>").error().message, "no <name>"));
  // Every prefix of a good file is refused or parsed without reading past its end.
  const std::string good = domain_file("several_nics.xml");
  for (size_t n = 0; n < good.size(); n += 7)
    (void)parse_domain_xml(std::string_view(good).substr(0, n));
}

TEST_CASE("values that do not parse are errors naming the interface") {
  auto bad_mac = parse_domain_xml(
      domain_with("<interface type='ethernet'><mac address='52:54:00:zz:00:01'/></interface>"));
  REQUIRE_FALSE(bad_mac.ok());
  CHECK(has_text(bad_mac.error().message, "<interface> 0"));
  CHECK(has_text(bad_mac.error().message, "52:54:00:zz:00:01"));
  auto bad_pci =
      parse_domain_xml(domain_with("<interface type='hostdev'><source><address type='pci' "
                                   "bus='0x3' slot='0x40' function='0'/></source></interface>"));
  REQUIRE_FALSE(bad_pci.ok());
  CHECK(has_text(bad_pci.error().message, "slot='0x40'"));
  CHECK_FALSE(parse_domain_xml(domain_with("<interface type='hostdev'><source><address type='pci' "
                                           "bus='0x3' slot='1'/></source></interface>"))
                  .ok());
  CHECK_FALSE(parse_domain_xml(
                  domain_with("<interface type='ethernet'><virtualport type='802.1Qbh'><parameters "
                              "profileid=''/></virtualport></interface>"))
                  .ok());
}

TEST_CASE("vfswitch metadata: by namespace URI, not by prefix; bad entries refused") {
  const std::string itf =
      "<interface type='ethernet'><mac address='52:54:00:00:00:01'/><target "
      "dev='vfsvf2'/></interface>";
  FakeSysfs sys;
  const HookConfig c = test_config(sys);
  // Default namespace, a single <port>, another prefix.
  for (const std::string md : {
           "<ports xmlns='https://vfswitch.dev/xmlns/1'><port mac='52:54:00:00:00:01' "
           "profile='web'/></ports>",
           "<x:port xmlns:x='https://vfswitch.dev/xmlns/1' mac='52:54:00:00:00:01' profile='web'/>",
       }) {
    INFO(md);
    auto got = ports_of(domain_with(itf, md), c);
    REQUIRE(got.size() == 1);
    CHECK(got[0].vf == 2);
    CHECK(got[0].profile == "web");
  }
  // The same local names in another namespace are not ours: no profile for a vfswitch wire.
  CHECK(has_text(
      refusal(
          domain_with(itf, "<o:port xmlns:o='urn:other' mac='52:54:00:00:00:01' profile='web'/>"),
          c),
      "names no port-profile"));
  for (const std::string md : {
           "<v:ports xmlns:v='https://vfswitch.dev/xmlns/1'><v:port "
           "mac='52:54:00:00:00:01'/></v:ports>",
           "<v:ports xmlns:v='https://vfswitch.dev/xmlns/1'><v:port mac='nope' "
           "profile='web'/></v:ports>",
           "<v:ports xmlns:v='https://vfswitch.dev/xmlns/1'><v:vlan id='3'/></v:ports>",
           "<v:profile xmlns:v='https://vfswitch.dev/xmlns/1'/>",
           "<v:ports xmlns:v='https://vfswitch.dev/xmlns/1'><v:port mac='52:54:00:00:00:01' "
           "profile='web'/>"
           "<v:port mac='52:54:00:00:00:01' profile='db'/></v:ports>",
       }) {
    INFO(md);
    auto d = parse_domain_xml(domain_with(itf, md));
    REQUIRE_FALSE(d.ok());
    CHECK(has_text(d.error().message, "vfswitch metadata"));
  }
}

TEST_CASE("fail closed: what cannot be resolved refuses the domain, naming why") {
  FakeSysfs sys;
  const HookConfig c = test_config(sys);
  SUBCASE("a vfswitch VF without a profile") {
    auto why =
        refusal(domain_with("<interface type='ethernet'><mac address='52:54:00:00:00:01'/><target "
                            "dev='vfsvf0'/></interface>"),
                c);
    CHECK(has_text(why, "VM t1 interface 0"));
    CHECK(has_text(why, "wire vfsvf0"));
    CHECK(has_text(why, "names no port-profile"));
  }
  SUBCASE("802.1Qbh and metadata that disagree") {
    auto why = refusal(
        domain_with(
            "<interface type='ethernet'><mac address='52:54:00:00:00:01'/><target dev='vfsvf0'/>"
            "<virtualport type='802.1Qbh'><parameters profileid='web'/></virtualport></interface>",
            "<v:port xmlns:v='https://vfswitch.dev/xmlns/1' mac='52:54:00:00:00:01' "
            "profile='db'/>"),
        c);
    CHECK(has_text(why, "two port-profiles: web (802.1Qbh profileid) and db (vfswitch metadata)"));
  }
  SUBCASE("a portgroup does not override a profileid libvirt merged from it") {
    auto got = ports_of(
        domain_with("<interface type='hostdev'><mac address='52:54:00:00:00:01'/>"
                    "<source network='vfswitch' portgroup='gold'/><source><address type='pci' "
                    "domain='0' bus='3' slot='0x10' function='0'/></source><virtualport "
                    "type='802.1Qbh'><parameters profileid='web'/></virtualport></interface>"),
        c);
    REQUIRE(got.size() == 1);
    CHECK(got[0].vf == 0);
    CHECK(got[0].profile == "web");
  }
  SUBCASE("metadata claims an interface on a device that is not ours") {
    auto why =
        refusal(domain_with("<interface type='bridge'><mac address='52:54:00:00:00:01'/><source "
                            "bridge='br0'/></interface>",
                            "<v:port xmlns:v='https://vfswitch.dev/xmlns/1' "
                            "mac='52:54:00:00:00:01' profile='web'/>"),
                c);
    CHECK(has_text(why, "given to vfswitch by vfswitch metadata"));
    CHECK(has_text(why, "no PCI address, no target dev"));
  }
  SUBCASE("a vfswitch network on a VF of another PF") {
    auto why = refusal(
        domain_with("<interface type='hostdev'><mac address='52:54:00:00:00:01'/><source "
                    "network='vfswitch' "
                    "portgroup='web'/><source><address type='pci' domain='0' bus='5' slot='0' "
                    "function='1'/></source></interface>"),
        c);
    CHECK(has_text(why, "by network vfswitch"));
    CHECK(has_text(why, "no VF of this host's eSwitch"));
  }
  SUBCASE("a vfswitch network without a portgroup or profile") {
    auto why = refusal(domain_with("<interface type='ethernet'><mac "
                                   "address='52:54:00:00:00:01'/><source network='vfswitch'/>"
                                   "<target dev='vfsvf1'/></interface>"),
                       c);
    CHECK(has_text(why, "without a portgroup"));
  }
  SUBCASE("two interfaces on one VF") {
    const std::string qbh =
        "<virtualport type='802.1Qbh'><parameters profileid='web'/></virtualport>";
    auto why = refusal(
        domain_with("<interface type='ethernet'><target dev='vfsvf1'/>" + qbh +
                    "</interface><interface type='hostdev'><source><address type='pci' bus='3' "
                    "slot='0x10' function='1'/></source>" +
                    qbh + "</interface>"),
        c);
    CHECK(has_text(why, "interfaces 0 and 1 are both on VF 1"));
  }
  SUBCASE("a hostdev VF with no PF configured is not ours; claimed, it is refused saying so") {
    HookConfig nopf = c;
    nopf.pf.clear();
    CHECK(ports_of(domain_file("hostdev_vf.xml"), nopf).empty());
    auto why = refusal(domain_file("network_portgroup.xml"), nopf);
    CHECK(has_text(why, "no PF is configured"));
  }
  SUBCASE("a PF that is gone") {
    HookConfig gone = c;
    gone.pf = "ens9f9";
    auto why = refusal(domain_file("network_portgroup.xml"), gone);
    CHECK(has_text(why, "PF ens9f9 has no device"));
  }
}

TEST_CASE("release checks only devices: it detaches even what it could not attach") {
  FakeSysfs sys;
  const HookConfig c = test_config(sys);
  auto d = parse_domain_xml(
      domain_with("<interface type='ethernet'><mac address='52:54:00:00:00:01'/><target "
                  "dev='vfsvf2'/></interface>"));
  REQUIRE(d.ok());
  CHECK_FALSE(vfswitch_ports(*d, c, read_vf_directory(c)).ok());
  auto loose = vfswitch_ports(*d, c, read_vf_directory(c), PortCheck::devices_only);
  REQUIRE(loose.ok());
  REQUIRE(loose->size() == 1);
  CHECK((*loose)[0].vf == 2);
}

TEST_CASE("sim wire names and the PF's VFs from sysfs") {
  CHECK(sim_wire_vf("vfs", "vfsvf0") == 0);
  CHECK(sim_wire_vf("vfs", "vfsvf12") == 12);
  CHECK_FALSE(sim_wire_vf("vfs", "vfsvf").has_value());
  CHECK_FALSE(sim_wire_vf("vfs", "vfsvf01").has_value());
  CHECK_FALSE(sim_wire_vf("vfs", "vfsvf1x").has_value());
  CHECK_FALSE(sim_wire_vf("vfs", "vfsup").has_value());
  CHECK_FALSE(sim_wire_vf("vfs", "tvfsvf1").has_value());
  CHECK_FALSE(sim_wire_vf("", "vf1").has_value());
  FakeSysfs sys;
  VfDirectory d = read_vf_directory(test_config(sys));
  CHECK(d.pf_unavailable.empty());
  CHECK(d.pci_vfs ==
        std::map<std::string, int>{
            {"0000:03:10.0", 0}, {"0000:03:10.1", 1}, {"0000:03:10.2", 2}, {"0000:03:10.3", 3}});
}

TEST_CASE("hook config: the shipped file, errors by line, environment overrides") {
  auto shipped = parse_hook_config(
      read_file(vfs::vsm::testing::repo_root() / "configs/libvirt-hook.conf"), "libvirt-hook.conf");
  REQUIRE_MESSAGE(shipped.ok(), why(shipped));
  CHECK(shipped->socket == "/run/vfswitch/vfswitchd.sock");
  CHECK(shipped->timeout == std::chrono::seconds(5));
  CHECK(shipped->sim_name == "vfs");

  auto c = parse_hook_config(
      "# comment\n\npf = ens1f0\nnetwork = a\nnetwork = b\ntimeout = 0.25\nlog = syslog\n", "f");
  REQUIRE(c.ok());
  CHECK(c->pf == "ens1f0");
  CHECK(c->networks == std::set<std::string>{"a", "b"});
  CHECK(c->timeout == std::chrono::milliseconds(250));
  CHECK(c->log == "syslog");

  CHECK(parse_hook_config("pf = ens1f0\nbogus = 1\n", "/etc/x.conf").error().message ==
        "/etc/x.conf:2: unknown setting 'bogus' (expected socket, timeout, pf, sim-name, network, "
        "log)");
  CHECK(has_text(parse_hook_config("timeout = 0\n", "f").error().message, "f:1: timeout '0'"));
  CHECK(has_text(parse_hook_config("timeout = soon\n", "f").error().message, "f:1:"));
  CHECK(
      has_text(parse_hook_config("pf\n", "f").error().message, "f:1: 'pf' is not 'name = value'"));
  CHECK(has_text(parse_hook_config("pf =\n", "f").error().message, "has no value"));
  CHECK_FALSE(parse_hook_config("pf = a/b\n", "f").ok());

  vfs::vsm::testing::TempDir tmp;
  { std::ofstream(tmp / "hook.conf") << "socket = /from/file.sock\nsim-name = tq1\ntimeout = 9\n"; }
  std::map<std::string, std::string> env{{"VFSWITCH_HOOK_CONFIG", tmp / "hook.conf"},
                                         {"VFSWITCH_SOCKET", "/from/env.sock"}};
  auto lookup = [&](const char* k) -> const char* {
    auto it = env.find(k);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto loaded = load_hook_config(lookup);
  REQUIRE_MESSAGE(loaded.ok(), why(loaded));
  CHECK(loaded->socket == "/from/env.sock");
  CHECK(loaded->sim_name == "tq1");
  CHECK(loaded->timeout == std::chrono::seconds(9));
  env["VFSWITCH_HOOK_TIMEOUT"] = "-1";
  CHECK(has_text(load_hook_config(lookup).error().message, "VFSWITCH_HOOK_TIMEOUT"));
  env.erase("VFSWITCH_HOOK_TIMEOUT");
  env["VFSWITCH_HOOK_CONFIG"] = tmp / "missing.conf";
  CHECK(has_text(load_hook_config(lookup).error().message, "missing.conf"));
}
