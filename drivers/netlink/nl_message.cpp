#include "drivers/netlink/nl_message.h"

#include <cstring>
#include <new>

namespace vfs::drivers::netlink {

NlMsg new_message(uint16_t type, uint16_t flags, size_t header_len) {
  NlMsg m(nlmsg_alloc());
  if (!m) throw std::bad_alloc();
  // nlmsg_put zeroes the reserved family header.
  if (!nlmsg_put(m.get(), 0, 0, type, static_cast<int>(header_len), flags)) throw std::bad_alloc();
  return m;
}

void* family_header(nl_msg* m) { return nlmsg_data(nlmsg_hdr(m)); }

std::vector<uint8_t> message_bytes(nl_msg* m) {
  const nlmsghdr* h = nlmsg_hdr(m);
  const auto* p = reinterpret_cast<const uint8_t*>(h);
  return {p, p + h->nlmsg_len};
}

void put_attr(nl_msg* m, int type, const void* data, size_t len) {
  // nla_put pads with zeroes and fails only when the message buffer is full; messages
  // here are far below the default page-sized buffer, so failing is a bug.
  if (nla_put(m, type, static_cast<int>(len), data) < 0) throw std::bad_alloc();
}

nlattr* begin_nest(nl_msg* m, int type) {
  nlattr* a = nla_reserve(m, type, 0);
  if (!a) throw std::bad_alloc();
  return a;
}

void end_nest(nl_msg* m, nlattr* nest) {
  const auto* tail =
      reinterpret_cast<const uint8_t*>(nlmsg_hdr(m)) + NLMSG_ALIGN(nlmsg_hdr(m)->nlmsg_len);
  nest->nla_len = static_cast<uint16_t>(tail - reinterpret_cast<const uint8_t*>(nest));
}

RawMessage first_message(const std::vector<uint8_t>& bytes) {
  if (bytes.size() < sizeof(nlmsghdr)) return {};
  const auto* h = reinterpret_cast<const nlmsghdr*>(bytes.data());
  if (h->nlmsg_len < sizeof(nlmsghdr) || h->nlmsg_len > bytes.size()) return {};
  return {h, h->nlmsg_len};
}

}  // namespace vfs::drivers::netlink
