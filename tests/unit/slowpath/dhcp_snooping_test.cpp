// DHCP snooping's data-path parts without DPDK: the DHCPv4 decoder (well-formed messages,
// every kind of malformation, a few thousand mutated messages), the UDP payload finder
// and the fixed binding table (bind, renew, replace, unbind, expiry, per-port limit).
// The slow path's use of them is in slow_path_test.cpp.
#include <doctest/doctest.h>

#include <random>

#include "dhcp_frame.h"
#include "slowpath/dhcp_snooping.h"

using namespace vfs;
using namespace vfs::slowpath;
using test::DhcpSpec;

namespace {

const test::Ip4 kLeased = {10, 0, 0, 50};

DhcpSpec ack() {
  DhcpSpec s;
  s.type = 5;
  s.yiaddr = kLeased;
  s.chaddr = test::kMacA;
  s.lease = 3600;
  return s;
}

DhcpParse parse(const std::vector<uint8_t>& m, DhcpMessage* out) {
  return parse_dhcp(m.data(), m.size(), out);
}

}  // namespace

TEST_CASE("a DHCPACK decodes to its client, address and lease; a RELEASE and a DECLINE too") {
  DhcpMessage m;
  REQUIRE(parse(test::dhcp_message(ack()), &m) == DhcpParse::ok);
  CHECK(m.op == 2);
  CHECK(m.type == DhcpType::ack);
  CHECK(m.yiaddr == kLeased);
  CHECK(m.chaddr == test::kMacA);
  CHECK(m.has_lease);
  CHECK(m.lease_s == 3600);

  DhcpSpec rel;
  rel.type = 7;
  rel.ciaddr = kLeased;
  rel.chaddr = test::kMacA;
  REQUIRE(parse(test::dhcp_message(rel), &m) == DhcpParse::ok);
  CHECK(m.op == 1);
  CHECK(m.type == DhcpType::release);
  CHECK(m.ciaddr == kLeased);

  DhcpSpec dec;
  dec.type = 4;
  dec.chaddr = test::kMacA;
  dec.requested = kLeased;
  REQUIRE(parse(test::dhcp_message(dec), &m) == DhcpParse::ok);
  CHECK(m.type == DhcpType::decline);
  CHECK(m.has_requested_ip);
  CHECK(m.requested_ip == kLeased);

  auto inf = ack();
  inf.lease = kDhcpInfiniteLease;
  REQUIRE(parse(test::dhcp_message(inf), &m) == DhcpParse::ok);
  CHECK(m.lease_s == kDhcpInfiniteLease);
}

TEST_CASE("malformed DHCP is refused: truncated, bad cookie, bad lengths, no type, no END") {
  DhcpMessage m;
  const auto good = test::dhcp_message(ack());
  // Every truncation: before the options, inside one, or before END.
  for (size_t n = 0; n < good.size(); ++n) {
    INFO("length ", n);
    CHECK(parse_dhcp(good.data(), n, &m) == DhcpParse::malformed);
  }
  CHECK(parse_dhcp(nullptr, 0, &m) == DhcpParse::malformed);
  auto bad = good;
  bad[236] ^= 0xff;  // magic cookie: plain BOOTP
  CHECK(parse(bad, &m) == DhcpParse::malformed);
  bad = good;
  bad[2] = 16;  // hlen
  CHECK(parse(bad, &m) == DhcpParse::malformed);
  bad = good;
  bad[0] = 1;  // an ACK that says it is a request
  CHECK(parse(bad, &m) == DhcpParse::malformed);
  bad = good;
  bad[241] = 200;  // message type's length runs past the end
  CHECK(parse(bad, &m) == DhcpParse::malformed);
  bad = good;
  bad[241] = 2;  // message type two bytes long
  CHECK(parse(bad, &m) == DhcpParse::malformed);
  bad = good;
  bad[242] = 9;  // no such message type
  CHECK(parse(bad, &m) == DhcpParse::malformed);
  bad = good;
  bad[244] = 3;  // lease three bytes long
  CHECK(parse(bad, &m) == DhcpParse::malformed);
  auto s = ack();
  s.end = false;
  CHECK(parse(test::dhcp_message(s), &m) == DhcpParse::malformed);
  // No message type at all: BOOTP with a cookie.
  bad = good;
  bad[240] = 0;  // pad
  bad[241] = 0;
  bad[242] = 0;
  CHECK(parse(bad, &m) == DhcpParse::malformed);
  // Two message types.
  bad = good;
  bad.pop_back();
  for (uint8_t b : {53, 1, 5, 255}) bad.push_back(b);
  CHECK(parse(bad, &m) == DhcpParse::malformed);
}

