// The slow path against real DPDK ring ethdevs standing for representors, with the
// offload engine installing into the sim's rule table (no wires): forwarding, flooding
// within the VLAN, VLAN admission, learning -> rules, aging by a moved clock, and policy
// changes that take ports away.
#include <doctest/doctest.h>

#include <unistd.h>

#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <vector>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dhcp_frame.h"
#include "drivers/sim/sim_flow_backend.h"
#include "frame_builder.h"
#include "offload/offload_engine.h"
#include "slow_path_bench.h"
#include "slowpath/eal.h"
#include "slowpath/slow_path.h"

using namespace vfs;
using test::arp_request;
using test::FrameBuilder;
using test::SlowPathBench;

namespace {

constexpr uint16_t kArp = 0x0806;
const test::Mac kMacC = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0c};

std::vector<uint8_t> unicast(const test::Mac& dst, const test::Mac& src) {
  return FrameBuilder()
      .eth(dst, src)
      .type(0x0800)
      .ipv4(17, 0x0a000001, 0x0a000002)
      .udp(1, 2, 8)
      .close_ipv4()
      .done();
}
uint16_t outer_vid(const std::vector<uint8_t>& f) {
  return static_cast<uint16_t>(((f[14] << 8) | f[15]) & 0x0fff);
}
bool is_tagged(const std::vector<uint8_t>& f) {
  return f.size() > 14 && f[12] == 0x81 && f[13] == 0x00;
}

}  // namespace

TEST_CASE(
    "a broadcast floods within its VLAN only, tagged toward the uplink, and teaches the NIC") {
  SlowPathBench b;
  b.inject(1, arp_request(test::kMacA));
  CHECK(b.slow->poll_once() == 1);
  auto to_vf1 = b.sent(2);
  auto to_up = b.sent(0);
  REQUIRE(to_vf1.size() == 1);
  CHECK_FALSE(is_tagged(to_vf1[0]));
  REQUIRE(to_up.size() == 1);
  REQUIRE(is_tagged(to_up[0]));
  CHECK(outer_vid(to_up[0]) == 10);
  CHECK(b.sent(3).empty());  // VLAN 20
  CHECK(b.sent(1).empty());  // never back to the source
  CHECK(b.slow->counters().flooded.load() == 1);
  CHECK(b.slow->fdb_size() == 1);
  // port rules (tagged drop, priority tags, the empty input chain) + ingress, hairpin
  // guard and forward for MAC A
  CHECK(b.rules_of_veth(1) == 8);
  for (const auto& r : b.engine->rules()) CHECK(r.state == offload::RuleState::hw);
}

TEST_CASE("known unicast goes to one port; a MAC in another VLAN is not reachable") {
  SlowPathBench b;
  b.inject(1, arp_request(test::kMacA));  // A on vf0, VLAN 10
  b.inject(3, arp_request(kMacC));        // C on vf2, VLAN 20
  b.slow->poll_once();
  for (int i = 0; i < 4; ++i) b.sent(i);
  b.inject(2, unicast(test::kMacA, test::kMacB));
  b.slow->poll_once();
  CHECK(b.sent(1).size() == 1);
  CHECK(b.sent(0).empty());
  CHECK(b.sent(3).empty());
  // vf1 -> C: C is known only in VLAN 20, so in VLAN 10 it is unknown: flooded in VLAN 10.
  b.inject(2, unicast(kMacC, test::kMacB));
  b.slow->poll_once();
  CHECK(b.sent(3).empty());
  CHECK(b.sent(1).size() == 1);
}

TEST_CASE("frames the policy does not admit are dropped and counted by reason") {
  SlowPathBench b;
  b.inject(1, FrameBuilder()
                  .eth(test::kBroadcast, test::kMacA)
                  .tag(0x8100, 20)
                  .type(kArp)
                  .arp(1, test::kMacA, 1, {}, 2)
                  .done());         // a VM tagging on an access port
  b.inject(1, {0x01, 0x02, 0x03});  // runt
  b.inject(0, arp_request(kMacC));  // untagged on the uplink
  b.inject(0, FrameBuilder()
                  .eth(test::kBroadcast, kMacC)
                  .tag(0x8100, 30)
                  .type(kArp)
                  .arp(1, kMacC, 1, {}, 2)
                  .done());  // VLAN 30 does not exist
  CHECK(b.slow->poll_once() == 4);
  for (int i = 0; i < 4; ++i) CHECK(b.sent(i).empty());
  CHECK(b.drops(slowpath::DropReason::vlan) == 3);
  CHECK(b.drops(slowpath::DropReason::malformed) == 1);
  CHECK(b.slow->fdb_size() == 0);
}

