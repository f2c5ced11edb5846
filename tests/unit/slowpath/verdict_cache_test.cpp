// The slow path's verdict cache (slowpath/verdict_cache.h) against direct evaluation
// (offload::evaluate_ingress / evaluate_egress) on random scenes: equal verdicts and ACL
// hits for every frame, whether it hits, misses or bypasses; frames that differ only
// outside the key share an entry, frames that differ in one field the policy reads do
// not; invalidation on policy and lease changes; a full cache evicts and stays right.
#include <doctest/doctest.h>

#include <set>
#include <tuple>
#include <vector>

#include "offload/frame_layout.h"
#include "offload/policy_eval.h"
#include "slowpath/verdict_cache.h"
#include "tests/unit/offload/policy_scene.h"
#include "verdict_equal.h"

using namespace vfs;
using offload::frame_layout;
using offload::FrameLayout;
using test::same;

namespace {

using Frame = std::vector<uint8_t>;

// IP source guard's leases beyond the snapshot: what the slow path's DHCP table would say.
class Leases final : public offload::LeaseLookup {
 public:
  using Lease = std::tuple<uint16_t, uint16_t, test::Mac, std::array<uint8_t, 4>>;
  bool leased(uint16_t port, uint16_t vid, const uint8_t* mac, const uint8_t* ip4) const override {
    test::Mac m;
    std::copy(mac, mac + 6, m.begin());
    std::array<uint8_t, 4> ip;
    std::copy(ip4, ip4 + 4, ip.begin());
    return set.count({port, vid, m, ip}) != 0;
  }
  std::set<Lease> set;
};

// Where the headers the layout found end (what lies past them is payload).
size_t headers_end(const FrameLayout& l, const Frame& f) {
  if (!l.ip) return l.l3_off;
  if (!l.l4) return l.v6 ? l.l3_off + 40u : l.l3_off + (f[l.l3_off] & 0xfu) * 4u;
  switch (l.ip_proto) {
    case 6:
      return l.l4_off + 20u;
    case 17:
      return l.l4_off + 8u;
    default:
      return l.l4_off + 4u;
  }
}

// The frame with fields the policy never reads changed: IPv4 ID, TTL and checksum, IPv6
// flow label and hop limit, TCP sequence number, window and PSH/FIN bits, UDP and ICMP
// checksums, the payload. False when the frame has none of them.
bool vary_outside_key(test::Rng& r, Frame& f) {
  const FrameLayout l = frame_layout(f.data(), static_cast<uint32_t>(f.size()));
  bool changed = false;
  auto flip = [&](size_t at) {
    if (at >= f.size()) return;
    f[at] ^= static_cast<uint8_t>(1 + r.below(255));
    changed = true;
  };
  if (l.ip && !l.v6) flip(l.l3_off + 4), flip(l.l3_off + 8), flip(l.l3_off + 10);
  if (l.ip && l.v6) flip(l.l3_off + 3), flip(l.l3_off + 7);
  if (l.l4 && l.ip_proto == 6) {
    flip(l.l4_off + 5), flip(l.l4_off + 14);
    f[l.l4_off + 13] ^= static_cast<uint8_t>(r.chance(0.5) ? 0x08 : 0x01);  // PSH / FIN
  } else if (l.l4 && l.ip_proto == 17) {
    flip(l.l4_off + 6);
  } else if (l.l4) {
    flip(l.l4_off + 2);
  }
  const size_t end = headers_end(l, f);
  if (f.size() > end && l.ether_type != offload::kEtherArp) flip(end + r.below(f.size() - end));
  return changed;
}

// The frame with exactly one field the policy reads changed. False when there was none to
// change.
bool vary_one_key_field(test::Rng& r, Frame& f) {
  const FrameLayout l = frame_layout(f.data(), static_cast<uint32_t>(f.size()));
  if (!l.eth) return false;
  std::vector<int> choices = {0, 1};  // source MAC, destination MAC
  if (l.n_tags > 0) choices.push_back(2);
  if (l.ip) choices.push_back(3), choices.push_back(4), choices.push_back(9);
  if (l.l4 && (l.ip_proto == 6 || l.ip_proto == 17)) choices.push_back(5), choices.push_back(6);
  if (l.l4 && l.ip_proto == 6) choices.push_back(7);
  if (l.l4 && l.ip_proto != 6 && l.ip_proto != 17) choices.push_back(8);
  const Frame before = f;
  auto put = [&](size_t at, const uint8_t* v, size_t n) { std::copy(v, v + n, f.begin() + at); };
  auto put16 = [&](size_t at, uint16_t v) {
    f[at] = static_cast<uint8_t>(v >> 8);
    f[at + 1] = static_cast<uint8_t>(v);
  };
  for (int tries = 0; tries < 8 && f == before; ++tries) {
    switch (r.pick(choices)) {
      case 0:
        put(6, r.pick(test::kMacs).data(), 6);
        break;
      case 1:
        put(0, r.pick(test::kMacs).data(), 6);
        break;
      case 2:
        put16(14, static_cast<uint16_t>((f[14] & 0xf0) << 8 | r.pick(test::kVlans)));
        break;
      case 3:  // source address
        put(l.l3_off + (l.v6 ? 8u : 12u), r.pick(l.v6 ? test::kV6 : test::kV4).data(),
            l.v6 ? 16 : 4);
        break;
      case 4:  // destination address
        put(l.l3_off + (l.v6 ? 24u : 16u), r.pick(l.v6 ? test::kV6 : test::kV4).data(),
            l.v6 ? 16 : 4);
        break;
      case 5:
        put16(l.l4_off, r.pick(test::kL4Ports));
        break;
      case 6:
        put16(l.l4_off + 2, r.pick(test::kL4Ports));
        break;
      case 7:  // what `established` reads
        f[l.l4_off + 13] ^= r.chance(0.5) ? 0x10 : 0x04;
        break;
      case 8:  // ICMP type or code
        f[l.l4_off + (r.chance(0.5) ? 0u : 1u)] =
            static_cast<uint8_t>(r.pick(std::vector<uint16_t>{0, 1, 3, 8, 128, 129}));
        break;
      case 9:  // IP protocol (the layout may then find another L4, or none)
        f[l.l3_off + (l.v6 ? 6u : 9u)] =
            static_cast<uint8_t>(r.pick(std::vector<uint16_t>{1, 6, 17, 47, 58}));
        break;
    }
  }
  return f != before;
}

struct Checker {
  const offload::PolicySnapshot& policy;
  const Leases& leases;
  slowpath::VerdictCache& cache;
  size_t frames = 0, hits = 0;

