// drivers/netlink/netlink_vf_admin.h owns VfAdmin on a real PF: VF knobs through
// rtnetlink on the PF netdev (the messages of vf_messages.h) and the eSwitch mode through
// devlink (devlink_messages.h) on the PF's bus device, found in sysfs
// (/sys/class/net/<pf>/device). The PF is pinned by ifindex when opened, so a rename does
// not redirect settings to another device.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "drivers/netlink/devlink_messages.h"
#include "drivers/netlink/netlink_socket.h"
#include "drivers/netlink/vf_messages.h"
#include "drivers/vf_admin.h"

namespace vfs::drivers::netlink {

struct NetlinkVfAdminOptions {
  std::string pf;  // PF netdev, e.g. "ens1f0"
  // The devlink instance; empty = the PF's bus device from sysfs (bus "pci", device
  // "0000:03:00.0"). A PF without one (a virtual device) has no eSwitch mode.
  std::string devlink_bus;
  std::string devlink_device;
  std::string sysfs_root = "/sys";
};

class NetlinkVfAdmin final : public VfAdmin {
 public:
  // ENODEV when the PF netdev does not exist.
  static Result<std::unique_ptr<NetlinkVfAdmin>> open(const NetlinkVfAdminOptions& options);

  std::string_view name() const override { return who_; }
  Result<int> vf_count() override;
  Result<void> set_mac(int vf, const VfMac& mac) override;
  Result<void> set_vlan(int vf, const VfVlan& vlan) override;
  Result<void> set_rate(int vf, const VfRate& rate) override;
  Result<void> set_spoofchk(int vf, bool on) override;
  Result<void> set_trust(int vf, bool on) override;
  Result<void> set_link_state(int vf, VfLinkState state) override;
  Result<VfInfo> vf_info(int vf) override;
  Result<std::vector<VfInfo>> vf_infos() override;
  Result<EswitchMode> eswitch_mode() override;
  Result<void> set_eswitch_mode(EswitchMode mode) override;

  int ifindex() const { return ifindex_; }
  const std::optional<DevlinkHandle>& devlink() const { return devlink_; }

 private:
  NetlinkVfAdmin(NetlinkSocket route, std::string pf, int ifindex,
                 std::optional<DevlinkHandle> devlink);

  Result<LinkVfs> read_link();
  // Checks vf against the PF's VF count, then sends m.
  Result<void> set(int vf, NlMsg m, std::string_view what);
  Result<uint16_t> devlink_family();

  NetlinkSocket route_;
  std::optional<NetlinkSocket> genl_;  // opened on the first devlink call
  std::optional<uint16_t> family_;
  std::string pf_;
  std::string who_;  // "PF <pf>"
  int ifindex_;
  std::optional<DevlinkHandle> devlink_;
};

// The devlink handle of netdev `ifname` from sysfs (<root>/class/net/<ifname>/device and
// its subsystem), or nullopt for a device with no bus device behind it.
std::optional<DevlinkHandle> devlink_handle_of(const std::string& sysfs_root,
                                               const std::string& ifname);

}  // namespace vfs::drivers::netlink