TEST_CASE(
    "fuzz: mutated DHCP messages never read out of bounds, and truncated or overrun ones never "
    "parse") {
  std::mt19937 rng(0xd4c9);
  const auto good = test::dhcp_message(ack());
  DhcpMessage m;
  size_t parsed = 0;
  for (int i = 0; i < 5000; ++i) {
    std::vector<uint8_t> f = good;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < flips; ++k) f[rng() % f.size()] = static_cast<uint8_t>(rng());
    if (rng() % 2) f.resize(rng() % (f.size() + 1));
    // A copy of exactly the bytes given: ASan sees any read past them.
    std::vector<uint8_t> exact(f.begin(), f.end());
    const DhcpParse r = parse_dhcp(exact.data(), exact.size(), &m);
    if (r == DhcpParse::ok) {
      ++parsed;
      CHECK(exact.size() >= 241);
      CHECK(m.type != DhcpType::none);
    }
  }
  // Options whose length runs past the end: never parse.
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> f = good;
    f.pop_back();                                        // END
    f.push_back(static_cast<uint8_t>(1 + rng() % 250));  // some option
    const uint8_t len = static_cast<uint8_t>(rng() % 256);
    f.push_back(len);
    const size_t have = rng() % (len + 1u);
    for (size_t k = 0; k < have; ++k) f.push_back(static_cast<uint8_t>(rng()));
    if (have == len) continue;  // complete: then END is missing, checked above
    std::vector<uint8_t> exact(f.begin(), f.end());
    CHECK(parse_dhcp(exact.data(), exact.size(), &m) == DhcpParse::malformed);
  }
  MESSAGE(parsed, " of 5000 mutated messages still parsed");
}

TEST_CASE("the UDP payload is bounded by the IP and UDP lengths") {
  const auto frame = test::server_reply(test::kMacB, 10, ack());
  const uint32_t l3 = 18;  // one tag
  const uint8_t* p = nullptr;
  size_t n = 0;
  bool bad = false;
  REQUIRE(
      dhcp_payload(frame.data(), static_cast<uint32_t>(frame.size()), l3, 67, 68, &p, &n, &bad));
  CHECK(n == test::dhcp_message(ack()).size());
  CHECK_FALSE(
      dhcp_payload(frame.data(), static_cast<uint32_t>(frame.size()), l3, 68, 67, &p, &n, &bad));
  CHECK_FALSE(bad);  // other ports: not DHCP, not malformed
  auto f = frame;
  f[l3 + 20 + 4] = 0xff;  // UDP length past the IP packet
  CHECK_FALSE(dhcp_payload(f.data(), static_cast<uint32_t>(f.size()), l3, 67, 68, &p, &n, &bad));
  CHECK(bad);
  f = frame;
  f[l3 + 2] = 0x7f;  // IP total length past the frame
  CHECK_FALSE(dhcp_payload(f.data(), static_cast<uint32_t>(f.size()), l3, 67, 68, &p, &n, &bad));
  CHECK(bad);
  f = frame;
  f[l3 + 6] = 0x20;  // more fragments
  CHECK_FALSE(dhcp_payload(f.data(), static_cast<uint32_t>(f.size()), l3, 67, 68, &p, &n, &bad));
  CHECK(bad);
  CHECK_FALSE(dhcp_payload(frame.data(), 30, l3, 67, 68, &p, &n, &bad));
}

