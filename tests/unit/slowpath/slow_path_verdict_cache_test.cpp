// The verdict cache inside the slow path (slowpath/verdict_cache.h): the frames of one
// flow after the first are decided from the cache, yet every frame still bumps its ACL
// entries' statistics, and a new policy applies from the next frame on. (Lease changes:
// slow_path_test.cpp's DHCP snooping cases send the same flow before and after the ACK.)
#include <doctest/doctest.h>

#include <vector>

#include "frame_builder.h"
#include "slow_path_bench.h"

using namespace vfs;
using test::arp_request;
using test::FrameBuilder;

namespace {

// UDP A -> B, sport -> 2, with the given IPv4 ID (outside the cache key).
std::vector<uint8_t> udp(uint16_t sport, uint16_t ip_id) {
  auto f = FrameBuilder()
               .eth(test::kMacB, test::kMacA)
               .type(0x0800)
               .ipv4(17, 0x0a000001, 0x0a000002)
               .udp(sport, 2, 8)
               .close_ipv4()
               .done();
  f[18] = static_cast<uint8_t>(ip_id >> 8);
  f[19] = static_cast<uint8_t>(ip_id);
  return f;
}

vsm::ResolvedAcl udp_sport_acl(const char* name, uint16_t sport, bool permit) {
  vsm::ResolvedAcl acl;
  acl.name = name;
  acl.family = vsm::AclFamily::ipv4;
  vsm::ResolvedAce e;
  e.seq = 10;
  e.permit = permit;
  e.protocol = 17;
  e.src_port.op = vsm::PortMatch::Op::eq;
  e.src_port.lo = sport;
  acl.entries.push_back(e);
  return acl;
}

}  // namespace

TEST_CASE("slow path: a cached flow still counts every frame per ACL entry; a new policy applies") {
  // Runs off: each frame meets the cache (slow_path_flow_run_test.cpp has them on).
  test::SlowPathBench b(false);
  b.publish([&](offload::PolicySnapshot& s) {
    s.ports[b.rp[1].port].cfg.ip_acl_in = udp_sport_acl("in", 1, true);
    s.ports[b.rp[2].port].cfg.ip_acl_out = udp_sport_acl("out", 1, true);
  });
  b.inject(1, arp_request(test::kMacA));
  b.inject(2, arp_request(test::kMacB));
  b.slow->poll_once();
  for (int i = 0; i < 4; ++i) b.sent(i);

  const auto& vc = b.slow->verdict_cache_stats();
  const uint64_t hits0 = vc.hits.load(), misses0 = vc.misses.load();
  for (uint16_t i = 0; i < 20; ++i) b.inject(1, udp(1, i));
  b.slow->poll_once();
  CHECK(b.sent(2).size() == 20);
  CHECK(vc.misses.load() == misses0 + 1);  // one flow
  CHECK(vc.hits.load() == hits0 + 19);
  auto counts = b.slow->acl_entries_json();
  CHECK(counts["ip:in"]["10"].get<uint64_t>() == 20);
  CHECK(counts["ip:out"]["10"].get<uint64_t>() == 20);

  // Another source port: the implicit deny, counted per frame as well.
  for (uint16_t i = 0; i < 5; ++i) b.inject(1, udp(3, i));
  b.slow->poll_once();
  CHECK(b.sent(2).empty());
  counts = b.slow->acl_entries_json();
  CHECK(counts["ip:in"]["0"].get<uint64_t>() == 5);
  CHECK(b.slow->counters_json()["dropped"]["acl"].get<uint64_t>() == 5);

  // The cached flow meets the new policy at once: its input ACL now denies it.
  b.publish([&](offload::PolicySnapshot& s) {
    s.ports[b.rp[1].port].cfg.ip_acl_in = udp_sport_acl("in2", 1, false);
    s.ports[b.rp[2].port].cfg.ip_acl_out = udp_sport_acl("out", 1, true);
  });
  for (uint16_t i = 0; i < 4; ++i) b.inject(1, udp(1, static_cast<uint16_t>(100 + i)));
  b.slow->poll_once();
  CHECK(b.sent(2).empty());
  counts = b.slow->acl_entries_json();
  CHECK(counts["ip:in2"]["10"].get<uint64_t>() == 4);
  CHECK(counts["ip:in"]["10"].get<uint64_t>() == 20);  // retired, kept
  CHECK(vc.invalidations.load() >= 2);
}

