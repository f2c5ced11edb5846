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
