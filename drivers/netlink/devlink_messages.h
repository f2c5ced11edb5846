// drivers/netlink/devlink_messages.h owns the generic netlink messages for the eSwitch
// mode: resolving the "devlink" family (CTRL_CMD_GETFAMILY) and DEVLINK_CMD_ESWITCH_GET /
// _SET on a devlink handle ("pci/0000:03:00.0"), built and parsed apart from any socket,
// byte for byte what iproute2's `devlink dev eswitch show|set` sends
// (tests/data/netlink/). Seq and port are left 0; the socket fills them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "drivers/netlink/nl_message.h"
#include "drivers/vf_admin.h"

namespace vfs::drivers::netlink {

// A devlink instance: DEVLINK_ATTR_BUS_NAME / DEVLINK_ATTR_DEV_NAME.
struct DevlinkHandle {
  std::string bus;     // "pci"
  std::string device;  // "0000:03:00.0"
  std::string text() const { return bus + "/" + device; }
};

// CTRL_CMD_GETFAMILY for `name` (as `devlink` asks: NLM_F_REQUEST|NLM_F_ACK, version 1).
NlMsg build_get_family(std::string_view name);
// The family id in the CTRL_CMD_NEWFAMILY answer; EPROTO if malformed.
Result<uint16_t> parse_family_id(const std::vector<uint8_t>& message, std::string_view name);

// devlink dev eswitch show BUS/DEV
NlMsg build_eswitch_get(uint16_t family, const DevlinkHandle& handle);
// devlink dev eswitch set BUS/DEV mode legacy|switchdev
NlMsg build_eswitch_set(uint16_t family, const DevlinkHandle& handle, EswitchMode mode);
// The mode in the DEVLINK_CMD_ESWITCH_GET answer; EPROTO if malformed, EOPNOTSUPP for a
// mode this code does not know.
Result<EswitchMode> parse_eswitch_mode_answer(const std::vector<uint8_t>& message, uint16_t family,
                                              const DevlinkHandle& handle);

}  // namespace vfs::drivers::netlink
