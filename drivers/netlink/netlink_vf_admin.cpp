#include "drivers/netlink/netlink_vf_admin.h"

#include <linux/netlink.h>

#include <filesystem>

#include <fmt/core.h>

namespace vfs::drivers::netlink {

std::optional<DevlinkHandle> devlink_handle_of(const std::string& sysfs_root,
                                               const std::string& ifname) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dev = fs::path(sysfs_root) / "class/net" / ifname / "device";
  fs::path target = fs::read_symlink(dev, ec);
  if (ec) return std::nullopt;
  fs::path subsystem = fs::read_symlink(dev / "subsystem", ec);
  if (ec) return std::nullopt;
  DevlinkHandle h{subsystem.filename().string(), target.filename().string()};
  if (h.bus.empty() || h.device.empty()) return std::nullopt;
  return h;
}

Result<std::unique_ptr<NetlinkVfAdmin>> NetlinkVfAdmin::open(const NetlinkVfAdminOptions& o) {
  if (o.pf.empty()) return make_error(EINVAL, "no PF netdev named");
  auto route = NetlinkSocket::open(NETLINK_ROUTE);
  if (!route) return route.error();
  NlMsg get = build_get_link(o.pf);
  auto answer = route->query(get.get(), fmt::format("PF {}: read link", o.pf));
  if (!answer) return answer.error();
  auto pf_link = parse_link_vfs(*answer, "PF " + o.pf);
  if (!pf_link) return pf_link.error();

  std::optional<DevlinkHandle> devlink;
  if (!o.devlink_bus.empty() || !o.devlink_device.empty()) {
    if (o.devlink_bus.empty() || o.devlink_device.empty())
      return make_error(EINVAL, "PF {}: a devlink handle needs both a bus and a device name", o.pf);
    devlink = DevlinkHandle{o.devlink_bus, o.devlink_device};
  } else {
    devlink = devlink_handle_of(o.sysfs_root, o.pf);
  }
  return std::unique_ptr<NetlinkVfAdmin>(
      new NetlinkVfAdmin(std::move(*route), o.pf, pf_link->ifindex, std::move(devlink)));
}

NetlinkVfAdmin::NetlinkVfAdmin(NetlinkSocket route, std::string pf, int ifindex,
                               std::optional<DevlinkHandle> devlink)
    : route_(std::move(route)),
      pf_(std::move(pf)),
      who_("PF " + pf_),
      ifindex_(ifindex),
      devlink_(std::move(devlink)) {}

Result<LinkVfs> NetlinkVfAdmin::read_link() {
  NlMsg get = build_get_link(pf_);
  auto answer = route_.query(get.get(), who_ + ": read VFs");
  if (!answer) return answer.error();
  auto pf_link = parse_link_vfs(*answer, who_);
  if (!pf_link) return pf_link.error();
  if (pf_link->ifindex != ifindex_)
    return make_error(ENODEV, "{}: the name now belongs to another device (ifindex {}, was {})",
                      who_, pf_link->ifindex, ifindex_);
  return pf_link;
}

Result<int> NetlinkVfAdmin::vf_count() {
  auto pf_link = read_link();
  if (!pf_link) return pf_link.error();
  return pf_link->num_vf;
}

Result<void> NetlinkVfAdmin::set(int vf, NlMsg m, std::string_view what) {
  auto n = vf_count();
  if (!n) return n.error();
  if (auto c = check_vf_index(who_, vf, *n); !c) return c;
  return route_.request(m.get(), fmt::format("{} VF {}: {}", who_, vf, what));
}

Result<void> NetlinkVfAdmin::set_mac(int vf, const VfMac& mac) {
  if (auto c = check_vf_mac(who_, vf, mac); !c) return c;
  return set(vf, build_set_vf_mac(ifindex_, vf, mac), "set mac " + format_mac(mac));
}