  // The cached path against direct evaluation, ingress and (when admitted) egress at
  // every port. Returns the direct ingress verdict.
  offload::IngressVerdict check(uint16_t in_port, const Frame& f) {
    const auto* p = f.data();
    const auto len = static_cast<uint32_t>(f.size());
    const FrameLayout l = frame_layout(p, len);
    bool fresh = false;
    slowpath::CachedVerdict& v = cache.ingress(policy, in_port, l, p, len, &leases, &fresh);
    const offload::IngressVerdict direct =
        offload::evaluate_ingress(policy, in_port, l, p, len, &leases);
    ++frames;
    hits += !fresh;
    CHECK(same(v.in, direct));
    if (!direct.admit) return direct;
    // Twice per port: the second from the entry's egress slot.
    for (uint16_t out = 0; out < test::kPorts; ++out) {
      if (out == in_port) continue;
      const offload::EgressVerdict want =
          offload::evaluate_egress(policy, out, direct.vid, l, p, len);
      for (int i = 0; i < 2; ++i) {
        bool eg_fresh = false;
        CHECK(same(cache.egress(v, policy, out, l, p, len, &eg_fresh), want));
        if (i == 1) CHECK_FALSE(eg_fresh);
      }
    }
    return direct;
  }
};

Leases random_leases(test::Rng& r, const test::Scene& s) {
  Leases out;
  for (int i = 0; i < 4; ++i) {
    std::array<uint8_t, 4> ip;
    std::copy_n(r.pick(test::kV4).begin(), 4, ip.begin());
    out.set.insert({static_cast<uint16_t>(1 + r.below(test::kPorts - 1)),
                    s.policy.ports.empty() ? uint16_t{10} : r.pick(test::kVlans),
                    r.pick(test::kMacs), ip});
  }
  return out;
}

bool cacheable(uint16_t port, const Frame& f) {
  slowpath::FlowKey k;
  const auto len = static_cast<uint32_t>(f.size());
  return slowpath::flow_key(port, frame_layout(f.data(), len), f.data(), len, &k);
}

}  // namespace

