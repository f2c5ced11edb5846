// drivers/netlink/netlink_socket.h owns sending built messages to the kernel and reading
// its answer: one libnl socket (rtnetlink or generic netlink), one request at a time, the
// kernel's errno and extended-ack text kept in the error. The kernel handles these
// requests (RTM_NEWLINK/RTM_GETLINK, devlink doit) inside sendmsg, so the answer is
// queued by the time send returns; a receive timeout still bounds a misbehaving kernel.
//
// Threading: one caller at a time per socket.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "drivers/netlink/nl_message.h"

struct nl_sock;

namespace vfs::drivers::netlink {

class NetlinkSocket {
 public:
  // protocol: NETLINK_ROUTE or NETLINK_GENERIC.
  static Result<NetlinkSocket> open(int protocol,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(5));
  NetlinkSocket(NetlinkSocket&& o) noexcept;
  NetlinkSocket& operator=(NetlinkSocket&& o) noexcept;
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  ~NetlinkSocket();

  // Sends m (which must ask for an ACK) and waits for the kernel's verdict. `what`
  // describes the request in errors: "<what>: <strerror> (<extack>)".
  Result<void> request(nl_msg* m, std::string_view what);
  // Sends m and returns the first answer message (bytes), then the ACK if m asked for
  // one. An NLMSG_ERROR answer is an error as for request().
  Result<std::vector<uint8_t>> query(nl_msg* m, std::string_view what);

 private:
  explicit NetlinkSocket(nl_sock* s) : sock_(s) {}
  Result<std::vector<uint8_t>> exchange(nl_msg* m, std::string_view what, bool want_answer);

  nl_sock* sock_ = nullptr;
};

// "<what>: <strerror(code)>[ (<extack>)]" with errno `code` — the shape of every kernel
// refusal, exposed for tests.
Error kernel_error(std::string_view what, int code, std::string_view extack);

}  // namespace vfs::drivers::netlink
