#include "drivers/netlink/devlink_messages.h"

#include <linux/devlink.h>
#include <linux/genetlink.h>

#include <cstring>

namespace vfs::drivers::netlink {
namespace {

// iproute2 6.1's devlink leaves the genl version 0 (the kernel does not check it for
// devlink); we send what it sends.
constexpr uint8_t kDevlinkVersionSent = 0;

NlMsg genl_message(uint16_t family, uint8_t cmd, uint8_t version) {
  NlMsg m = new_message(family, NLM_F_REQUEST | NLM_F_ACK, GENL_HDRLEN);
  auto* g = static_cast<genlmsghdr*>(family_header(m.get()));
  g->cmd = cmd;
  g->version = version;
  return m;
}

void put_string(nl_msg* m, int type, const std::string& s) {
  put_attr(m, type, s.c_str(), s.size() + 1);
}

// The attributes of a genl answer of `family`, or an error.
Result<std::vector<nlattr*>> genl_attrs(const std::vector<uint8_t>& message, uint16_t family,
                                        int maxtype, std::string_view who) {
  RawMessage raw = first_message(message);
  if (!raw.header) return make_error(EPROTO, "{}: malformed answer: no whole netlink message", who);
  if (raw.header->nlmsg_type != family)
    return make_error(EPROTO, "{}: answer of type {} instead of {}", who, raw.header->nlmsg_type,
                      family);
  if (raw.length < NLMSG_LENGTH(GENL_HDRLEN))
    return make_error(EPROTO, "{}: answer shorter than its genl header", who);
  std::vector<nlattr*> tb(static_cast<size_t>(maxtype) + 1, nullptr);
  if (nlmsg_parse(const_cast<nlmsghdr*>(raw.header), GENL_HDRLEN, tb.data(), maxtype, nullptr) < 0)
    return make_error(EPROTO, "{}: malformed attributes in the answer", who);
  return tb;
}

}  // namespace

NlMsg build_get_family(std::string_view name) {
  NlMsg m = genl_message(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
  put_string(m.get(), CTRL_ATTR_FAMILY_NAME, std::string(name));
  return m;
}

Result<uint16_t> parse_family_id(const std::vector<uint8_t>& message, std::string_view name) {
  const std::string who = fmt::format("generic netlink family {}", name);
  auto tb = genl_attrs(message, GENL_ID_CTRL, CTRL_ATTR_MAX, who);
  if (!tb) return tb.error();
  const nlattr* id = (*tb)[CTRL_ATTR_FAMILY_ID];
  if (!id || nla_len(id) < static_cast<int>(sizeof(uint16_t)))
    return make_error(EPROTO, "{}: the answer has no family id", who);
  uint16_t v;
  std::memcpy(&v, nla_data(id), sizeof(v));
  return v;
}

NlMsg build_eswitch_get(uint16_t family, const DevlinkHandle& handle) {
  NlMsg m = genl_message(family, DEVLINK_CMD_ESWITCH_GET, kDevlinkVersionSent);
  put_string(m.get(), DEVLINK_ATTR_BUS_NAME, handle.bus);
  put_string(m.get(), DEVLINK_ATTR_DEV_NAME, handle.device);
  return m;
}

NlMsg build_eswitch_set(uint16_t family, const DevlinkHandle& handle, EswitchMode mode) {
  NlMsg m = genl_message(family, DEVLINK_CMD_ESWITCH_SET, kDevlinkVersionSent);
  put_string(m.get(), DEVLINK_ATTR_BUS_NAME, handle.bus);
  put_string(m.get(), DEVLINK_ATTR_DEV_NAME, handle.device);
  uint16_t v =
      mode == EswitchMode::switchdev ? DEVLINK_ESWITCH_MODE_SWITCHDEV : DEVLINK_ESWITCH_MODE_LEGACY;
  put_attr(m.get(), DEVLINK_ATTR_ESWITCH_MODE, &v, sizeof(v));
  return m;
}

Result<EswitchMode> parse_eswitch_mode_answer(const std::vector<uint8_t>& message, uint16_t family,
                                              const DevlinkHandle& handle) {
  const std::string who = "devlink " + handle.text();
  auto tb = genl_attrs(message, family, DEVLINK_ATTR_MAX, who);
  if (!tb) return tb.error();
  const nlattr* mode = (*tb)[DEVLINK_ATTR_ESWITCH_MODE];
  if (!mode || nla_len(mode) < static_cast<int>(sizeof(uint16_t)))
    return make_error(EOPNOTSUPP, "{}: the driver reports no eSwitch mode", who);
  uint16_t v;
  std::memcpy(&v, nla_data(mode), sizeof(v));
  if (v == DEVLINK_ESWITCH_MODE_LEGACY) return EswitchMode::legacy;
  if (v == DEVLINK_ESWITCH_MODE_SWITCHDEV) return EswitchMode::switchdev;
  return make_error(EOPNOTSUPP, "{}: eSwitch mode {} is neither legacy nor switchdev", who, v);
}

}  // namespace vfs::drivers::netlink
