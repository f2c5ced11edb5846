// tests/unit/daemon/wire_sniffers.h gives the wire-level tests a packet socket on each VM
// end of a sim's wires (root; AF_PACKET): it writes raw frames onto the wire and reads
// everything that arrives there, with the VLAN tag the kernel took into its metadata put
// back, so a frame is seen byte for byte as it was on the wire. Also the host settings
// that keep the kernel from talking on those ends, and a guard that removes the wires.
#pragma once

#include <doctest/doctest.h>

#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "drivers/sim/sim_eswitch.h"

namespace vfs::test {

// Removes the wires of sim `name` when the test ends, failure included.
class SimWireGuard {
 public:
  SimWireGuard(std::string name, int vfs) : name_(std::move(name)), vfs_(vfs) {}
  SimWireGuard(const SimWireGuard&) = delete;
  SimWireGuard& operator=(const SimWireGuard&) = delete;
  ~SimWireGuard() { (void)drivers::remove_sim_wires(name_, vfs_); }

 private:
  std::string name_;
  int vfs_;
};

// Writes a sysctl-like /proc file; false if it cannot.
inline bool write_proc(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  f << value;
  return static_cast<bool>(f);
}

// Keeps the host quiet on a VM end left in the root namespace: no IPv6 (no DAD, RS, MLD),
// no ARP answers for the host's own addresses, nothing forwarded from it.
inline void silence_host_on(const std::string& dev) {
  CHECK_MESSAGE(write_proc("/proc/sys/net/ipv6/conf/" + dev + "/disable_ipv6", "1"), dev);
  (void)write_proc("/proc/sys/net/ipv4/conf/" + dev + "/arp_ignore", "8");
  (void)write_proc("/proc/sys/net/ipv4/conf/" + dev + "/forwarding", "0");
}

// One wire's VM end: send frames onto it, read what the switch delivers to it.
class WireSniffer {
 public:
  explicit WireSniffer(std::string dev) : dev_(std::move(dev)) {
    fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
    REQUIRE_MESSAGE(fd_ >= 0, "AF_PACKET socket: ", std::strerror(errno));
    const int one = 1;
    REQUIRE(::setsockopt(fd_, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) == 0);
    const int rcvbuf = 4 << 20;
    (void)::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(::if_nametoindex(dev_.c_str()));
    REQUIRE_MESSAGE(sll.sll_ifindex != 0, dev_, " does not exist");
    REQUIRE_MESSAGE(::bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) == 0, dev_, ": ",
                    std::strerror(errno));
  }
  ~WireSniffer() { ::close(fd_); }
  WireSniffer(const WireSniffer&) = delete;
  WireSniffer& operator=(const WireSniffer&) = delete;

  const std::string& dev() const { return dev_; }
  int fd() const { return fd_; }

  bool send(const std::vector<uint8_t>& f) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      if (::send(fd_, f.data(), f.size(), 0) == static_cast<ssize_t>(f.size())) return true;
      if (errno != EAGAIN && errno != ENOBUFS) return false;
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 10);
    }
    return false;
  }

  // Reads every frame waiting (without blocking) and calls on_frame(bytes) for each one
  // that arrived from the wire (our own transmissions are skipped). Returns how many.
  template <class F>
  size_t drain(F&& on_frame) {
    size_t n = 0;
    uint8_t buf[9216];
    alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(tpacket_auxdata))];
    for (;;) {
      iovec iov{buf, sizeof(buf)};
      sockaddr_ll from{};
      msghdr mh{};
      mh.msg_name = &from;
      mh.msg_namelen = sizeof(from);
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      mh.msg_control = ctrl;
      mh.msg_controllen = sizeof(ctrl);
      const ssize_t len = ::recvmsg(fd_, &mh, MSG_DONTWAIT);
      if (len < 0) {
        if (errno == EINTR) continue;
        return n;  // EAGAIN: nothing more
      }
      if (from.sll_pkttype == PACKET_OUTGOING) continue;
      std::vector<uint8_t> f(buf, buf + len);
      for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
        tpacket_auxdata aux;
        std::memcpy(&aux, CMSG_DATA(c), sizeof(aux));
        const bool tagged = (aux.tp_status & TP_STATUS_VLAN_VALID) || aux.tp_vlan_tci != 0;
        if (tagged && f.size() >= 12) {
          const uint16_t tpid =
              (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : ETH_P_8021Q;
          const uint8_t tag[4] = {static_cast<uint8_t>(tpid >> 8), static_cast<uint8_t>(tpid),
                                  static_cast<uint8_t>(aux.tp_vlan_tci >> 8),
                                  static_cast<uint8_t>(aux.tp_vlan_tci)};
          f.insert(f.begin() + 12, tag, tag + 4);
        }
      }
      on_frame(f);
      ++n;
    }
  }

 private:
  std::string dev_;
  int fd_ = -1;
};

// Waits up to timeout_ms for any of the sniffers to have something to read.
inline bool wait_readable(const std::vector<WireSniffer*>& sniffers, int timeout_ms) {
  std::vector<pollfd> p;
  for (auto* s : sniffers) p.push_back({s->fd(), POLLIN, 0});
  return ::poll(p.data(), p.size(), timeout_ms) > 0;
}

}  // namespace vfs::test