TEST_CASE("verdict cache: cached verdicts equal direct evaluation on random scenes") {
  size_t frames = 0, hits = 0, same_key_pairs = 0, one_field_pairs = 0, differing = 0;
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    test::Rng r(seed);
    const test::Scene s = test::random_scene(r);
    const Leases leases = random_leases(r, s);
    // Small caches evict all the time; a big one mostly hits.
    slowpath::VerdictCache cache(seed % 3 == 0 ? 8 : 1024);
    Checker c{s.policy, leases, cache};
    std::vector<std::pair<uint16_t, Frame>> pool;
    for (int i = 0; i < 40; ++i) {
      const auto port = static_cast<uint16_t>(r.below(test::kPorts));
      pool.push_back({port, test::random_frame(r, s, port)});
    }
    for (int i = 0; i < 400; ++i) {
      const auto& [port, f] = pool[r.below(pool.size())];
      const offload::IngressVerdict first = c.check(port, f);
      if (r.chance(0.3)) {
        Frame g = f;
        if (vary_outside_key(r, g)) {
          ++same_key_pairs;
          const size_t hits_before = c.hits;
          const offload::IngressVerdict second = c.check(port, g);
          CHECK(cacheable(port, f) == cacheable(port, g));
          // Looked up just now: the variant finds the original's entry. (A bypassing
          // frame's verdict may depend on what was varied: an ND target, say.)
          if (cacheable(port, f)) {
            CHECK(same(first, second));
            CHECK(c.hits == hits_before + 1);
          }
        }
      }
      if (r.chance(0.3)) {
        Frame g = f;
        if (vary_one_key_field(r, g)) {
          ++one_field_pairs;
          const offload::IngressVerdict second = c.check(port, g);  // its own verdict
          differing += !same(first, second);
          slowpath::FlowKey kf, kg;
          const auto lf = frame_layout(f.data(), static_cast<uint32_t>(f.size()));
          const auto lg = frame_layout(g.data(), static_cast<uint32_t>(g.size()));
          if (slowpath::flow_key(port, lf, f.data(), static_cast<uint32_t>(f.size()), &kf) &&
              slowpath::flow_key(port, lg, g.data(), static_cast<uint32_t>(g.size()), &kg))
            CHECK_FALSE(kf == kg);
        }
      }
    }
    frames += c.frames;
    hits += c.hits;
  }
  MESSAGE(frames << " frames, " << hits << " cache hits, " << same_key_pairs << " same-key pairs, "
                 << one_field_pairs << " one-field pairs (" << differing
                 << " with another verdict)");
  CHECK(hits > frames / 4);  // the cache is really used
  CHECK(same_key_pairs > 1000);
  CHECK(differing > 100);  // one changed field often decides
}