TEST_CASE("the uplink's VLAN 20 reaches only VLAN 20's vEthernet, untagged") {
  SlowPathBench b;
  b.inject(0, FrameBuilder()
                  .eth(test::kBroadcast, kMacC)
                  .tag(0x8100, 20)
                  .type(kArp)
                  .arp(1, kMacC, 1, {}, 2)
                  .done());
  b.slow->poll_once();
  auto to_vf2 = b.sent(3);
  REQUIRE(to_vf2.size() == 1);
  CHECK_FALSE(is_tagged(to_vf2[0]));
  CHECK(b.sent(1).empty());
  CHECK(b.sent(2).empty());
}

TEST_CASE("an unbound VF forwards nothing (fail closed) and its MACs and rules go away") {
  SlowPathBench b;
  b.inject(1, arp_request(test::kMacA));
  b.slow->poll_once();
  REQUIRE(b.rules_of_veth(1) == 8);
  for (int i = 0; i < 4; ++i) b.sent(i);
  b.publish([&](offload::PolicySnapshot& s) { s.ports[b.rp[1].port].bound = false; });
  CHECK(b.rules_of_veth(1) == 0);
  b.inject(1, arp_request(test::kMacA));
  b.slow->poll_once();
  for (int i = 0; i < 4; ++i) CHECK(b.sent(i).empty());
  CHECK(b.drops(slowpath::DropReason::no_policy) == 1);
  CHECK(b.slow->fdb_size() == 0);
  CHECK(b.rules_of_veth(1) == 0);
}

TEST_CASE("a learned MAC ages out when neither the slow path nor the NIC sees it") {
  SlowPathBench b;
  b.inject(1, arp_request(test::kMacA));
  b.slow->poll_once();
  REQUIRE(b.rules_of_veth(1) == 8);
  b.clock.advance_s(299);
  b.slow->poll_once();
  CHECK(b.slow->fdb_size() == 1);
  b.clock.advance_s(2);
  b.slow->poll_once();
  CHECK(b.slow->fdb_size() == 0);
  CHECK(b.slow->counters().aged.load() == 1);
  CHECK(b.rules_of_veth(1) == 5);  // only the port's own rules are left
}

namespace {
// An IPv4 ACL with one entry, then the implicit deny.
vsm::ResolvedAcl one_entry_acl(const char* name, bool permit, int proto) {
  vsm::ResolvedAcl acl;
  acl.name = name;
  acl.family = vsm::AclFamily::ipv4;
  vsm::ResolvedAce e;
  e.seq = 10;
  e.permit = permit;
  e.protocol = proto;
  acl.entries.push_back(e);
  return acl;
}
std::vector<uint8_t> udp_frame(const test::Mac& dst, const test::Mac& src, uint32_t sip,
                               uint16_t sport = 1, uint16_t dport = 2) {
  return FrameBuilder()
      .eth(dst, src)
      .type(0x0800)
      .ipv4(17, sip, 0x0a000002)
      .udp(sport, dport, 8)
      .close_ipv4()
      .done();
}
}  // namespace

