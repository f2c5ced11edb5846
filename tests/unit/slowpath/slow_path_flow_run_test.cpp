// The slow path decides a run of one flow's frames in a burst once (SlowPath::replay,
// slowpath/flow_template.h): the same frames leave the same wires in the same order, with
// the same counters per port, per drop reason, per policer and per ACL entry, as when
// each frame comes in a burst of its own and is decided alone.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "frame_builder.h"
#include "slow_path_bench.h"
#include "tests/unit/offload/policy_scene.h"

using namespace vfs;

// Named, not anonymous: the test files of a module are compiled in unity batches.
namespace vfs::slowpath_flow_run_test {

using test::arp_request;
using test::FrameBuilder;

const test::Mac kMacUp = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0e};  // behind the uplink

// 60-byte frames from A (on vf0) to dst; id: the IPv4 ID, outside what the policy reads.
std::vector<uint8_t> udp(const test::Mac& dst, uint16_t sport, uint16_t id) {
  auto f = FrameBuilder()
               .eth(dst, test::kMacA)
               .type(0x0800)
               .ipv4(17, 0x0a000001, 0x0a000002)
               .udp(sport, 2, 8)
               .close_ipv4()
               .done();
  f[18] = static_cast<uint8_t>(id >> 8), f[19] = static_cast<uint8_t>(id);
  return f;
}
std::vector<uint8_t> tcp(const test::Mac& dst, uint8_t flags, uint8_t seq) {
  auto f = FrameBuilder()
               .eth(dst, test::kMacA)
               .type(0x0800)
               .ipv4(6, 0x0a000001, 0x0a000002)
               .tcp(1000, 80, flags)
               .close_ipv4()
               .done();
  f[14 + 20 + 7] = seq;
  return f;
}

vsm::ResolvedAce ace(uint32_t seq, int proto, uint16_t sport, bool established = false) {
  vsm::ResolvedAce e;
  e.seq = seq;
  e.permit = true;
  e.protocol = proto;
  if (sport) {
    e.src_port.op = vsm::PortMatch::Op::eq;
    e.src_port.lo = sport;
  }
  e.established = established;
  return e;
}

// vf0: input ACL (UDP from port 1, established TCP), police in; vf1: output ACL, police
// out; SPAN of vf0's rx to vf2; the uplink has MAC Up in VLAN 10, vf1 has B. police:
// false leaves the policers out.
void configure(test::SlowPathBench& b, bool police = true) {
  b.publish([&](offload::PolicySnapshot& s) {
    vsm::ResolvedAcl in;
    in.name = "in";
    in.statistics_per_entry = true;
    in.entries = {ace(10, 17, 1), ace(20, 6, 0, true)};
    s.ports[b.rp[1].port].cfg.ip_acl_in = in;
    vsm::ResolvedAcl out;
    out.name = "out";
    out.entries = {ace(10, 17, 0), ace(20, 6, 0)};
    s.ports[b.rp[2].port].cfg.ip_acl_out = out;
    // 100 B/s refills a byte every 10 ms, and each bucket holds half a frame more than
    // the whole frames it passes (vf1's out also passes the uplink's 64-byte ARP): the
    // benches' different timing cannot move where a policer runs out.
    vsm::ResolvedPolicer pin;
    pin.cir_bytes_per_s = 100;
    pin.cbs_bytes = 20 * 60 + 30;
    if (police) s.ports[b.rp[1].port].cfg.police_in = pin;
    vsm::ResolvedPolicer pout = pin;
    pout.cbs_bytes = 64 + 9 * 60 + 30;
    if (police) s.ports[b.rp[2].port].cfg.police_out = pout;
    s.ports[b.rp[1].port].mirror_rx = {b.rp[3].port};
  });
  b.inject(2, arp_request(test::kMacB));
  auto up = arp_request(kMacUp);
  up.insert(up.begin() + 12, {0x81, 0x00, 0x00, 10});
  b.inject(0, up);
  b.slow->poll_once();
  for (int i = 0; i < 4; ++i) b.sent(i);
}

