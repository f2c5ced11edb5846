// tests/bench/blast.cpp owns the benchmark's traffic source: one UDP/IPv4 flow (fixed
// MACs, addresses and ports) sent as fast as one core can out of a network interface
// through an AF_PACKET socket, for a fixed time. It prints what it sent; the receiver's
// interface counters tell what arrived. Self-contained: tests/bench/CMakeLists.txt.
//
//   vfs-blast --dev IF --src-mac MAC --dst-mac MAC [--seconds S] [--size BYTES]
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Options {
  std::string dev;
  std::array<uint8_t, 6> src{};
  std::array<uint8_t, 6> dst{};
  double seconds = 5;
  size_t size = 64;  // frame length without FCS
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "vfs-blast: %s\n", what.c_str());
  std::exit(2);
}

std::array<uint8_t, 6> parse_mac(std::string_view option, const char* text) {
  std::array<uint8_t, 6> mac{};
  unsigned b[6];
  char tail;
  if (std::sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                  &tail) != 6)
    die(std::string(option) + ": '" + text + "' is not a MAC address");
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(b[i]);
  return mac;
}

Options parse(int argc, char** argv) {
  Options o;
  bool src = false, dst = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) die(std::string(a) + ": missing value");
    const char* v = argv[++i];
    if (a == "--dev") {
      o.dev = v;
    } else if (a == "--src-mac") {
      o.src = parse_mac(a, v);
      src = true;
    } else if (a == "--dst-mac") {
      o.dst = parse_mac(a, v);
      dst = true;
    } else if (a == "--seconds") {
      o.seconds = std::atof(v);
      if (o.seconds <= 0) die(std::string("--seconds: '") + v + "' is not a positive number");
    } else if (a == "--size") {
      o.size = std::strtoul(v, nullptr, 10);
      if (o.size < 60 || o.size > 1514) die(std::string("--size: '") + v + "' is not in 60-1514");
    } else {
      die("unknown option '" + std::string(a) + "'");
    }
  }
  if (o.dev.empty() || !src || !dst)
    die("usage: vfs-blast --dev IF --src-mac MAC --dst-mac MAC [--seconds S] [--size BYTES]");
  return o;
}

uint16_t ip_checksum(const void* data, size_t len) {
  auto* p = static_cast<const uint8_t*>(data);
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (p[i] << 8) | p[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<uint16_t>(~sum));
}

// 10.10.0.1:1234 -> 10.10.0.250:9 (an address nobody owns: the receiver drops it quietly).
std::vector<uint8_t> build_frame(const Options& o) {
  std::vector<uint8_t> f(o.size, 0);
  auto* eth = reinterpret_cast<ether_header*>(f.data());
  std::memcpy(eth->ether_dhost, o.dst.data(), 6);
  std::memcpy(eth->ether_shost, o.src.data(), 6);
  eth->ether_type = htons(ETHERTYPE_IP);
  auto* ip = reinterpret_cast<iphdr*>(f.data() + sizeof(ether_header));
  ip->version = 4;
  ip->ihl = 5;
  ip->ttl = 64;
  ip->protocol = IPPROTO_UDP;
  ip->tot_len = htons(static_cast<uint16_t>(o.size - sizeof(ether_header)));
  ip->saddr = htonl(0x0a0a0001);
  ip->daddr = htonl(0x0a0a00fa);
  ip->check = ip_checksum(ip, sizeof(iphdr));
  auto* udp = reinterpret_cast<udphdr*>(f.data() + sizeof(ether_header) + sizeof(iphdr));
  udp->source = htons(1234);
  udp->dest = htons(9);
  udp->len = htons(static_cast<uint16_t>(o.size - sizeof(ether_header) - sizeof(iphdr)));
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  unsigned ifindex = if_nametoindex(o.dev.c_str());
  if (ifindex == 0) die(o.dev + ": " + std::strerror(errno));
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) die(std::string("AF_PACKET socket: ") + std::strerror(errno));
  int one = 1;
  // Straight to the driver: the qdisc would only add a lock per frame.
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_ifindex = static_cast<int>(ifindex);
  addr.sll_halen = 6;
  std::memcpy(addr.sll_addr, o.dst.data(), 6);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0)
    die(o.dev + ": bind: " + std::strerror(errno));

  std::vector<uint8_t> frame = build_frame(o);
  constexpr unsigned kBatch = 64;
  iovec iov{frame.data(), frame.size()};
  std::array<mmsghdr, kBatch> msgs{};
  for (auto& m : msgs) {
    m.msg_hdr.msg_iov = &iov;
    m.msg_hdr.msg_iovlen = 1;
  }

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(o.seconds);
  uint64_t sent = 0, refused = 0;
  for (unsigned n = 0;; ++n) {
    if ((n & 15) == 0 && Clock::now() >= end) break;
    int r = sendmmsg(fd, msgs.data(), kBatch, 0);
    if (r > 0) {
      sent += static_cast<uint64_t>(r);
    } else if (errno == ENOBUFS || errno == EAGAIN) {
      ++refused;  // the device queue is full: offer again
    } else {
      die(o.dev + ": sendmmsg: " + std::strerror(errno));
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  close(fd);
  std::printf("sent %llu frames of %zu bytes in %.3f s (%.0f pps), %llu full-queue retries\n",
              static_cast<unsigned long long>(sent), o.size, elapsed, sent / elapsed,
              static_cast<unsigned long long>(refused));
  return 0;
}