TEST_CASE(
    "input and output ACLs: first match decides, the implicit deny drops, entries are counted") {
  SlowPathBench b;
  b.inject(1, arp_request(test::kMacA));  // A on vf0, B on vf1: both VLAN 10
  b.inject(2, arp_request(test::kMacB));
  b.slow->poll_once();
  for (int i = 0; i < 4; ++i) b.sent(i);
  b.publish([&](offload::PolicySnapshot& s) {
    s.ports[b.rp[1].port].cfg.ip_acl_in = one_entry_acl("in", true, 17);  // UDP only
    s.ports[b.rp[2].port].cfg.ip_acl_out =
        one_entry_acl("out", false, 6);  // no TCP, then implicit deny
  });
  b.inject(1, udp_frame(test::kMacB, test::kMacA, 0x0a000001));
  b.slow->poll_once();
  CHECK(b.sent(2).empty());  // permitted in, then denied by vf1's output ACL (implicit deny)
  CHECK(b.slow->port_counters(b.rp[2].port)
            ->drops[static_cast<size_t>(slowpath::DropReason::acl)]
            .load() == 1);
  b.inject(1, FrameBuilder()
                  .eth(test::kMacB, test::kMacA)
                  .type(0x0800)
                  .ipv4(1, 1, 2)
                  .icmp(8, 0)
                  .close_ipv4()
                  .done());
  b.slow->poll_once();
  CHECK(b.slow->port_counters(b.rp[1].port)
            ->drops[static_cast<size_t>(slowpath::DropReason::acl)]
            .load() == 1);
  b.inject(1, arp_request(test::kMacA));  // not IPv4: an IP ACL does not apply
  b.slow->poll_once();
  CHECK(b.sent(2).size() == 1);
  const auto counts = b.slow->acl_entries_json();
  CHECK(counts["ip:in"]["10"].get<uint64_t>() == 1);  // the UDP frame
  CHECK(counts["ip:in"]["0"].get<uint64_t>() == 1);   // the ICMP echo
  CHECK(counts["ip:out"]["0"].get<uint64_t>() == 1);
  CHECK(counts["ip:out"]["10"].get<uint64_t>() == 0);
}

TEST_CASE(
    "port security: beyond maximum a new MAC is refused; shutdown mode err-disables the port") {
  SlowPathBench b;
  // Each publish states the whole policy.
  auto secure = [&](vsm::ViolationMode mode) {
    b.publish([&](offload::PolicySnapshot& s) {
      auto& ps = s.ports[b.rp[1].port].cfg.port_security;
      ps.enabled = true;
      ps.maximum = 1;
      ps.violation = mode;
    });
  };
  secure(vsm::ViolationMode::restrict);
  b.inject(1, arp_request(test::kMacA));
  b.inject(1, arp_request(kMacC));  // a second MAC on a port allowed one
  b.slow->poll_once();
  CHECK(b.sent(2).size() == 1);
  CHECK(b.drops(slowpath::DropReason::port_security) == 1);
  CHECK(b.slow->fdb_size() == 1);
  CHECK_FALSE(b.slow->errdisabled(b.rp[1].port));
  secure(vsm::ViolationMode::shutdown);
  b.inject(1, arp_request(kMacC));
  b.inject(1, arp_request(test::kMacA));  // even the secured MAC: the port is down
  b.slow->poll_once();
  CHECK(b.slow->errdisabled(b.rp[1].port));
  CHECK(b.sent(2).empty());
  CHECK(b.drops(slowpath::DropReason::port_security) == 3);
  // Its learned MAC's rules left the NIC (port rules + 2 DHCP server guards + the DHCP
  // client trap of snooping stay).
  CHECK(b.rules_of_veth(1) == 8);
  // An administrative shutdown recovers it (NX-OS: shutdown / no shutdown).
  b.publish([&](offload::PolicySnapshot& s) { s.ports[b.rp[1].port].forwarding = false; });
  b.slow->poll_once();
  secure(vsm::ViolationMode::shutdown);
  b.slow->poll_once();
  CHECK_FALSE(b.slow->errdisabled(b.rp[1].port));
}

