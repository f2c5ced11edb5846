// tests/unit/drivers/sim_wire_support.h gives the sim tests that use wires (veth pairs,
// AF_PACKET; root) a DPDK pool, a packet socket on a VM end, a representor reader and an
// opened sim with two VFs whose wires go when the test ends.
#pragma once

#include <doctest/doctest.h>

#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "drivers/sim/sim_eswitch.h"
#include "sim_test_support.h"
#include "slowpath/eal.h"

namespace vfs::test {

using WireClock = std::chrono::steady_clock;
inline constexpr auto kWireWait = std::chrono::seconds(5);

inline rte_mempool* dpdk_pool() {
  static const vfs::Result<void> eal = [] {
    vfs::slowpath::EalOptions opt;
    opt.file_prefix = "unit_drivers_" + std::to_string(::getpid());
    opt.memory_mb = 256;
    return vfs::slowpath::eal_init(opt);
  }();
  REQUIRE_MESSAGE(eal.ok(), eal.error().message);
  auto pool = vfs::slowpath::packet_pool();
  REQUIRE_MESSAGE(pool.ok(), pool.error().message);
  return pool.value();
}

class PacketSocket {
 public:
  explicit PacketSocket(const std::string& dev) {
    fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    REQUIRE(fd_ >= 0);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(::if_nametoindex(dev.c_str()));
    REQUIRE(sll.sll_ifindex != 0);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) == 0);
  }
  ~PacketSocket() { ::close(fd_); }
  PacketSocket(const PacketSocket&) = delete;
  PacketSocket& operator=(const PacketSocket&) = delete;

  bool send(const std::vector<uint8_t>& f) {
    return ::send(fd_, f.data(), f.size(), 0) == static_cast<ssize_t>(f.size());
  }

  // True once `want` arrives (frames sent by this host on the device are skipped).
  bool wait_for(const std::vector<uint8_t>& want) {
    const auto deadline = WireClock::now() + kWireWait;
    std::vector<uint8_t> buf(4096);
    while (WireClock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - WireClock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 1))) <= 0) continue;
      sockaddr_ll from{};
      socklen_t fl = sizeof(from);
      const ssize_t n =
          ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
      if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING) continue;
      if (std::vector<uint8_t>(buf.begin(), buf.begin() + n) == want) return true;
    }
    return false;
  }

 private:
  int fd_ = -1;
};

// Polls a representor until `want` arrives; returns the mbuf's offload flags.
inline std::optional<uint64_t> representor_wait_for(uint16_t port,
                                                    const std::vector<uint8_t>& want) {
  const auto deadline = WireClock::now() + kWireWait;
  rte_mbuf* bufs[32];
  std::optional<uint64_t> found;
  while (!found && WireClock::now() < deadline) {
    const uint16_t n = rte_eth_rx_burst(port, 0, bufs, 32);
    for (uint16_t i = 0; i < n; ++i) {
      const auto* d = rte_pktmbuf_mtod(bufs[i], const uint8_t*);
      if (!found && std::vector<uint8_t>(d, d + bufs[i]->data_len) == want)
        found = bufs[i]->ol_flags;
      rte_pktmbuf_free(bufs[i]);
    }
    // A DPDK queue has no event to wait on: poll it with a short pause.
    if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return found;
}

// Sends `frame` on representor `port`; true once it is queued.
inline bool representor_send(uint16_t port, const std::vector<uint8_t>& frame) {
  rte_mbuf* m = rte_pktmbuf_alloc(dpdk_pool());
  if (!m) return false;
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())), frame.data(),
              frame.size());
  if (rte_eth_tx_burst(port, 0, &m, 1) == 1) return true;
  rte_pktmbuf_free(m);
  return false;
}

// Polls `done` until it holds or the wait runs out. For state that has no event to await
// (the sim's counters), with a short pause between looks.
template <class Pred>
bool wait_until(Pred done) {
  const auto deadline = WireClock::now() + kWireWait;
  while (!done()) {
    if (WireClock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// A sim with `vfs` VFs and a random name, opened (not started) with `opt`.
struct OpenSim {
  std::string name;
  WireGuard guard;  // declared before the switch: wires go after the ports
  std::unique_ptr<drivers::ESwitch> sw;

  explicit OpenSim(drivers::ESwitchOptions opt = {}, int vfs = 2)
      : name(random_sim_name()), guard(name, vfs) {
    opt.sim_name = name;
    opt.sim_vfs = vfs;
    opt.pool = dpdk_pool();
    auto r = drivers::make_sim_eswitch(opt);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    sw = std::move(r.value());
  }
};

}  // namespace vfs::test
