// slowpath/flow_template.h: a frame the template of another matches is the same frame to
// the policy — same layout, same verdict-cache key, same ingress and egress verdicts on
// random scenes — and a change to anything the policy reads breaks the match, while the
// fields it never reads (IPv4 ID, TTL, checksums, TCP sequence numbers and flags but
// ACK/RST, the payload) do not.
#include <doctest/doctest.h>

#include <vector>

#include "offload/frame_layout.h"
#include "offload/policy_eval.h"
#include "slowpath/flow_template.h"
#include "slowpath/verdict_cache.h"
#include "tests/unit/offload/policy_scene.h"
#include "verdict_equal.h"

using namespace vfs;

// Named, not anonymous: the test files of a module are compiled in unity batches.
namespace vfs::flow_template_test {

using offload::frame_layout;
using offload::FrameLayout;
using test::same;
using Frame = std::vector<uint8_t>;

uint32_t size32(const Frame& f) { return static_cast<uint32_t>(f.size()); }

bool same_layout(const FrameLayout& a, const FrameLayout& b) {
  return a.eth == b.eth && a.n_tags == b.n_tags && a.tpid0 == b.tpid0 && a.vid0 == b.vid0 &&
         a.ether_type == b.ether_type && a.l3_off == b.l3_off && a.ip == b.ip && a.v6 == b.v6 &&
         a.ip_proto == b.ip_proto && a.l4 == b.l4 && a.l4_off == b.l4_off;
}

// The frame with a field the policy never reads changed (what a flow's next frame does).
// False when it has none.
bool vary_unread(test::Rng& r, Frame& f) {
  const FrameLayout l = frame_layout(f.data(), size32(f));
  const Frame before = f;
  auto flip = [&](size_t at) {
    if (at < f.size()) f[at] ^= static_cast<uint8_t>(1 + r.below(255));
  };
  if (l.ip && !l.v6) flip(l.l3_off + 4), flip(l.l3_off + 8), flip(l.l3_off + 11);
  if (l.ip && l.v6) flip(l.l3_off + 7);
  if (l.l4 && l.ip_proto == 6) {
    flip(l.l4_off + 4 + r.below(8));  // seq, ack
    f[l.l4_off + 13] ^= static_cast<uint8_t>(r.pick(std::vector<uint16_t>{0x01, 0x02, 0x08}));
    flip(l.l4_off + 16);  // checksum
  } else if (l.l4 && l.ip_proto == 17) {
    flip(l.l4_off + 6);  // checksum
  }
  const size_t payload = l.l4_off + (l.ip_proto == 6 ? 20u : 8u);
  if (l.l4 && f.size() > payload) flip(payload + r.below(f.size() - payload));
  return f != before;
}

struct Decision {
  offload::IngressVerdict in;
  std::vector<offload::EgressVerdict> eg;  // per port
};

Decision decide(const offload::PolicySnapshot& pol, uint16_t port, const Frame& f) {
  const FrameLayout l = frame_layout(f.data(), size32(f));
  Decision d;
  d.in = offload::evaluate_ingress(pol, port, l, f.data(), size32(f), nullptr);
  for (uint16_t out = 0; out < test::kPorts; ++out)
    d.eg.push_back(offload::evaluate_egress(pol, out, d.in.vid, l, f.data(), size32(f)));
  return d;
}

TEST_CASE("flow template: what it matches, the policy decides alike; what it refuses differs") {
  size_t templates = 0, matched_unread = 0, matched_flips = 0, refused_flips = 0;
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    test::Rng r(seed);
    const test::Scene s = test::random_scene(r);
    for (int i = 0; i < 60; ++i) {
      const auto port = static_cast<uint16_t>(r.below(test::kPorts));
      Frame f = test::random_frame(r, s, port);
      if (r.chance(0.3)) f.resize(f.size() + r.below(40), 0x5a);
      const FrameLayout lf = frame_layout(f.data(), size32(f));
      slowpath::FlowKey kf;
      if (!slowpath::flow_key(port, lf, f.data(), size32(f), &kf)) continue;
      slowpath::FlowTemplate t;
      if (!t.build(lf, f.data(), size32(f))) continue;
      ++templates;
      CHECK(t.matches(f.data(), size32(f)));
      const Decision df = decide(s.policy, port, f);
      // Another length never matches (the layout's checks read it).
      Frame longer = f;
      longer.push_back(0);
      CHECK_FALSE(t.matches(longer.data(), size32(longer)));

      for (int v = 0; v < 6; ++v) {
        Frame g = f;
        const bool unread = v < 2 ? vary_unread(r, g) : false;
        if (!unread) {
          // One to three random bytes anywhere in the headers.
          for (uint64_t k = 0, n = 1 + r.below(3); k < n; ++k)
            g[r.below(std::min<size_t>(g.size(), 80))] ^= static_cast<uint8_t>(1 + r.below(255));
        }
        const bool match = t.matches(g.data(), size32(g));
        if (unread) {
          CHECK(match);
          matched_unread += match;
        }
        if (!match) {
          ++refused_flips;
          continue;
        }
        matched_flips += !unread;
        const FrameLayout lg = frame_layout(g.data(), size32(g));
        CHECK(same_layout(lf, lg));
        slowpath::FlowKey kg;
        CHECK(slowpath::flow_key(port, lg, g.data(), size32(g), &kg));
        CHECK(kf == kg);
        const Decision dg = decide(s.policy, port, g);
        CHECK(same(df.in, dg.in));
        for (size_t out = 0; out < df.eg.size(); ++out) CHECK(same(df.eg[out], dg.eg[out]));
      }
    }
  }
  MESSAGE(templates << " templates; " << matched_unread << " unread-field variants matched, "
                    << matched_flips << " random-byte variants matched, " << refused_flips
                    << " refused");
  CHECK(templates > 2000);
  CHECK(matched_unread > 1000);
  CHECK(matched_flips > 100);  // bytes the policy does not read were hit too
  CHECK(refused_flips > 1000);
}