// A cached flow also remembers what the FDB answered (its source learned on its port, the
// destination's port), and uses it only while the FDB is unchanged since: a move of either
// MAC, or a MAC learned or aged anywhere, sends the next frame through the lookups again.
TEST_CASE("slow path: a cached flow's FDB answers hold only while the FDB is unchanged") {
  test::SlowPathBench b(false);  // runs off: each frame meets the cache
  const test::Mac kMacC = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0c};
  b.publish([&](offload::PolicySnapshot& s) {
    auto& ps = s.ports[b.rp[1].port].cfg.port_security;
    ps.enabled = true;
    ps.maximum = 1;
    ps.violation = vsm::ViolationMode::restrict;
  });
  // An ARP from mac into port idx (the uplink's tagged with VLAN 10).
  auto arp = [&](int idx, const test::Mac& mac) {
    auto f = arp_request(mac);
    if (idx == 0) f.insert(f.begin() + 12, {0x81, 0x00, 0x00, 10});
    b.inject(idx, f);
    b.slow->poll_once();
    for (int i = 0; i < 4; ++i) b.sent(i);
  };
  auto port_security_drops = [&] {
    return b.slow->counters_json()["dropped"]["port-security"].get<uint64_t>();
  };
  arp(1, test::kMacA);
  arp(2, test::kMacB);
  const auto& vc = b.slow->verdict_cache_stats();
  auto flow = [&](uint16_t first_id, uint16_t n) {
    for (uint16_t i = 0; i < n; ++i) b.inject(1, udp(1, static_cast<uint16_t>(first_id + i)));
    b.slow->poll_once();
  };
  flow(0, 4);
  CHECK(b.sent(2).size() == 4);
  const uint64_t hits0 = vc.hits.load();

  // B moves behind the uplink: the flow follows it there from its next frame.
  arp(0, test::kMacB);
  flow(10, 3);
  CHECK(b.sent(0).size() == 3);
  CHECK(b.sent(2).empty());
  CHECK(vc.hits.load() == hits0 + 3);  // the verdicts still came from the cache

  // A shows up behind the uplink and C takes vf0's one secure address: A's next frames on
  // vf0 are port-security violations, not refreshes of what A was.
  const uint64_t ps0 = port_security_drops();
  arp(0, test::kMacA);
  arp(1, kMacC);
  flow(20, 2);
  for (int i = 0; i < 4; ++i) CHECK(b.sent(i).empty());
  CHECK(port_security_drops() == ps0 + 2);

  // C leaves (to the uplink), A comes back to vf0 by its own frames: learned there again,
  // and from then on its flow's frames refresh A's entry without a lookup, which keeps it
  // from aging (300 s) while the others, silent, age out.
  arp(0, kMacC);
  const uint64_t moved0 = b.slow->counters().moved.load();
  flow(30, 2);
  CHECK(b.slow->counters().moved.load() == moved0 + 1);
  CHECK(b.sent(0).size() == 2);  // to B, still behind the uplink
  b.clock.advance_s(200);
  const uint64_t hits1 = vc.hits.load();
  flow(40, 3);
  CHECK(vc.hits.load() == hits1 + 3);
  CHECK(b.sent(0).size() == 3);
  b.clock.advance_s(150);  // A last seen 150 s ago, B and C 350 s ago
  b.slow->poll_once();     // housekeeping
  CHECK(b.slow->fdb_size() == 1);
  CHECK(port_security_drops() == ps0 + 2);
  arp(2, test::kMacB);  // B anew on vf1; A's frames go there, A refreshed, not learned
  const uint64_t learned0 = b.slow->counters().learned.load();
  flow(50, 2);
  CHECK(b.slow->counters().learned.load() == learned0);
  CHECK(b.sent(2).size() == 2);
}