TEST_CASE("binding table: bind, renew, replace, unbind, expire, and the per-port limit") {
  DhcpBindingTable t(4, 3);
  const MacBytes a = test::kMacA, b = test::kMacB;
  const Ip4 ip1 = {10, 0, 0, 1}, ip2 = {10, 0, 0, 2};
  using O = DhcpBindingTable::BindOutcome;
  DhcpBinding old;
  CHECK(t.bind(1, 7, 10, a, ip1, 60, 0, &old) == O::added);
  CHECK(t.leased(1, 10, a.data(), ip1.data()));
  CHECK_FALSE(t.leased(1, 20, a.data(), ip1.data()));  // another VLAN
  CHECK_FALSE(t.leased(2, 10, a.data(), ip1.data()));  // another port
  CHECK_FALSE(t.leased(1, 10, b.data(), ip1.data()));  // another MAC
  constexpr uint64_t k10s = 10'000'000'000ULL;
  CHECK(t.bind(1, 7, 10, a, ip1, 120, k10s, &old) == O::refreshed);
  CHECK(t.bind(1, 7, 10, a, ip2, 120, k10s, &old) == O::replaced);
  CHECK(old.ip == ip1);
  CHECK_FALSE(t.leased(1, 10, a.data(), ip1.data()));
  CHECK(t.leased(1, 10, a.data(), ip2.data()));
  CHECK(t.size() == 1);
  // Limit: three leases on port 1, the fourth is refused; other ports are not affected.
  CHECK(t.bind(1, 7, 10, b, ip1, 60, 0, &old) == O::added);
  MacBytes c = a;
  c[5] = 0x0c;
  CHECK(t.bind(1, 7, 10, c, {10, 0, 0, 3}, 60, 0, &old) == O::added);
  MacBytes d = a;
  d[5] = 0x0d;
  CHECK(t.bind(1, 7, 10, d, {10, 0, 0, 4}, 60, 0, &old) == O::full);
  CHECK(t.bind(2, 8, 10, d, {10, 0, 0, 4}, kDhcpInfiniteLease, 0, &old) == O::added);
  CHECK(t.bind(9, 8, 10, d, {10, 0, 0, 4}, 60, 0, &old) == O::bad_port);
  CHECK(t.on_port(1) == 3);
  // Unbind: only the address it holds (or any).
  CHECK_FALSE(t.unbind(1, 10, b, &ip2, nullptr));
  CHECK(t.unbind(1, 10, b, &ip1, nullptr));
  CHECK(t.unbind(1, 10, c, nullptr, nullptr));
  CHECK_FALSE(t.unbind(1, 10, c, nullptr, nullptr));
  // Expiry: a's lease (120 s from t=10 s) ends at 130 s; the infinite one never.
  std::vector<Ip4> ended;
  CHECK(t.expire(129'000'000'000ULL,
                 [&](uint16_t, const DhcpBinding& x) { ended.push_back(x.ip); }) == 0);
  CHECK(t.expire(130'000'000'000ULL, [&](uint16_t port, const DhcpBinding& x) {
    CHECK(port == 1);
    ended.push_back(x.ip);
  }) == 1);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0] == ip2);
  CHECK(t.expire(UINT64_MAX - 1, [](uint16_t, const DhcpBinding&) {}) == 0);
  CHECK(t.size() == 1);
  CHECK(t.port_holds_only(2, 8));
  CHECK_FALSE(t.port_holds_only(2, 7));
  CHECK(t.clear_port(2, [](uint16_t, const DhcpBinding&) {}) == 1);
  CHECK(t.size() == 0);
}
