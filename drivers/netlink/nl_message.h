// drivers/netlink/nl_message.h owns the netlink message vocabulary shared by the VF and
// devlink builders: an owning nl_msg handle, the bytes of a built message, and nests
// written the way iproute2 writes them (no NLA_F_NESTED bit, which libnl's own
// nla_nest_start sets), so that what we send is byte for byte what `ip` and `devlink`
// send for the same command.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <netlink/attr.h>
#include <netlink/msg.h>

namespace vfs::drivers::netlink {

struct NlMsgFree {
  void operator()(nl_msg* m) const { nlmsg_free(m); }
};
using NlMsg = std::unique_ptr<nl_msg, NlMsgFree>;

// A message with its netlink header filled (seq and port 0: the socket assigns them
// when it sends) and room for `header_len` bytes of family header, zeroed. Throws
// std::bad_alloc when out of memory.
NlMsg new_message(uint16_t type, uint16_t flags, size_t header_len);

// The family header reserved by new_message.
void* family_header(nl_msg* m);

// The whole message as it goes on the wire (nlmsg_len bytes).
std::vector<uint8_t> message_bytes(nl_msg* m);

// Appends attribute `type` with `len` bytes of payload (padded), as iproute2's addattr_l.
void put_attr(nl_msg* m, int type, const void* data, size_t len);

// Opens a nest without NLA_F_NESTED (iproute2's addattr_nest); close it with end_nest.
nlattr* begin_nest(nl_msg* m, int type);
void end_nest(nl_msg* m, nlattr* nest);

// One netlink message inside a received buffer, checked to lie within it.
struct RawMessage {
  const nlmsghdr* header = nullptr;
  size_t length = 0;  // == header->nlmsg_len
};
// The first message of `bytes`, or nullptr header when the buffer holds no whole message.
RawMessage first_message(const std::vector<uint8_t>& bytes);

}  // namespace vfs::drivers::netlink
