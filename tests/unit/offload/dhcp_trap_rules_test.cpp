// DHCP snooping's rules (offload/rule_compiler.cpp): while a vEthernet snoops, server
// replies (UDP 67 -> 68) from the trusted uplink go to the slow path ahead of the
// learned-MAC rules that would switch them in hardware, and a snooping port's client
// messages (UDP 68 -> 67: RELEASE, DECLINE) do too, ahead of its bound sources'
// admission; a bound source is admitted in the NIC only with its MAC learned on its port.
// Checked in the sim's table with real frames.
#include <doctest/doctest.h>

#include <algorithm>

#include "drivers/sim/sim_flow_table.h"
#include "offload/rte_flow_rule.h"
#include "offload/rule_compiler.h"

using namespace vfs;
using namespace vfs::offload;
namespace sim = vfs::drivers::sim;

namespace {

const Mac kVm{0x02, 0, 0, 0, 0, 0x0a};
const Mac kServer{0x02, 0, 0, 0, 0, 0xee};

PolicySnapshot policy(bool snooping) {
  PolicySnapshot s;
  s.generation = 1;
  s.vlans.set(10);
  s.ports.resize(3);
  s.ports[0] = uplink_port_policy();
  s.ports[0].traps_dhcp_replies = snooping;
  s.ports[1] = access_port_policy(1, 10, "vEthernet1");
  s.ports[1].cfg.ip_verify_source = snooping;
  vsm::SourceBinding b;
  b.ip = {10, 0, 0, 50};
  b.mac = kVm;
  b.vlan = 10;
  b.dhcp_snooped = true;
  s.ports[1].cfg.source_bindings.push_back(b);
  s.ports[2] = access_port_policy(2, 10, "vEthernet2");
  return s;
}

std::vector<CompiledRule> compile(const PolicySnapshot& s) {
  std::vector<CompiledRule> rules;
  for (uint16_t p = 0; p < s.ports.size(); ++p) compile_port_rules(s, p, rules);
  compile_learned_mac(s, {10, kVm, 1}, rules);
  compile_learned_mac(s, {10, kServer, 0}, rules);
  return rules;
}

// Ethernet [802.1Q vid] / IPv4 src -> dst / UDP sport -> dport / 240 bytes.
std::vector<uint8_t> udp(const Mac& dst, const Mac& src, int vid,
                         const std::array<uint8_t, 4>& ip_src, uint16_t sport, uint16_t dport) {
  std::vector<uint8_t> f(dst.begin(), dst.end());
  f.insert(f.end(), src.begin(), src.end());
  if (vid >= 0) f.insert(f.end(), {0x81, 0x00, 0, static_cast<uint8_t>(vid)});
  const uint16_t total = 20 + 8 + 240;
  f.insert(f.end(), {0x08, 0x00, 0x45, 0, static_cast<uint8_t>(total >> 8),
                     static_cast<uint8_t>(total), 0, 0, 0, 0, 64, 17, 0, 0});
  f.insert(f.end(), ip_src.begin(), ip_src.end());
  f.insert(f.end(), {10, 0, 0, 1});
  f.insert(f.end(), {static_cast<uint8_t>(sport >> 8), static_cast<uint8_t>(sport),
                     static_cast<uint8_t>(dport >> 8), static_cast<uint8_t>(dport), 0, 248, 0, 0});
  f.resize(f.size() + 240);
  return f;
}

sim::Verdict classify(sim::FlowTable& t, uint16_t in_port, const std::vector<uint8_t>& frame) {
  static std::vector<uint8_t> buf;
  buf.assign(256 + frame.size(), 0);
  std::copy(frame.begin(), frame.end(), buf.begin() + 128);
  sim::PacketBuffer pkt{buf.data() + 128, static_cast<uint32_t>(frame.size()), 128};
  return t.classify(in_port, pkt);
}

bool to_representor(const sim::Verdict& v, uint16_t port) {
  return v.kind == sim::Verdict::Kind::forward && v.n_out == 1 &&
         v.out[0].kind == sim::Destination::Kind::representor && v.out[0].port == port;
}

std::unique_ptr<sim::FlowTable> install(const std::vector<CompiledRule>& rules) {
  auto t = sim::FlowTable::make({0, 1, 2}, {});
  REQUIRE(t.ok());
  for (const auto& c : rules) {
    RteFlowRule rf(c.spec);
    auto h = t.value()->create(rf.attr(), rf.pattern(), rf.actions());
    INFO(testpmd_text(c.spec, 0));
    REQUIRE(h.ok());
  }
  return std::move(t.value());
}

}  // namespace

