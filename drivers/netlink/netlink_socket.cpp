#include "drivers/netlink/netlink_socket.h"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

namespace vfs::drivers::netlink {
namespace {

// What one request is waiting for, filled by the callbacks.
struct Pending {
  uint32_t seq = 0;
  bool ack_requested = false;
  bool have_answer = false;
  std::vector<uint8_t> answer;
  bool done = false;
  int error = 0;
  std::string extack;
};

// The kernel's NLMSGERR_ATTR_MSG after the nlmsgerr, when it sent one.
std::string extack_message(const nlmsgerr* err) {
  const auto* hdr =
      reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const uint8_t*>(err) - NLMSG_HDRLEN);
  if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  size_t off = NLMSG_HDRLEN + sizeof(nlmsgerr);
  if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) {
    if (err->msg.nlmsg_len < NLMSG_HDRLEN) return {};
    off += err->msg.nlmsg_len - NLMSG_HDRLEN;
  }
  off = NLMSG_ALIGN(off);
  if (off >= hdr->nlmsg_len) return {};
  auto* attrs =
      reinterpret_cast<nlattr*>(const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(hdr) + off));
  nlattr* a;
  int rem;
  nla_for_each_attr(a, attrs, static_cast<int>(hdr->nlmsg_len - off), rem) {
    if (nla_type(a) != NLMSGERR_ATTR_MSG || nla_len(a) <= 0) continue;
    const char* s = static_cast<const char*>(nla_data(a));
    return std::string(s, strnlen(s, static_cast<size_t>(nla_len(a))));
  }
  return {};
}

int on_valid(nl_msg* m, void* arg) {
  auto* p = static_cast<Pending*>(arg);
  const nlmsghdr* h = nlmsg_hdr(m);
  if (h->nlmsg_seq != p->seq) return NL_SKIP;  // left over from an earlier request
  if (!p->have_answer) {
    const auto* b = reinterpret_cast<const uint8_t*>(h);
    p->answer.assign(b, b + h->nlmsg_len);
    p->have_answer = true;
  }
  if (!p->ack_requested) {
    p->done = true;
    return NL_STOP;
  }
  return NL_OK;
}

int on_ack(nl_msg* m, void* arg) {
  auto* p = static_cast<Pending*>(arg);
  if (nlmsg_hdr(m)->nlmsg_seq != p->seq) return NL_SKIP;
  p->done = true;
  return NL_STOP;
}

int on_error(sockaddr_nl*, nlmsgerr* err, void* arg) {
  auto* p = static_cast<Pending*>(arg);
  if (err->msg.nlmsg_seq != p->seq) return NL_SKIP;
  p->error = err->error < 0 ? -err->error : err->error;
  p->extack = extack_message(err);
  p->done = true;
  return NL_STOP;
}

int accept_any_seq(nl_msg*, void*) { return NL_OK; }

int errno_or(int fallback) { return errno != 0 ? errno : fallback; }

}  // namespace

Error kernel_error(std::string_view what, int code, std::string_view extack) {
  if (extack.empty()) return make_error(code, "{}: {}", what, std::strerror(code));
  return make_error(code, "{}: {} ({})", what, std::strerror(code), extack);
}

Result<NetlinkSocket> NetlinkSocket::open(int protocol, std::chrono::milliseconds timeout) {
  nl_sock* s = nl_socket_alloc();
  if (!s) return make_error(ENOMEM, "cannot allocate a netlink socket");
  NetlinkSocket sock(s);
  errno = 0;
  if (int r = nl_connect(s, protocol); r < 0)
    return make_error(errno_or(EIO), "cannot open netlink socket (protocol {}): {}", protocol,
                      nl_geterror(r));
  nl_socket_disable_seq_check(s);
  nl_socket_disable_auto_ack(s);  // a message goes out with exactly the flags it was built with
  nl_socket_enable_msg_peek(s);   // a PF with many VFs answers more than a page
  const int fd = nl_socket_get_fd(s);
  int one = 1;
  // Best effort: without them the kernel sends plain errors, which we read just as well.
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
    return make_error(errno, "netlink socket: SO_RCVTIMEO: {}", std::strerror(errno));
  return sock;
}

NetlinkSocket::NetlinkSocket(NetlinkSocket&& o) noexcept : sock_(std::exchange(o.sock_, nullptr)) {}

NetlinkSocket& NetlinkSocket::operator=(NetlinkSocket&& o) noexcept {
  if (this != &o) {
    if (sock_) nl_socket_free(sock_);
    sock_ = std::exchange(o.sock_, nullptr);
  }
  return *this;
}

NetlinkSocket::~NetlinkSocket() {
  if (sock_) nl_socket_free(sock_);
}

Result<void> NetlinkSocket::request(nl_msg* m, std::string_view what) {
  if (!(nlmsg_hdr(m)->nlmsg_flags & NLM_F_ACK))
    return make_error(EINVAL, "{}: request without NLM_F_ACK would never be answered", what);
  auto r = exchange(m, what, false);
  if (!r) return r.error();
  return ok();
}

Result<std::vector<uint8_t>> NetlinkSocket::query(nl_msg* m, std::string_view what) {
  return exchange(m, what, true);
}

Result<std::vector<uint8_t>> NetlinkSocket::exchange(nl_msg* m, std::string_view what,
                                                     bool want_answer) {
  if (!sock_) return make_error(EBADF, "{}: netlink socket is closed", what);
  errno = 0;
  if (int r = nl_send_auto(sock_, m); r < 0)
    return make_error(errno_or(EIO), "{}: cannot send to the kernel: {}", what, nl_geterror(r));

  Pending p;
  p.seq = nlmsg_hdr(m)->nlmsg_seq;
  p.ack_requested = (nlmsg_hdr(m)->nlmsg_flags & NLM_F_ACK) != 0;
  std::unique_ptr<nl_cb, void (*)(nl_cb*)> cb(nl_cb_alloc(NL_CB_DEFAULT), nl_cb_put);
  if (!cb) return make_error(ENOMEM, "{}: cannot allocate netlink callbacks", what);
  nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_valid, &p);
  nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, on_ack, &p);
  nl_cb_set(cb.get(), NL_CB_SEQ_CHECK, NL_CB_CUSTOM, accept_any_seq, nullptr);
  nl_cb_err(cb.get(), NL_CB_CUSTOM, on_error, &p);

  while (!p.done) {
    errno = 0;
    int r = nl_recvmsgs_report(sock_, cb.get());
    if (p.done) break;
    if (r == 0) return make_error(ETIMEDOUT, "{}: the kernel did not answer", what);
    if (r < 0)
      return make_error(errno_or(EIO), "{}: reading the kernel's answer: {}", what, nl_geterror(r));
  }
  if (p.error != 0) return kernel_error(what, p.error, p.extack);
  if (want_answer && !p.have_answer)
    return make_error(EPROTO, "{}: the kernel acknowledged but sent no answer", what);
  return std::move(p.answer);
}

}  // namespace vfs::drivers::netlink