TEST_CASE("IP source guard: only bound sources pass; DHCP server replies from a VM are dropped") {
  SlowPathBench b;
  b.publish([&](offload::PolicySnapshot& s) {
    auto& cfg = s.ports[b.rp[1].port].cfg;
    cfg.ip_verify_source = true;
    vsm::SourceBinding sb;
    sb.ip = {10, 0, 0, 1};
    sb.mac = test::kMacA;
    sb.vlan = 10;
    cfg.source_bindings.push_back(sb);
  });
  b.inject(1, udp_frame(test::kBroadcast, test::kMacA, 0x0a000001));          // bound
  b.inject(1, udp_frame(test::kBroadcast, test::kMacA, 0x0a000009));          // spoofed IP
  b.inject(1, udp_frame(test::kBroadcast, kMacC, 0x0a000001));                // spoofed MAC
  b.inject(1, udp_frame(test::kBroadcast, test::kMacA, 0x0a000001, 67, 68));  // DHCP offer
  b.inject(1, FrameBuilder()
                  .eth(test::kBroadcast, test::kMacA)
                  .type(kArp)
                  .arp(1, test::kMacA, 0x0a000009, {}, 0x0a000002)
                  .done());  // ARP for a foreign IP
  b.slow->poll_once();
  CHECK(b.sent(2).size() == 1);
  CHECK(b.drops(slowpath::DropReason::ip_source_guard) == 2);
  CHECK(b.drops(slowpath::DropReason::dhcp_snooping) == 1);
  CHECK(b.drops(slowpath::DropReason::arp_nd_inspection) == 1);
}

TEST_CASE("storm control: broadcasts over the level are dropped, known unicast is not") {
  SlowPathBench b;
  b.inject(2, arp_request(test::kMacB));
  b.slow->poll_once();
  b.sent(1);
  b.publish([&](offload::PolicySnapshot& s) { s.ports[b.rp[1].port].cfg.storm.broadcast = 0; });
  b.inject(1, arp_request(test::kMacA));
  b.inject(1, unicast(test::kMacB, test::kMacA));
  b.slow->poll_once();
  CHECK(b.drops(slowpath::DropReason::storm) == 1);
  CHECK(b.sent(2).size() == 1);  // the unicast
}

TEST_CASE(
    "police: within the burst frames pass, past it they are dropped and counted as violations") {
  SlowPathBench b;
  b.inject(2, arp_request(test::kMacB));
  b.slow->poll_once();
  b.sent(1);
  b.publish([&](offload::PolicySnapshot& s) {
    vsm::ResolvedPolicer p;
    p.cir_bytes_per_s = 1000;  // refills 1 byte per ms: nothing measurable within this test
    p.cbs_bytes = 300;
    s.ports[b.rp[1].port].cfg.police_in = p;
  });
  for (int i = 0; i < 8; ++i) b.inject(1, unicast(test::kMacB, test::kMacA));  // 60-byte frames
  b.slow->poll_once();
  const auto* pc = b.slow->port_counters(b.rp[1].port);
  CHECK(pc->police_conform_packets[0].load() + pc->police_violate_packets[0].load() == 8);
  CHECK(pc->police_conform_packets[0].load() >= 4);  // 300 bytes of burst: five 60-byte frames
  CHECK(pc->police_conform_packets[0].load() <= 6);
  CHECK(b.sent(2).size() == pc->police_conform_packets[0].load());
  CHECK(b.drops(slowpath::DropReason::police) == pc->police_violate_packets[0].load());
}

TEST_CASE("SPAN: what a source sends is copied once, as sent; what it receives, as delivered") {
  SlowPathBench b;
  b.inject(2, arp_request(test::kMacB));  // B on vf1
  b.slow->poll_once();
  for (int i = 0; i < 4; ++i) b.sent(i);
  b.publish([&](offload::PolicySnapshot& s) {
    s.ports[b.rp[1].port].mirror_rx = {
        b.rp[3].port};  // vf0 rx -> vf2 (another VLAN: SPAN ignores it)
    s.ports[b.rp[2].port].mirror_tx = {b.rp[3].port};  // vf1 tx -> vf2
  });
  const auto frame = unicast(test::kMacB, test::kMacA);
  b.inject(1, frame);
  b.slow->poll_once();
  REQUIRE(b.sent(2).size() == 1);
  const auto copies = b.sent(3);
  REQUIRE(copies.size() == 2);  // vf0's rx copy and vf1's tx copy
  CHECK(copies[0] == frame);
  CHECK(copies[1] == frame);
  b.inject(1, arp_request(test::kMacA));  // flooded to vf1 and the uplink: one rx copy
  b.slow->poll_once();
  CHECK(b.sent(3).size() == 2);  // rx copy + vf1's tx copy
}