TEST_CASE("verdict cache: ARP, ND, DHCP and frames without a whole IP header bypass it") {
  test::Rng r(7);
  const test::Scene s = test::random_scene(r);
  auto frame = [](uint16_t type, std::vector<uint8_t> l3) {
    Frame f = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
    f.push_back(static_cast<uint8_t>(type >> 8));
    f.push_back(static_cast<uint8_t>(type));
    f.insert(f.end(), l3.begin(), l3.end());
    f.resize(std::max<size_t>(f.size(), 60), 0);
    return f;
  };
  std::vector<uint8_t> ip4 = {0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
  auto udp4 = [&](uint16_t sport, uint16_t dport) {
    auto b = ip4;
    b.insert(b.end(), {static_cast<uint8_t>(sport >> 8), static_cast<uint8_t>(sport),
                       static_cast<uint8_t>(dport >> 8), static_cast<uint8_t>(dport), 0, 8, 0, 0});
    return frame(0x0800, b);
  };
  std::vector<uint8_t> ip6(40, 0);
  ip6[0] = 0x60;
  ip6[6] = 58;
  auto icmp6 = [&](uint8_t type) {
    auto b = ip6;
    b.insert(b.end(), {type, 0, 0, 0});
    b.resize(b.size() + 20, 0);
    return frame(0x86dd, b);
  };
  CHECK(cacheable(1, udp4(1000, 2000)));
  CHECK(cacheable(1, icmp6(128)));  // echo request
  CHECK_FALSE(cacheable(1, frame(0x0806, std::vector<uint8_t>(28, 1))));
  CHECK_FALSE(cacheable(1, udp4(68, 67)));
  CHECK_FALSE(cacheable(1, udp4(67, 68)));
  CHECK_FALSE(cacheable(1, udp4(5000, 67)));
  for (uint8_t nd = 133; nd <= 137; ++nd) CHECK_FALSE(cacheable(1, icmp6(nd)));
  Frame bad_ihl = udp4(1000, 2000);
  bad_ihl[14] = 0x44;
  CHECK_FALSE(cacheable(1, bad_ihl));
  CHECK_FALSE(cacheable(1, Frame(13, 0)));
  CHECK(cacheable(1, frame(0x88b5, {1, 2, 3})));  // MAC ACLs read only the L2 header

  // Bypassing frames still get direct verdicts, and are counted.
  const Leases none;
  slowpath::VerdictCache cache(64);
  Checker c{s.policy, none, cache};
  for (uint16_t port = 0; port < test::kPorts; ++port) {
    c.check(port, frame(0x0806, std::vector<uint8_t>(28, 1)));
    c.check(port, udp4(68, 67));
    c.check(port, icmp6(136));
  }
  CHECK(cache.stats().bypassed.load() == 3 * test::kPorts);
  CHECK(c.hits == 0);
}

TEST_CASE("verdict cache: a policy change and a lease change take effect once invalidated") {
  offload::PolicySnapshot pol;
  pol.generation = 1;
  pol.vlans.set(10);
  pol.ports.resize(3);
  pol.ports[0] = offload::uplink_port_policy();
  pol.ports[1] = offload::access_port_policy(1, 10, "vEthernet1");
  pol.ports[2] = offload::access_port_policy(2, 10, "vEthernet2");
  pol.ports[1].cfg.ip_verify_source = true;
  const test::Mac src = test::kMacs[0];
  Frame f = {0x02, 0, 0,  0,  0, 2, src[0], src[1], src[2], src[3], src[4], src[5], 0x08, 0x00,
             0x45, 0, 0,  28, 0, 1, 0,      0,      64,     17,     0,      0,      10,   0,
             0,    7, 10, 0,  0, 2, 0x13,   0x88,   0x13,   0x89,   0,      8,      0,    0};
  f.resize(60, 0);
  const FrameLayout l = frame_layout(f.data(), static_cast<uint32_t>(f.size()));
  Leases leases;
  slowpath::VerdictCache cache(16);
  auto ingress = [&](const offload::PolicySnapshot& p) {
    bool fresh = false;
    return cache.ingress(p, 1, l, f.data(), static_cast<uint32_t>(f.size()), &leases, &fresh).in;
  };

  // Unbound source: dropped by IP source guard, and cached so.
  CHECK(ingress(pol).reason == offload::DropReason::ip_source_guard);
  leases.set.insert({1, 10, src, {10, 0, 0, 7}});
  CHECK(ingress(pol).reason == offload::DropReason::ip_source_guard);  // stale until told
  cache.invalidate();
  CHECK(ingress(pol).admit);
  leases.set.clear();
  cache.invalidate();
  CHECK_FALSE(ingress(pol).admit);

  // A new policy: the source bound in the snapshot, then an ACL that denies the flow.
  offload::PolicySnapshot pol2 = pol;
  pol2.generation = 2;
  vsm::SourceBinding b;
  b.mac = src;
  b.ip = {10, 0, 0, 7};
  b.vlan = 10;
  pol2.ports[1].cfg.source_bindings.push_back(b);
  cache.invalidate();
  CHECK(ingress(pol2).admit);
  offload::PolicySnapshot pol3 = pol2;
  pol3.generation = 3;
  vsm::ResolvedAcl acl;
  acl.name = "deny-5000";
  acl.family = vsm::AclFamily::ipv4;
  vsm::ResolvedAce deny;
  deny.seq = 10;
  deny.permit = false;
  deny.protocol = 17;
  deny.src_port.op = vsm::PortMatch::Op::eq;
  deny.src_port.lo = 5000;
  acl.entries.push_back(deny);
  pol3.ports[1].cfg.ip_acl_in = acl;
  cache.invalidate();
  const offload::IngressVerdict denied = ingress(pol3);
  CHECK(denied.reason == offload::DropReason::acl);
  REQUIRE(denied.n_hits == 1);
  CHECK(denied.hits[0].acl == &*pol3.ports[1].cfg.ip_acl_in);
  CHECK(denied.hits[0].seq == 10);
  CHECK(cache.stats().invalidations.load() == 4);
}

TEST_CASE("verdict cache: a full cache evicts and every verdict stays right") {
  test::Rng r(99);
  test::Scene s = test::random_scene(r);
  const Leases none;
  slowpath::VerdictCache cache(4);
  CHECK(cache.capacity() == 4);
  Checker c{s.policy, none, cache};
  // 64 distinct cacheable flows, cycled: far more than fit.
  std::vector<std::pair<uint16_t, Frame>> flows;
  std::set<std::vector<uint64_t>> keys;
  while (flows.size() < 64) {
    const auto port = static_cast<uint16_t>(r.below(test::kPorts));
    Frame f = test::random_frame(r, s, port);
    slowpath::FlowKey k;
    const auto len = static_cast<uint32_t>(f.size());
    if (!slowpath::flow_key(port, frame_layout(f.data(), len), f.data(), len, &k)) continue;
    if (!keys.insert(std::vector<uint64_t>(k.w.begin(), k.w.end())).second) continue;
    flows.push_back({port, std::move(f)});
  }
  for (int round = 0; round < 5; ++round)
    for (const auto& [port, f] : flows) c.check(port, f);
  CHECK(cache.stats().evictions.load() > 0);
  // Two flows that fit stay cached however often they alternate.
  const size_t hits_before = c.hits;
  for (int i = 0; i < 10; ++i) c.check(flows[0].first, flows[0].second);
  CHECK(c.hits >= hits_before + 9);
}