TEST_CASE(
    "the uplink traps DHCP server replies to the slow path only while some vEthernet snoops") {
  for (bool snooping : {false, true}) {
    INFO("snooping ", snooping);
    const auto s = policy(snooping);
    std::vector<CompiledRule> uplink;
    compile_port_rules(s, 0, uplink);
    if (!snooping) {
      CHECK(uplink.empty());
      continue;
    }
    REQUIRE(uplink.size() == 1);
    const RuleSpec& r = uplink[0].spec;
    CHECK(uplink[0].veth == 0);
    CHECK(r.group == kGroupIngress);
    CHECK(r.priority == 0);
    CHECK(r.match.in_port == 0);
    CHECK(r.match.l3 == 4);
    CHECK(r.match.ip_proto == 17);
    CHECK(r.match.l4_src == U16Match{67, 0xffff});
    CHECK(r.match.l4_dst == U16Match{68, 0xffff});
    CHECK(r.actions == ActionList{act_count(), act_to_slow_path(0)});
  }
}

TEST_CASE("in the NIC: an ACK to a known VM goes to the slow path, not to the VM, while snooping") {
  const Mac bcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  for (bool snooping : {false, true}) {
    INFO("snooping ", snooping);
    auto t = install(compile(policy(snooping)));
    const auto ack = udp(kVm, kServer, 10, {10, 0, 0, 254}, 67, 68);
    const sim::Verdict v = classify(*t, 0, ack);
    if (snooping) {
      CHECK(to_representor(v, 0));
    } else {  // switched to the VM in hardware
      REQUIRE(v.kind == sim::Verdict::Kind::forward);
      CHECK(v.out[0].kind == sim::Destination::Kind::wire);
      CHECK(v.out[0].port == 1);
    }
    // Other traffic from the server is still switched in hardware.
    const sim::Verdict other = classify(*t, 0, udp(kVm, kServer, 10, {10, 0, 0, 254}, 53, 68));
    REQUIRE(other.kind == sim::Verdict::Kind::forward);
    CHECK(other.out[0].kind == sim::Destination::Kind::wire);
    if (!snooping) continue;
    // The client's RELEASE from its bound address reaches the slow path, where the
    // binding's admission rule would otherwise send it on; its other traffic does not.
    CHECK(to_representor(classify(*t, 1, udp(kServer, kVm, -1, {10, 0, 0, 50}, 68, 67)), 1));
    CHECK(to_representor(classify(*t, 1, udp(bcast, kVm, -1, {0, 0, 0, 0}, 68, 67)), 1));
    const sim::Verdict data = classify(*t, 1, udp(kServer, kVm, -1, {10, 0, 0, 50}, 1000, 2000));
    REQUIRE(data.kind == sim::Verdict::Kind::forward);
    CHECK(data.out[0].kind == sim::Destination::Kind::wire);
    CHECK(data.out[0].port == 0);
  }
}

TEST_CASE(
    "in the NIC: a bound source is admitted only once its MAC is learned on its port; until "
    "then, and after a move or err-disable forgets it, it goes to the slow path") {
  const auto s = policy(true);  // vEthernet1 (port 1): ip verify source, 10.0.0.50 bound to kVm
  const Mac other{0x02, 0, 0, 0, 0, 0x0b};
  const auto bound_frame = udp(kServer, kVm, -1, {10, 0, 0, 50}, 1000, 2000);
  const auto unbound_ip = udp(kServer, kVm, -1, {10, 0, 0, 51}, 1000, 2000);

  std::vector<CompiledRule> ports_only;
  for (uint16_t p = 0; p < s.ports.size(); ++p) compile_port_rules(s, p, ports_only);
  compile_learned_mac(s, {10, kServer, 0}, ports_only);

  SUBCASE("not learned: the slow path sees it (port security counts it, the FDB learns it)") {
    auto t = install(ports_only);
    CHECK(to_representor(classify(*t, 1, bound_frame), 1));
    CHECK(classify(*t, 1, unbound_ip).kind == sim::Verdict::Kind::drop);
  }
  SUBCASE("learned on its port: switched in hardware to the server") {
    auto rules = ports_only;
    compile_learned_mac(s, {10, kVm, 1}, rules);
    auto t = install(rules);
    const sim::Verdict v = classify(*t, 1, bound_frame);
    REQUIRE(v.kind == sim::Verdict::Kind::forward);
    CHECK(v.out[0].kind == sim::Destination::Kind::wire);
    CHECK(v.out[0].port == 0);
    CHECK(classify(*t, 1, unbound_ip).kind == sim::Verdict::Kind::drop);
  }
  SUBCASE("another MAC learned on the port does not admit the binding's source") {
    auto rules = ports_only;
    compile_learned_mac(s, {10, other, 1}, rules);
    auto t = install(rules);
    CHECK(to_representor(classify(*t, 1, bound_frame), 1));
  }
  SUBCASE("the binding's MAC learned on another port admits nothing here") {
    auto rules = ports_only;
    compile_learned_mac(s, {10, kVm, 2}, rules);
    auto t = install(rules);
    CHECK(to_representor(classify(*t, 1, bound_frame), 1));
  }
}