// ---- DHCP snooping (slowpath/dhcp_snooping.h) ----
namespace {

const test::Mac kServer = {0x52, 0x54, 0x00, 0x00, 0x00, 0xee};
constexpr uint32_t kLeasedIp = 0x0a000032;  // 10.0.0.50
const test::Ip4 kLeasedBytes = {10, 0, 0, 50};

test::DhcpSpec dhcp(uint8_t type) {
  test::DhcpSpec s;
  s.type = type;
  s.chaddr = test::kMacA;
  return s;
}
test::DhcpSpec dhcp_ack(uint32_t lease = 3600) {
  auto s = dhcp(5);
  s.yiaddr = kLeasedBytes;
  s.lease = lease;
  return s;
}

// vf0 (VLAN 10) with `ip verify source`, MAC A learned there by its DHCPDISCOVER.
void guarded_client(SlowPathBench& b) {
  b.publish([&](offload::PolicySnapshot& s) { s.ports[b.rp[1].port].cfg.ip_verify_source = true; });
  b.inject(1, test::client_message(0, dhcp(1)));
  b.slow->poll_once();
  for (int i = 0; i < 4; ++i) b.sent(i);
}

std::vector<slowpath::DhcpBindingEvent> events(SlowPathBench& b) {
  std::vector<slowpath::DhcpBindingEvent> out;
  slowpath::DhcpBindingEvent ev;
  while (b.slow->take_dhcp_event(ev)) out.push_back(ev);
  return out;
}

uint64_t dhcp_count(SlowPathBench& b, std::atomic<uint64_t> slowpath::DhcpSnoopingCounters::*c) {
  return (b.slow->dhcp_counters().*c).load();
}

}  // namespace

TEST_CASE("DHCP snooping: a spoofed source is dropped before the ACK and admitted after it") {
  SlowPathBench b;
  guarded_client(b);
  CHECK(b.slow->fdb_size() == 1);
  b.inject(1, udp_frame(test::kBroadcast, test::kMacA, kLeasedIp));
  b.slow->poll_once();
  CHECK(b.drops(slowpath::DropReason::ip_source_guard) == 1);
  CHECK(b.sent(2).empty());

  // The server's ACK comes in on the uplink, tagged; it is snooped and still delivered.
  b.inject(0, test::server_reply(kServer, 10, dhcp_ack()));
  b.slow->poll_once();
  auto to_client = b.sent(1);
  REQUIRE(to_client.size() == 1);
  CHECK_FALSE(is_tagged(to_client[0]));
  auto ev = events(b);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].kind == slowpath::DhcpBindingEvent::bound);
  CHECK(ev[0].veth == 1);
  CHECK(ev[0].port == b.rp[1].port);
  CHECK(ev[0].vid == 10);
  CHECK(ev[0].mac == test::kMacA);
  CHECK(ev[0].ip == kLeasedBytes);
  CHECK(ev[0].lease_s == 3600);
  CHECK(b.slow->dhcp_bindings() == 1);

  // From now on, before any republish: the leased address passes, others still do not,
  // nor the leased address from another MAC.
  b.inject(1, udp_frame(test::kBroadcast, test::kMacA, kLeasedIp));
  b.inject(1, udp_frame(test::kBroadcast, test::kMacA, kLeasedIp + 1));
  b.inject(1, FrameBuilder()
                  .eth(test::kBroadcast, test::kMacA)
                  .type(kArp)
                  .arp(1, test::kMacA, kLeasedIp, {}, 0x0a000002)
                  .done());
  b.slow->poll_once();
  CHECK(b.sent(2).size() == 2);  // the UDP frame and the ARP
  CHECK(b.drops(slowpath::DropReason::ip_source_guard) == 2);
  b.inject(2, udp_frame(test::kBroadcast, test::kMacB, kLeasedIp));
  b.slow->poll_once();
  CHECK(b.sent(1).size() == 1);  // vf1 does not guard: flooded, but no lease learned there
  CHECK(b.slow->dhcp_bindings() == 1);
}