std::vector<std::vector<uint8_t>> traffic() {
  std::vector<std::vector<uint8_t>> t;
  for (uint16_t i = 0; i < 6; ++i) t.push_back(udp(test::kMacB, 1, i));
  t.push_back(udp(test::kMacB, 3, 99));  // the implicit deny
  for (uint16_t i = 0; i < 5; ++i) t.push_back(udp(test::kMacB, 1, static_cast<uint16_t>(10 + i)));
  for (uint8_t i = 0; i < 3; ++i) t.push_back(tcp(test::kMacB, 0x10, i));  // ACK
  t.push_back(tcp(test::kMacB, 0x18, 7));                                  // ACK PSH: same
  t.push_back(tcp(test::kMacB, 0x02, 8));                                  // SYN: denied
  for (uint16_t i = 0; i < 4; ++i) t.push_back(udp(kMacUp, 1, static_cast<uint16_t>(20 + i)));
  for (uint16_t i = 0; i < 8; ++i) t.push_back(udp(test::kMacB, 1, static_cast<uint16_t>(30 + i)));
  return t;  // 28 frames: one burst
}

struct Outcome {
  std::vector<std::vector<std::vector<uint8_t>>> wires;  // per representor, in order
  std::vector<std::vector<uint64_t>> ports;              // every per-port counter
  std::string acl, drops, counters;  // counters: all but the runs' and the cache's own
};

Outcome outcome(test::SlowPathBench& b) {
  Outcome o;
  for (int i = 0; i < 4; ++i) {
    o.wires.push_back(b.sent(i));
    const slowpath::PortCounters* pc = b.slow->port_counters(b.rp[i].port);
    std::vector<uint64_t> c = {pc->rx_packets, pc->rx_bytes, pc->tx_packets, pc->tx_bytes};
    for (const auto& d : pc->drops) c.push_back(d);
    for (size_t d = 0; d < 2; ++d)
      c.insert(c.end(), {pc->police_conform_packets[d].load(), pc->police_conform_bytes[d].load(),
                         pc->police_violate_packets[d].load(), pc->police_violate_bytes[d].load()});
    o.ports.push_back(c);
  }
  o.acl = b.slow->acl_entries_json().dump();
  auto j = b.slow->counters_json();
  o.drops = j["dropped"].dump();
  j.erase("batched");
  j.erase("verdict_cache");
  o.counters = j.dump();
  return o;
}

TEST_CASE("slow path: runs of one flow are decided once, with each frame's effects") {
  test::SlowPathBench together, chunked, alone(false);
  configure(together);
  configure(chunked);
  configure(alone);
  const auto t = traffic();
  REQUIRE(t.size() <= 32);
  // All in one burst; in bursts of five (runs carry over from burst to burst); each frame
  // in a burst of its own with runs off.
  for (const auto& f : t) together.inject(1, f);
  CHECK(together.slow->poll_once() == t.size());
  for (size_t i = 0; i < t.size(); i += 5) {
    size_t k = 0;
    for (; k < 5 && i + k < t.size(); ++k) chunked.inject(1, t[i + k]);
    CHECK(chunked.slow->poll_once() == k);
  }
  for (const auto& f : t) {
    alone.inject(1, f);
    CHECK(alone.slow->poll_once() == 1);
  }
  const Outcome a = outcome(together), c = outcome(chunked), b = outcome(alone);
  for (int i = 0; i < 4; ++i) {
    CAPTURE(i);
    CHECK(a.wires[i] == b.wires[i]);
    CHECK(a.ports[i] == b.ports[i]);
    CHECK(c.wires[i] == b.wires[i]);
    CHECK(c.ports[i] == b.ports[i]);
  }
  CHECK(a.acl == b.acl);
  CHECK(a.drops == b.drops);
  CHECK(c.acl == b.acl);
  CHECK(c.drops == b.drops);
  // What the case is about happened: runs were replayed, policers ran out within them,
  // SPAN copied, frames went out tagged to the uplink.
  CHECK(together.slow->counters().batched.load() >= 8);
  CHECK(chunked.slow->counters().batched.load() >= 8);
  CHECK(alone.slow->counters().batched.load() == 0);
  const slowpath::PortCounters* in = together.slow->port_counters(together.rp[1].port);
  const slowpath::PortCounters* out = together.slow->port_counters(together.rp[2].port);
  CHECK(in->police_violate_packets[0].load() > 0);
  CHECK(out->police_violate_packets[1].load() > 0);
  CHECK(a.wires[3].size() == in->police_conform_packets[0].load());  // rx SPAN copies
  REQUIRE(a.wires[0].size() == 4);
  CHECK(a.wires[0][0][12] == 0x81);
}