TEST_CASE("flow template: the longest headers, and a frame too short for its words") {
  // TCP in IPv4 with 40 bytes of options behind four tags: all that the layout reads.
  Frame f(14 + 16 + 60 + 20, 0);
  for (int t = 0; t < 4; ++t) f[12 + 4 * t] = 0x81, f[13 + 4 * t] = 0x00, f[15 + 4 * t] = 10;
  f[28] = 0x08, f[29] = 0x00;
  f[30] = 0x4f, f[39] = 6;
  const FrameLayout l = frame_layout(f.data(), size32(f));
  REQUIRE(l.l4);
  slowpath::FlowTemplate t;
  REQUIRE(t.build(l, f.data(), size32(f)));
  CHECK(t.compared_bytes() == slowpath::FlowTemplate::kMaxWords * 8);
  Frame g = f;
  g[90 + 13] ^= 0x10;  // ACK, at the last byte read
  CHECK_FALSE(t.matches(g.data(), size32(g)));
  g = f;
  g[90 + 13] ^= 0x08;  // PSH: not read
  CHECK(t.matches(g.data(), size32(g)));

  // A bare Ethernet header with an unknown EtherType: 14 bytes read, 16 compared, and the
  // frame has just 14.
  Frame e(14, 0x11);
  e[12] = 0x12, e[13] = 0x34;
  CHECK_FALSE(t.build(frame_layout(e.data(), size32(e)), e.data(), size32(e)));
  CHECK_FALSE(t.matches(f.data(), size32(f)));  // a failed build matches nothing
  e.resize(16, 0);
  CHECK(t.build(frame_layout(e.data(), size32(e)), e.data(), size32(e)));
  CHECK(t.compared_bytes() == 16);
}

}  // namespace vfs::flow_template_test
