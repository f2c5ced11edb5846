#include "tools/libvirt-hook/vfswitch_ports.h"

#include <filesystem>

#include <fmt/core.h>

namespace vfs::tools::libvirt {
namespace {

// A decimal VF index with no sign, no leading zero (but "0"), below 2^16.
std::optional<int> index_suffix(std::string_view s) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > 65535) return std::nullopt;
  return v;
}

struct ProfileChoice {
  std::string profile, source;
};

// The profile an interface names; "" when none. Explicit names (802.1Qbh, metadata) must
// agree; a vfswitch network's portgroup names the profile only when neither is given, as
// libvirt merges a portgroup's own <virtualport> into the interface (then the portgroup
// may be named anything).
Result<ProfileChoice> choose_profile(const InterfaceXml& itf, const DomainXml& d,
                                     const HookConfig& c, const std::string& who) {
  std::vector<ProfileChoice> named;
  if (!itf.qbh_profile.empty()) named.push_back({itf.qbh_profile, "802.1Qbh profileid"});
  if (!itf.mac.empty()) {
    if (auto m = d.metadata_profiles.find(itf.mac); m != d.metadata_profiles.end())
      named.push_back({m->second, "vfswitch metadata"});
  }
  for (const auto& n : named) {
    if (n.profile != named.front().profile)
      return make_error(EINVAL, "{} names two port-profiles: {} ({}) and {} ({})", who,
                        named.front().profile, named.front().source, n.profile, n.source);
  }
  if (!named.empty()) return named.front();
  if (!itf.network.empty() && c.networks.count(itf.network)) {
    if (itf.portgroup.empty())
      return make_error(EINVAL,
                        "{} is on vfswitch network {} without a portgroup naming its port-profile",
                        who, itf.network);
    return ProfileChoice{itf.portgroup, fmt::format("portgroup of network {}", itf.network)};
  }
  return ProfileChoice{};
}

}  // namespace

std::optional<int> sim_wire_vf(const std::string& sim_name, const std::string& dev) {
  if (sim_name.empty() || dev.size() <= sim_name.size() + 2) return std::nullopt;
  if (dev.compare(0, sim_name.size(), sim_name) != 0) return std::nullopt;
  if (dev.compare(sim_name.size(), 2, "vf") != 0) return std::nullopt;
  return index_suffix(std::string_view(dev).substr(sim_name.size() + 2));
}

VfDirectory read_vf_directory(const HookConfig& config) {
  namespace fs = std::filesystem;
  VfDirectory d;
  d.pf = config.pf;
  d.sim_name = config.sim_name;
  if (config.pf.empty()) return d;
  const fs::path dev = fs::path(config.sysfs_root) / "class/net" / config.pf / "device";
  std::error_code ec;
  if (!fs::exists(dev, ec)) {
    d.pf_unavailable = fmt::format("PF {} has no device in {}", config.pf,
                                   (fs::path(config.sysfs_root) / "class/net").string());
    return d;
  }
  for (const auto& e : fs::directory_iterator(dev, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("virtfn", 0) != 0) continue;
    auto vf = index_suffix(std::string_view(name).substr(6));
    if (!vf) continue;
    std::error_code lec;
    fs::path target = fs::read_symlink(e.path(), lec);
    if (lec) continue;
    d.pci_vfs[target.filename().string()] = *vf;
  }
  if (ec)
    d.pf_unavailable = fmt::format("cannot list {}: {}", dev.string(), ec.message());
  else if (d.pci_vfs.empty())
    d.pf_unavailable = fmt::format("PF {} has no VFs (sriov_numvfs is 0?)", config.pf);
  return d;
}

Result<std::vector<VfswitchPort>> vfswitch_ports(const DomainXml& domain, const HookConfig& config,
                                                 const VfDirectory& vfs, PortCheck check) {
  const bool strict = check == PortCheck::strict;
  std::vector<VfswitchPort> ports;
  std::map<int, int> vf_owner;  // VF -> interface position
  for (const InterfaceXml& itf : domain.interfaces) {
    const std::string who = fmt::format("VM {} {}", domain.name, itf.describe());
    // The device.
    std::optional<int> vf;
    std::string device;
    if (itf.pci) {
      if (auto it = vfs.pci_vfs.find(itf.pci->text()); it != vfs.pci_vfs.end()) {
        vf = it->second;
        device = fmt::format("VF {} of PF {}", itf.pci->text(), vfs.pf);
      }
    }
    if (!vf && !itf.target_dev.empty()) {
      if ((vf = sim_wire_vf(vfs.sim_name, itf.target_dev))) device = "wire " + itf.target_dev;
    }
    const bool metadata_claim = !itf.mac.empty() && domain.metadata_profiles.count(itf.mac);
    const bool network_claim = !itf.network.empty() && config.networks.count(itf.network);
    if (!vf) {
      if (!strict || (!metadata_claim && !network_claim))
        continue;  // not ours: another switch's vNIC
      std::string why = "its device is no VF of this host's eSwitch";
      if (itf.pci && !vfs.pf_unavailable.empty())
        why += " (" + vfs.pf_unavailable + ")";
      else if (itf.pci && vfs.pf.empty())
        why += " (no PF is configured: set `pf` in the hook config)";
      else if (!itf.pci && itf.target_dev.empty())
        why = "the XML names no device for it (no PCI address, no target dev)";
      return make_error(EINVAL, "{} is given to vfswitch by {}, but {}", who,
                        metadata_claim ? "vfswitch metadata" : "network " + itf.network, why);
    }
    auto profile = choose_profile(itf, domain, config, who);
    if (!strict) {
      if (vf_owner.emplace(*vf, itf.position).second)
        ports.push_back({itf.position, itf.mac, *vf, device, profile ? profile->profile : "", ""});
      continue;
    }
    if (!profile) return profile.error();
    if (profile->profile.empty())
      return make_error(
          EINVAL,
          "{} is on {} but names no port-profile (give it a 802.1Qbh profileid, vfswitch metadata "
          "or a portgroup of a vfswitch network)",
          who, device);
    if (auto [it, fresh] = vf_owner.emplace(*vf, itf.position); !fresh)
      return make_error(EINVAL, "VM {}: interfaces {} and {} are both on VF {}", domain.name,
                        it->second, itf.position, *vf);
    ports.push_back({itf.position, itf.mac, *vf, device, profile->profile, profile->source});
  }
  return ports;
}

}  // namespace vfs::tools::libvirt