TEST_CASE("slow path: a run does not outlive what its decision read") {
  test::SlowPathBench b;
  configure(b, false);
  auto burst = [&](uint16_t first_id) {
    for (uint16_t i = 0; i < 3; ++i) b.inject(1, udp(test::kMacB, 1, first_id + i));
    b.slow->poll_once();
  };
  burst(100);
  const uint64_t batched = b.slow->counters().batched.load();
  CHECK(b.sent(2).size() == 3);
  burst(200);  // carried over: all three follow the run
  CHECK(b.slow->counters().batched.load() == batched + 3);
  CHECK(b.sent(2).size() == 3);

  // B moves behind the uplink: vf0's frames to it follow it there, not the run to vf1.
  auto up = arp_request(test::kMacB);
  up.insert(up.begin() + 12, {0x81, 0x00, 0x00, 10});
  b.inject(0, up);
  b.slow->poll_once();
  for (int i = 0; i < 4; ++i) b.sent(i);
  burst(250);
  CHECK(b.sent(0).size() == 3);
  CHECK(b.sent(2).empty());
  CHECK(b.slow->counters().batched.load() == batched + 3 + 2);  // a new leader, two follow
  b.inject(2, arp_request(test::kMacB));                        // back on vf1
  b.slow->poll_once();
  for (int i = 0; i < 4; ++i) b.sent(i);
  burst(300);
  CHECK(b.sent(2).size() == 3);
  CHECK(b.slow->counters().batched.load() == batched + 3 + 2 + 2);

  // A new policy: vf0's input ACL now denies the flow, from the next frame on.
  b.publish([&](offload::PolicySnapshot& s) {
    vsm::ResolvedAcl deny;
    deny.name = "deny";
    s.ports[b.rp[1].port].cfg.ip_acl_in = deny;
  });
  burst(400);
  CHECK(b.sent(2).empty());
  CHECK(b.slow->counters().batched.load() == batched + 7);
}

const test::Mac kMacC = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0c};  // vf2's VM, VLAN 20

// A random policy on the bench's ports: IPv4 ACLs, port security, policers that pass
// everything or nothing (a policer that runs out part-way is the case above: its refill
// follows the real clock), storm control on unknown unicast, SPAN.
void random_policy(test::Rng& r, test::SlowPathBench& b) {
  b.publish([&](offload::PolicySnapshot& s) {
    int id = 0;
    for (int i = 1; i <= 3; ++i) {
      auto& cfg = s.ports[b.rp[i].port].cfg;
      if (r.chance(0.5)) cfg.ip_acl_in = test::random_acl(r, vsm::AclFamily::ipv4, id++);
      if (r.chance(0.5)) cfg.ip_acl_out = test::random_acl(r, vsm::AclFamily::ipv4, id++);
      if (r.chance(0.3)) {
        cfg.port_security.enabled = true;
        cfg.port_security.maximum = static_cast<uint32_t>(1 + r.below(2));
        cfg.port_security.violation = static_cast<vsm::ViolationMode>(r.below(3));
      }
      auto policer = [&](std::optional<vsm::ResolvedPolicer>& p) {
        const uint64_t k = r.below(4);
        if (k >= 2) return;
        // 100 Gb/s with a 1 GB bucket, or 1 B/s with a 1-byte bucket: never or always red.
        p = k == 0 ? vsm::ResolvedPolicer{"p", 12'500'000'000ULL, 1'000'000'000ULL}
                   : vsm::ResolvedPolicer{"p", 1, 1};
      };
      policer(cfg.police_in);
      policer(cfg.police_out);
      if (r.chance(0.2)) cfg.storm.unicast = 0;
    }
    if (r.chance(0.5)) {
      const int src = static_cast<int>(r.below(4)), dst = static_cast<int>(r.below(4));
      if (src != dst)
        (r.chance(0.5) ? s.ports[b.rp[src].port].mirror_rx : s.ports[b.rp[src].port].mirror_tx)
            .push_back(b.rp[dst].port);
    }
  });
}

struct Sent {
  int port;
  std::vector<uint8_t> frame;
};

