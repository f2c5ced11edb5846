// Differential test (issue 5): random vEthernet policies (access and trunk ports, IPv4,
// IPv6 and MAC ACLs in and out, SPAN) compiled into the sim's rule table, and random
// frames (VLAN oddities, fragments, truncations included) sent through both that table
// and the slow path's evaluators. Wherever the rules decide (no miss), the verdict —
// drop, or the output port, the frame's exact bytes and the mirror copies — must equal
// the slow path's.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>

#include "drivers/sim/sim_flow_table.h"
#include "offload/frame_layout.h"
#include "offload/policy_eval.h"
#include "offload/rte_flow_rule.h"
#include "offload/rule_compiler.h"
#include "policy_scene.h"

using namespace vfs;
using namespace vfs::offload;
namespace sim = vfs::drivers::sim;

namespace {

using namespace vfs::test;

std::unique_ptr<sim::FlowTable> install(const Scene& s, std::vector<CompiledRule>& rules) {
  std::vector<uint16_t> ids;
  for (uint16_t i = 0; i < kPorts; ++i) ids.push_back(i);
  auto t = sim::FlowTable::make(ids, {});
  REQUIRE(t.ok());
  auto table = std::move(t.value());
  for (uint16_t p = 0; p < kPorts; ++p) compile_port_rules(s.policy, p, rules);
  for (const auto& e : s.learned) compile_learned_mac(s.policy, e, rules);
  for (const auto& c : rules) {
    RteFlowRule rf(c.spec);
    auto h = table->create(rf.attr(), rf.pattern(), rf.actions());
    INFO(testpmd_text(c.spec, 0));
    REQUIRE_MESSAGE(h.ok(), (h.ok() ? std::string() : h.error().message));
  }
  return table;
}

// The bytes the slow path would send: the frame as received, re-tagged for out.
std::vector<uint8_t> slow_output(const std::vector<uint8_t>& in, const FrameLayout& l, uint16_t vid,
                                 bool untag) {
  std::vector<uint8_t> out(in.begin(), in.begin() + 12);
  const size_t rest = 12 + 4 * l.n_tags;
  if (!untag) {
    out.push_back(0x81), out.push_back(0x00);
    out.push_back(static_cast<uint8_t>(vid >> 8)), out.push_back(static_cast<uint8_t>(vid));
  }
  out.insert(out.end(), in.begin() + static_cast<long>(rest), in.end());
  return out;
}

}  // namespace

TEST_CASE("the installed rules and the slow path reach the same verdict, frame for frame") {
  Rng r(0x5eed);
  size_t compared = 0, dropped = 0, forwarded = 0, mirrored = 0, missed = 0, acl_decided = 0,
         guarded = 0;
  for (int scene_no = 0; scene_no < 150; ++scene_no) {
    Scene s = random_scene(r);
    std::vector<CompiledRule> rules;
    auto table = install(s, rules);
    for (int i = 0; i < 400; ++i) {
      const uint16_t in_port = static_cast<uint16_t>(r.below(kPorts));
      std::vector<uint8_t> frame = random_frame(r, s, in_port);
      std::vector<uint8_t> buf(256 + frame.size());
      std::copy(frame.begin(), frame.end(), buf.begin() + 128);
      sim::PacketBuffer pkt{buf.data() + 128, static_cast<uint32_t>(frame.size()), 128};
      const sim::Verdict hw = table->classify(in_port, pkt);
      if (hw.kind == sim::Verdict::Kind::miss ||
          (hw.kind == sim::Verdict::Kind::forward &&
           hw.out[0].kind == sim::Destination::Kind::representor)) {
        ++missed;
        continue;
      }
      ++compared;
      const FrameLayout l = frame_layout(frame.data(), static_cast<uint32_t>(frame.size()));
      const IngressVerdict in =
          evaluate_ingress(s.policy, in_port, l, frame.data(), static_cast<uint32_t>(frame.size()));
      INFO("scene ", scene_no, " frame ", i, " in_port ", in_port, " len ", frame.size());
      // SPAN rx: what passed the input policy and has a destination other than its own
      // port is copied once, as received (the egress verdict does not matter).
      std::multiset<uint16_t> want_mirrors, got_mirrors;
      std::optional<uint16_t> out_port;
      EgressVerdict eg;
      bool slow_drop = !in.admit;
      if (in.admit) {
        Mac dmac;
        std::copy(frame.begin(), frame.begin() + 6, dmac.begin());
        auto it = s.fdb.find({in.vid, dmac});
        REQUIRE_MESSAGE(it != s.fdb.end(), "the rules forwarded a frame to an unknown destination");
        if (it->second == in_port) {
          slow_drop = true;
        } else {
          for (uint16_t m : s.policy.ports[in_port].mirror_rx) want_mirrors.insert(m);
          eg = evaluate_egress(s.policy, it->second, in.vid, l, frame.data(),
                               static_cast<uint32_t>(frame.size()));
          if (eg.deliver) {
            out_port = it->second;
            for (uint16_t m : s.policy.ports[it->second].mirror_tx) want_mirrors.insert(m);
          } else {
            slow_drop = true;
          }
        }
      }
      if (in.n_hits > 0 || eg.n_hits > 0) ++acl_decided;
      if (!in.admit &&
          (in.reason == DropReason::ip_source_guard || in.reason == DropReason::dhcp_snooping))
        ++guarded;
      for (uint8_t k = 0; k < hw.n_mirror; ++k) {
        got_mirrors.insert(hw.mirror[k].to.port);
        // rx copies are the frame as the VM sent it; tx copies as delivered.
        std::vector<uint8_t> copy(
            sim::mirror_length(hw.mirror[k], static_cast<uint32_t>(frame.size())));
        sim::copy_mirror(hw.mirror[k], frame.data(), static_cast<uint32_t>(frame.size()),
                         copy.data());
        const bool rx_copy =
            std::count(s.policy.ports[in_port].mirror_rx.begin(),
                       s.policy.ports[in_port].mirror_rx.end(), hw.mirror[k].to.port) > 0;
        if (rx_copy && in.admit && !in.tagged) CHECK(copy == frame);
      }
      CHECK(want_mirrors == got_mirrors);
      if (!want_mirrors.empty()) ++mirrored;
      if (hw.kind == sim::Verdict::Kind::drop) {
        ++dropped;
        CHECK_MESSAGE(slow_drop, "the rules dropped a frame the slow path would forward");
        continue;
      }
      ++forwarded;
      REQUIRE_MESSAGE(!slow_drop, "the rules forwarded a frame the slow path would drop, reason ",
                      drop_reason_name(in.admit ? eg.reason : in.reason));
      REQUIRE(hw.n_out == 1);
      CHECK(hw.out[0].port == *out_port);
      const std::vector<uint8_t> want = slow_output(frame, l, in.vid, eg.untag);
      const std::vector<uint8_t> got(pkt.data, pkt.data + pkt.len);
      CHECK(want == got);
    }
  }
  MESSAGE("compared ", compared, " (dropped ", dropped, ", forwarded ", forwarded, ", mirrored ",
          mirrored, "), missed ", missed, ", decided by an ACL ", acl_decided,
          ", by the source guard ", guarded);
  CHECK(dropped > 1000);
  CHECK(forwarded > 1000);
  CHECK(mirrored > 50);
  CHECK(acl_decided > 2000);
  CHECK(guarded > 500);
}
