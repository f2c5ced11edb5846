// tests/unit/tools/libvirt_hook_support.h: what the libvirt hook tests share — the domain
// XML files of tests/data/libvirt, a fake sysfs with one SR-IOV PF, the hook config that
// goes with it, and a SwitchApi fake that behaves like the daemon (profiles, VF owners)
// and records every call.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "tools/libvirt-hook/hook_run.h"
#include "vsm/vsm_test_support.h"

namespace vfs::tools::libvirt::testing {

inline std::filesystem::path data_dir() {
  return vfs::vsm::testing::repo_root() / "tests" / "data" / "libvirt";
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p);
  REQUIRE_MESSAGE(f.good(), "cannot read " << p.string());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string domain_file(const std::string& name) { return read_file(data_dir() / name); }

// <root>/class/net/ens1f0/device -> a PCI PF with VFs 0..3 at 0000:03:10.0 .. .3.
struct FakeSysfs {
  vfs::vsm::testing::TempDir dir;
  FakeSysfs() {
    namespace fs = std::filesystem;
    fs::path pf = fs::path(dir.path()) / "devices/pci0000:00/0000:03:00.0";
    fs::create_directories(pf);
    for (int i = 0; i < 4; ++i) {
      fs::create_directories(fs::path(dir.path()) /
                             fmt::format("devices/pci0000:00/0000:03:10.{}", i));
      fs::create_directory_symlink(fmt::format("../0000:03:10.{}", i),
                                   pf / fmt::format("virtfn{}", i));
    }
    fs::create_directories(fs::path(dir.path()) / "class/net/ens1f0");
    fs::create_directory_symlink(pf, fs::path(dir.path()) / "class/net/ens1f0/device");
  }
  std::string root() const { return dir.path(); }
};

inline HookConfig test_config(const FakeSysfs& sys) {
  HookConfig c;
  c.pf = "ens1f0";
  c.sim_name = "vfs";
  c.networks = {"vfswitch"};
  c.sysfs_root = sys.root();
  return c;
}

// Plays the daemon: known profiles (some disabled), one vNIC per VF, like Supervisor.
class FakeSwitch final : public SwitchApi {
 public:
  std::set<std::string> profiles{"web", "db"};
  std::set<std::string> disabled;
  bool down = false;               // every call fails as with no daemon
  std::map<int, Binding> bound;    // by VF
  std::vector<std::string> calls;  // "attach 1 web", "detach 1", "bindings"
  uint32_t next_veth = 1;

  Result<uint32_t> attach(const AttachSpec& s) override {
    calls.push_back(fmt::format("attach {} {}", s.vf, s.profile));
    if (down)
      return make_error(ECONNREFUSED,
                        "cannot connect to /run/vfswitch/vfswitchd.sock: Connection refused (is "
                        "vfswitchd running?)");
    if (!profiles.count(s.profile))
      return make_error(EPERM, "port-profile {} does not exist", s.profile);
    if (disabled.count(s.profile))
      return make_error(EPERM, "port-profile {} is not enabled", s.profile);
    if (auto it = bound.find(s.vf); it != bound.end()) {
      if (it->second.vm_uuid != s.vm_uuid || it->second.mac != s.mac)
        return make_error(EPERM, "VF {} is already bound to Vethernet{} (VM {}); detach it first",
                          s.vf, it->second.veth, it->second.vm);
      it->second.profile = s.profile;
      return it->second.veth;
    }
    Binding b{s.vf, next_veth++, s.vm, s.vm_uuid, s.mac, s.profile};
    bound[s.vf] = b;
    return b.veth;
  }
  Result<void> detach(int vf) override {
    calls.push_back(fmt::format("detach {}", vf));
    if (down) return make_error(ECONNREFUSED, "cannot connect: Connection refused");
    if (!bound.erase(vf)) return make_error(EPERM, "VF {} is not attached to any vEthernet", vf);
    return ok();
  }
  Result<std::vector<Binding>> bindings() override {
    calls.push_back("bindings");
    if (down) return make_error(ECONNREFUSED, "cannot connect: Connection refused");
    std::vector<Binding> v;
    for (const auto& [vf, b] : bound) v.push_back(b);
    return v;
  }
  size_t attaches() const {
    return static_cast<size_t>(std::count_if(calls.begin(), calls.end(), [](const std::string& c) {
      return c.rfind("attach", 0) == 0;
    }));
  }
};

}  // namespace vfs::tools::libvirt::testing