// A run of 1-8 frames of one random flow into one random port, each with its own IPv4
// ID (and TCP sequence number).
std::vector<Sent> random_run(test::Rng& r) {
  const int port = static_cast<int>(r.below(4));
  const std::vector<test::Mac> own = {{0x52, 0x54, 0, 0, 0, 0x0e}, test::kMacA, test::kMacB, kMacC};
  const test::Mac src = r.chance(0.85) ? own[static_cast<size_t>(port)] : r.pick(test::kMacs);
  const test::Mac dst = r.chance(0.8)   ? own[r.below(4)]
                        : r.chance(0.5) ? test::kBroadcast
                                        : r.pick(test::kMacs);
  auto v4 = [&] {
    const auto& a = r.pick(test::kV4);
    return uint32_t{a[0]} << 24 | uint32_t{a[1]} << 16 | uint32_t{a[2]} << 8 | a[3];
  };
  const uint32_t sip = v4(), dip = v4();
  const uint8_t proto = static_cast<uint8_t>(r.pick(std::vector<uint16_t>{6, 17, 17, 1}));
  const uint16_t sport = r.pick(test::kL4Ports), dport = r.pick(test::kL4Ports);
  const uint8_t flags = static_cast<uint8_t>(r.pick(std::vector<uint16_t>{0x10, 0x18, 0x02, 0x04}));
  const size_t len = 60 + r.below(3) * 20;
  FrameBuilder fb;
  fb.eth(dst, src);
  if (port == 0) fb.tag(0x8100, r.chance(0.9) ? 10 : 20);
  fb.type(0x0800).ipv4(proto, sip, dip);
  if (proto == 6) fb.tcp(sport, dport, flags);
  if (proto == 17) fb.udp(sport, dport, 8);
  if (proto == 1) fb.icmp(8, 0);
  const auto base = fb.close_ipv4().done(len);
  const size_t ip = port == 0 ? 18 : 14;
  std::vector<Sent> out;
  for (uint64_t i = 0, n = 1 + r.below(8); i < n; ++i) {
    auto f = base;
    f[ip + 4] = static_cast<uint8_t>(r.below(256)), f[ip + 5] = static_cast<uint8_t>(i);
    if (proto == 6) f[ip + 20 + 7] = static_cast<uint8_t>(r.below(256));  // sequence number
    if (proto == 6 && r.chance(0.2)) f[ip + 20 + 13] ^= 0x08;             // PSH: not read
    out.push_back({port, f});
  }
  return out;
}

// "alone" is the reference: no runs and no verdict cache (so no remembered FDB answers
// either), every frame decided from scratch.
TEST_CASE("slow path: random policies and runs: bursts decide as frames alone do") {
  size_t batched = 0, frames = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    CAPTURE(seed);
    test::Rng r(seed);
    test::SlowPathBench together, alone(false, 0);
    test::Rng pr(seed * 7919);
    random_policy(pr, together);
    test::Rng pr2(seed * 7919);
    random_policy(pr2, alone);
    for (int batch = 0; batch < 8; ++batch) {
      std::vector<Sent> sent;
      std::array<size_t, 4> per_port{};
      for (int k = 0; k < 12; ++k)
        for (auto& s : random_run(r))
          if (per_port[static_cast<size_t>(s.port)]++ < 32) sent.push_back(std::move(s));
      for (const auto& s : sent) together.inject(s.port, s.frame);
      CHECK(together.slow->poll_once() == sent.size());
      // One frame a pass, in the order a pass takes them: port by port.
      for (int port = 0; port < 4; ++port)
        for (const auto& s : sent)
          if (s.port == port) {
            alone.inject(port, s.frame);
            CHECK(alone.slow->poll_once() == 1);
          }
      frames += sent.size();
    }
    const Outcome a = outcome(together), b = outcome(alone);
    for (int i = 0; i < 4; ++i) {
      CAPTURE(i);
      CHECK(a.wires[i] == b.wires[i]);
      CHECK(a.ports[i] == b.ports[i]);
    }
    CHECK(a.acl == b.acl);
    CHECK(a.counters == b.counters);
    batched += together.slow->counters().batched.load();
    CHECK(alone.slow->counters().batched.load() == 0);
  }
  MESSAGE(frames << " frames, " << batched << " of them forwarded in runs");
  CHECK(batched > frames / 25);  // most frames meet a deny or a drop-all policer
}

TEST_CASE("slow path: pings make a run too (their checksums differ, type and code do not)") {
  test::SlowPathBench b;
  b.inject(2, arp_request(test::kMacB));
  b.slow->poll_once();
  for (int i = 0; i < 4; ++i) b.sent(i);
  for (uint8_t seq = 0; seq < 4; ++seq) {
    auto f = FrameBuilder()
                 .eth(test::kMacB, test::kMacA)
                 .type(0x0800)
                 .ipv4(1, 0x0a000001, 0x0a000002)
                 .icmp(8, 0)
                 .close_ipv4()
                 .done();
    f[14 + 20 + 7] = seq;                               // echo sequence number
    f[14 + 20 + 3] = static_cast<uint8_t>(0x5a ^ seq);  // and so its checksum
    b.inject(1, f);
  }
  CHECK(b.slow->poll_once() == 4);
  CHECK(b.sent(2).size() == 4);
  CHECK(b.slow->counters().batched.load() == 3);
}

}  // namespace vfs::slowpath_flow_run_test