TEST_CASE("DHCP snooping: RELEASE, DECLINE and NAK unbind; a lease expires at its end") {
  SlowPathBench b;
  guarded_client(b);
  auto bind = [&](uint32_t lease = 3600) {
    b.inject(0, test::server_reply(kServer, 10, dhcp_ack(lease)));
    b.slow->poll_once();
    b.sent(1);
    auto ev = events(b);
    REQUIRE(ev.size() == 1);
    REQUIRE(ev[0].kind == slowpath::DhcpBindingEvent::bound);
    REQUIRE(b.slow->dhcp_bindings() == 1);
  };
  auto expect_unbound = [&](slowpath::DhcpBindingEvent::Cause cause) {
    auto ev = events(b);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == slowpath::DhcpBindingEvent::unbound);
    CHECK(ev[0].cause == cause);
    CHECK(ev[0].mac == test::kMacA);
    CHECK(b.slow->dhcp_bindings() == 0);
    b.inject(1, udp_frame(test::kBroadcast, test::kMacA, kLeasedIp));
    const uint64_t before = b.drops(slowpath::DropReason::ip_source_guard);
    b.slow->poll_once();
    CHECK(b.drops(slowpath::DropReason::ip_source_guard) == before + 1);
  };

  SUBCASE("RELEASE from the leased address") {
    bind();
    auto rel = dhcp(7);
    rel.ciaddr = kLeasedBytes;
    b.inject(1, test::client_message(kLeasedIp, rel));
    b.slow->poll_once();
    CHECK(dhcp_count(b, &slowpath::DhcpSnoopingCounters::releases) == 1);
    expect_unbound(slowpath::DhcpBindingEvent::release);
  }
  SUBCASE("RELEASE of another client's lease (chaddr is not the sender) is ignored") {
    bind();
    auto rel = dhcp(7);
    rel.ciaddr = kLeasedBytes;
    rel.chaddr = kMacC;
    b.inject(1, test::udp_payload_frame(test::kBroadcast, test::kMacA, std::nullopt, kLeasedIp,
                                        0x0a0000fe, 68, 67, test::dhcp_message(rel)));
    b.slow->poll_once();
    CHECK(events(b).empty());
    CHECK(b.slow->dhcp_bindings() == 1);
    CHECK(dhcp_count(b, &slowpath::DhcpSnoopingCounters::chaddr_mismatch) == 1);
  }
  SUBCASE("DECLINE of the offered address") {
    bind();
    auto dec = dhcp(4);
    dec.requested = kLeasedBytes;
    b.inject(1, test::client_message(0, dec));
    b.slow->poll_once();
    expect_unbound(slowpath::DhcpBindingEvent::decline);
  }
  SUBCASE("NAK from the server") {
    bind();
    b.inject(0, test::server_reply(kServer, 10, dhcp(6)));
    b.slow->poll_once();
    CHECK(b.sent(1).size() == 1);  // still delivered
    expect_unbound(slowpath::DhcpBindingEvent::nak);
  }
  SUBCASE("expiry on the clock; an infinite lease never expires") {
    bind(60);
    b.clock.advance_s(59);
    b.slow->poll_once();
    CHECK(events(b).empty());
    b.clock.advance_s(2);
    b.slow->poll_once();
    CHECK(dhcp_count(b, &slowpath::DhcpSnoopingCounters::expired) == 1);
    expect_unbound(slowpath::DhcpBindingEvent::expired);
    bind(slowpath::kDhcpInfiniteLease);
    b.clock.advance_s(100'000'000);
    b.slow->poll_once();
    CHECK(events(b).empty());
    CHECK(b.slow->dhcp_bindings() == 1);
  }
  SUBCASE("a profile change that turns snooping off clears the port's leases") {
    bind();
    b.publish([&](offload::PolicySnapshot&) {});  // no ip verify source, no port security
    b.slow->poll_once();
    auto ev = events(b);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].cause == slowpath::DhcpBindingEvent::port_cleared);
    CHECK(b.slow->dhcp_bindings() == 0);
  }
  SUBCASE("a new lease for the client replaces its old address") {
    bind();
    auto again = dhcp_ack();
    again.yiaddr = {10, 0, 0, 51};
    b.inject(0, test::server_reply(kServer, 10, again));
    b.slow->poll_once();
    auto ev = events(b);
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].kind == slowpath::DhcpBindingEvent::unbound);
    CHECK(ev[0].cause == slowpath::DhcpBindingEvent::replaced);
    CHECK(ev[0].ip == kLeasedBytes);
    CHECK(ev[1].kind == slowpath::DhcpBindingEvent::bound);
    CHECK(b.slow->dhcp_bindings() == 1);
  }
}