Result<void> NetlinkVfAdmin::set_vlan(int vf, const VfVlan& vlan) {
  if (auto c = check_vf_vlan(who_, vf, vlan); !c) return c;
  return set(vf, build_set_vf_vlan(ifindex_, vf, vlan),
             fmt::format("set vlan {} qos {} proto {}", vlan.vid, vlan.qos, to_string(vlan.proto)));
}

Result<void> NetlinkVfAdmin::set_rate(int vf, const VfRate& rate) {
  if (auto c = check_vf_rate(who_, vf, rate); !c) return c;
  return set(vf, build_set_vf_rate(ifindex_, vf, rate),
             fmt::format("set min_tx_rate {} max_tx_rate {}", rate.min_mbps, rate.max_mbps));
}

Result<void> NetlinkVfAdmin::set_spoofchk(int vf, bool on) {
  return set(vf, build_set_vf_spoofchk(ifindex_, vf, on),
             on ? "set spoofchk on" : "set spoofchk off");
}

Result<void> NetlinkVfAdmin::set_trust(int vf, bool on) {
  return set(vf, build_set_vf_trust(ifindex_, vf, on), on ? "set trust on" : "set trust off");
}

Result<void> NetlinkVfAdmin::set_link_state(int vf, VfLinkState state) {
  return set(vf, build_set_vf_link_state(ifindex_, vf, state),
             fmt::format("set state {}", to_string(state)));
}

Result<VfInfo> NetlinkVfAdmin::vf_info(int vf) {
  auto pf_link = read_link();
  if (!pf_link) return pf_link.error();
  if (auto c = check_vf_index(who_, vf, pf_link->num_vf); !c) return c.error();
  for (auto& v : pf_link->vfs)
    if (v.vf == vf) return std::move(v);
  return make_error(ENOENT, "{}: the kernel reports no VF {} (it reported {} of {})", who_, vf,
                    pf_link->vfs.size(), pf_link->num_vf);
}

Result<std::vector<VfInfo>> NetlinkVfAdmin::vf_infos() {
  auto pf_link = read_link();
  if (!pf_link) return pf_link.error();
  return std::move(pf_link->vfs);
}

Result<uint16_t> NetlinkVfAdmin::devlink_family() {
  if (family_) return *family_;
  if (!genl_) {
    auto s = NetlinkSocket::open(NETLINK_GENERIC);
    if (!s) return s.error();
    genl_.emplace(std::move(*s));
  }
  NlMsg get = build_get_family("devlink");
  auto answer = genl_->query(get.get(), "resolve generic netlink family devlink");
  if (!answer) {
    if (answer.error().code == ENOENT)
      return make_error(
          EOPNOTSUPP, "{}: this kernel has no devlink (generic netlink family 'devlink' not found)",
          who_);
    return answer.error();
  }
  auto id = parse_family_id(*answer, "devlink");
  if (!id) return id.error();
  family_ = *id;
  return *id;
}

Result<EswitchMode> NetlinkVfAdmin::eswitch_mode() {
  if (!devlink_)
    return make_error(ENODEV, "{}: no bus device behind it, so no devlink eSwitch", who_);
  auto family = devlink_family();
  if (!family) return family.error();
  NlMsg get = build_eswitch_get(*family, *devlink_);
  auto answer =
      genl_->query(get.get(), fmt::format("{}: devlink {} eswitch show", who_, devlink_->text()));
  if (!answer) return answer.error();
  return parse_eswitch_mode_answer(*answer, *family, *devlink_);
}

Result<void> NetlinkVfAdmin::set_eswitch_mode(EswitchMode mode) {
  if (!devlink_)
    return make_error(ENODEV, "{}: no bus device behind it, so no devlink eSwitch", who_);
  auto family = devlink_family();
  if (!family) return family.error();
  NlMsg set = build_eswitch_set(*family, *devlink_, mode);
  return genl_->request(set.get(), fmt::format("{}: devlink {} eswitch set mode {}", who_,
                                               devlink_->text(), to_string(mode)));
}

}  // namespace vfs::drivers::netlink