TEST_CASE(
    "DHCP snooping: an ACK from a VM is dropped and binds nothing; nor does one for an unknown "
    "client") {
  SlowPathBench b;
  guarded_client(b);
  // From the guarded VM (untrusted): dropped before anything looks at it.
  b.inject(1, test::udp_payload_frame(test::kBroadcast, test::kMacA, std::nullopt, 0, 0xffffffff,
                                      67, 68, test::dhcp_message(dhcp_ack())));
  // From an unguarded VM on the same VLAN (no snooping there): untrusted all the same.
  b.inject(2, test::udp_payload_frame(test::kMacA, test::kMacB, std::nullopt, 0x0a000002, kLeasedIp,
                                      67, 68, test::dhcp_message(dhcp_ack())));
  b.slow->poll_once();
  CHECK(b.drops(slowpath::DropReason::dhcp_snooping) == 1);
  CHECK(events(b).empty());
  CHECK(b.slow->dhcp_bindings() == 0);
  // From the uplink, but for a MAC no snooping vEthernet has.
  auto other = dhcp_ack();
  other.chaddr = kMacC;
  b.inject(0, test::server_reply(kServer, 10, other));
  b.slow->poll_once();
  CHECK(events(b).empty());
  CHECK(dhcp_count(b, &slowpath::DhcpSnoopingCounters::unknown_client) == 1);
}

TEST_CASE(
    "DHCP snooping fuzz: thousands of mutated ACKs from the uplink never crash and malformed ones "
    "never bind") {
  SlowPathBench b;
  guarded_client(b);
  std::mt19937 rng(0xacc);
  const auto good = test::server_reply(kServer, 10, dhcp_ack());
  const size_t dhcp_off = 14 + 4 + 20 + 8;
  const uint64_t malformed0 = dhcp_count(b, &slowpath::DhcpSnoopingCounters::malformed);
  // Truncated inside the DHCP message (IP and UDP lengths left claiming the whole),
  // or with the IP / UDP lengths cut short of it: all malformed.
  for (int i = 0; i < 2000; ++i) {
    auto f = good;
    if (i % 2) {
      f.resize(dhcp_off + rng() % (f.size() - dhcp_off));
    } else {
      const size_t udp_len = 8 + rng() % (test::dhcp_message(dhcp_ack()).size());
      f[18 + 20 + 4] = static_cast<uint8_t>(udp_len >> 8);
      f[18 + 20 + 5] = static_cast<uint8_t>(udp_len);
    }
    b.inject(0, f);
    if (i % 16 == 15) b.slow->poll_once();
  }
  b.slow->poll_once();
  CHECK(events(b).empty());
  CHECK(b.slow->dhcp_bindings() == 0);
  CHECK(dhcp_count(b, &slowpath::DhcpSnoopingCounters::malformed) >= malformed0 + 2000);
  // Random bytes anywhere: no crash; whatever still binds is a well-formed ACK for A.
  for (int i = 0; i < 3000; ++i) {
    auto f = good;
    const int flips = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < flips; ++k) f[rng() % f.size()] = static_cast<uint8_t>(rng());
    b.inject(0, f);
    if (i % 16 == 15) b.slow->poll_once();
  }
  b.slow->poll_once();
  for (const auto& ev : events(b)) {
    if (ev.kind != slowpath::DhcpBindingEvent::bound) continue;
    CHECK(ev.port == b.rp[1].port);
    CHECK(ev.vid == 10);
  }
  CHECK(b.slow->dhcp_bindings() <= 1);
}
