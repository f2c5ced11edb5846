// What the sim's VF ports enforce, frame by frame and on a manual clock: spoof checking,
// port VLAN push / check / strip (802.1Q and 802.1ad), link state, max tx rate, VF
// counters; and the VfAdmin face: validation, round trip, eSwitch mode.
#include <doctest/doctest.h>

#include <mutex>

#include "drivers/sim/sim_vf_admin.h"
#include "drivers/sim/sim_vf_ports.h"
#include "sim_packet_builder.h"

using namespace vfs::drivers;
using namespace vfs::drivers::sim;
using namespace vfs::test;

namespace {

const Mac kPortsMacA = {0x02, 0, 0, 0, 0x77, 0x0a};
const Mac kPortsMacB = {0x02, 0, 0, 0, 0x77, 0x0b};
const Mac kPortsBcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const Mac kMcast = {0x01, 0x00, 0x5e, 0, 0, 1};

std::vector<uint8_t> frame(const Mac& src, size_t len = 60, const Mac& dst = kPortsMacB) {
  return PacketBuilder().eth(dst, src, 0x88b5).pad(len - 14).bytes();
}

std::vector<uint8_t> tagged(const Mac& src, uint16_t tpid, uint16_t tci) {
  return PacketBuilder().eth(kPortsMacB, src, tpid).vlan(tci, 0x88b5).pad(46).bytes();
}

struct Ports {
  vfs::ManualClock clock;
  VfPorts vfs{2, clock};

  SimCounter send(int vf, const std::vector<uint8_t>& f, std::vector<uint8_t>* out = nullptr,
                  uint32_t headroom = 64) {
    TestFrame t(f, headroom);
    const SimCounter c = vfs.from_vf(vf, t.buffer());
    if (out) *out = t.bytes();
    return c;
  }
  SimCounter receive(int vf, const std::vector<uint8_t>& f, std::vector<uint8_t>* out = nullptr) {
    TestFrame t(f);
    const SimCounter c = vfs.to_vf(vf, t.buffer());
    if (out) *out = t.bytes();
    return c;
  }
};

constexpr SimCounter kGoes = SimCounter::count_;

}  // namespace

TEST_CASE("sim VF ports: by default every frame passes and is counted") {
  Ports p;
  std::vector<uint8_t> out;
  CHECK(p.send(0, frame(kPortsMacA), &out) == kGoes);
  CHECK(out == frame(kPortsMacA));
  CHECK(p.receive(1, frame(kPortsMacB), &out) == kGoes);
  CHECK(out == frame(kPortsMacB));
  p.vfs.delivered(1, 60, VfPorts::cast_of(out.data(), 60));
  const VfInfo a = p.vfs.info(0), b = p.vfs.info(1);
  CHECK(a.stats->tx_packets == 1);
  CHECK(a.stats->tx_bytes == 60);
  CHECK(b.stats->rx_packets == 1);
  CHECK(b.stats->rx_bytes == 60);
  CHECK(a.spoofchk == false);
  CHECK(a.link_state == VfLinkState::automatic);
}

TEST_CASE("sim VF ports: spoofchk drops frames whose source is not the VF's MAC") {
  Ports p;
  p.vfs.set_spoofchk(0, true);
  CHECK(p.send(0, frame(kPortsMacB)) == kGoes);  // no MAC yet: nothing to check against
  p.vfs.set_mac(0, kPortsMacA);
  CHECK(p.send(0, frame(kPortsMacB)) == SimCounter::drop_vf_spoof);
  CHECK(p.send(0, frame(kPortsMacA)) == kGoes);
  CHECK(p.send(0, std::vector<uint8_t>(10, 0)) == SimCounter::drop_vf_spoof);  // runt
  p.vfs.set_spoofchk(0, false);
  CHECK(p.send(0, frame(kPortsMacB)) == kGoes);
  const VfStats s = *p.vfs.info(0).stats;
  CHECK(s.tx_packets == 3);
  CHECK(s.tx_dropped == 2);
  CHECK(p.vfs.info(0).mac == kPortsMacA);
}

TEST_CASE("sim VF ports: a port VLAN is pushed on send, required and stripped on receive") {
  Ports p;
  SUBCASE("802.1ad with a priority") {
    p.vfs.set_vlan(0, VfVlan{100, 3, VlanProto::dot1ad});
    std::vector<uint8_t> out;
    CHECK(p.send(0, frame(kPortsMacA), &out) == kGoes);
    CHECK(out == tagged(kPortsMacA, 0x88a8, 3 << 13 | 100));
    // Already tagged by the VM: refused.
    CHECK(p.send(0, tagged(kPortsMacA, 0x8100, 7)) == SimCounter::drop_vf_vlan);
    // Toward the VF: its VLAN is removed; any other tag, or none, is refused.
    CHECK(p.receive(0, tagged(kPortsMacB, 0x88a8, 100), &out) == kGoes);
    CHECK(out == frame(kPortsMacB));
    CHECK(p.receive(0, tagged(kPortsMacB, 0x8100, 100)) == SimCounter::drop_vf_vlan);
    CHECK(p.receive(0, tagged(kPortsMacB, 0x88a8, 101)) == SimCounter::drop_vf_vlan);
    CHECK(p.receive(0, frame(kPortsMacB)) == SimCounter::drop_vf_vlan);
    const VfStats s = *p.vfs.info(0).stats;
    CHECK(s.tx_dropped == 1);
    CHECK(s.rx_dropped == 3);
  }
  SUBCASE("no headroom for the tag") {
    p.vfs.set_vlan(0, VfVlan{5, 0, VlanProto::dot1q});
    CHECK(p.send(0, frame(kPortsMacA), nullptr, 2) == SimCounter::drop_no_headroom);
    CHECK(p.send(0, std::vector<uint8_t>(8, 0)) == SimCounter::drop_edit_failed);
  }
  SUBCASE("VLAN 0 with no priority is no VLAN") {
    p.vfs.set_vlan(0, VfVlan{});
    std::vector<uint8_t> out;
    CHECK(p.send(0, tagged(kPortsMacA, 0x8100, 7), &out) == kGoes);
    CHECK(out == tagged(kPortsMacA, 0x8100, 7));
  }
  CHECK(p.vfs.info(1).vlan == VfVlan{});
}

TEST_CASE("sim VF ports: link state disable drops both ways, auto and enable pass") {
  Ports p;
  p.vfs.set_link_state(1, VfLinkState::disable);
  CHECK(p.send(1, frame(kPortsMacA)) == SimCounter::drop_vf_link_down);
  CHECK(p.receive(1, frame(kPortsMacB)) == SimCounter::drop_vf_link_down);
  CHECK(p.send(0, frame(kPortsMacA)) == kGoes);
  p.vfs.set_link_state(1, VfLinkState::enable);
  CHECK(p.send(1, frame(kPortsMacA)) == kGoes);
  p.vfs.set_link_state(1, VfLinkState::automatic);
  CHECK(p.receive(1, frame(kPortsMacB)) == kGoes);
  CHECK(p.vfs.info(1).link_state == VfLinkState::automatic);
}

TEST_CASE("sim VF ports: max tx rate lets a burst through, then the rate, by the clock") {
  Ports p;
  p.vfs.set_rate(0, VfRate{0, 8});  // 8 Mbit/s = 1,000,000 bytes/s
  const uint64_t burst = VfPorts::rate_burst_bytes(1'000'000);
  CHECK(burst == 16384);
  unsigned passed = 0;
  while (p.send(0, frame(kPortsMacA, 1000)) == kGoes) ++passed;
  CHECK(passed == burst / 1000);  // 16 frames of 1000 bytes fit in 16384
  // 384 bytes were left; 616 us more make 1000 bytes of credit: exactly one more frame.
  p.clock.advance_ns(615'000);
  CHECK(p.send(0, frame(kPortsMacA, 1000)) == SimCounter::drop_vf_rate);
  p.clock.advance_ns(1'000);
  CHECK(p.send(0, frame(kPortsMacA, 1000)) == kGoes);
  CHECK(p.send(0, frame(kPortsMacA, 1000)) == SimCounter::drop_vf_rate);
  // No max rate: no limit.
  p.vfs.set_rate(0, VfRate{0, 0});
  for (int i = 0; i < 100; ++i) CHECK(p.send(0, frame(kPortsMacA, 1000)) == kGoes);
  const VfInfo i = p.vfs.info(0);
  CHECK(i.rate == VfRate{0, 0});
  CHECK(i.stats->tx_dropped == 3);
}

TEST_CASE("sim VF ports: received broadcast and multicast are counted") {
  Ports p;
  for (const Mac& dst : {kPortsBcast, kMcast, kMcast, kPortsMacB}) {
    const auto f = frame(kPortsMacA, 60, dst);
    p.vfs.delivered(0, 60, VfPorts::cast_of(f.data(), 60));
  }
  p.vfs.lost(0);
  const VfStats s = *p.vfs.info(0).stats;
  CHECK(s.rx_packets == 4);
  CHECK(s.broadcast == 1);
  CHECK(s.multicast == 2);
  CHECK(s.rx_dropped == 1);
}

TEST_CASE("sim VfAdmin: checks input like every driver, round-trips settings") {
  vfs::ManualClock clock;
  VfPorts ports(3, clock);
  std::mutex mu;
  SimVfAdmin admin("sim t1", mu, ports);
  VfAdmin& a = admin;
  CHECK(a.name() == "sim t1");
  CHECK(a.vf_count().value() == 3);

  auto out_of_range = a.set_mac(3, kPortsMacA);
  REQUIRE_FALSE(out_of_range.ok());
  CHECK(out_of_range.error().code == ERANGE);
  CHECK(out_of_range.error().message.find("sim t1") != std::string::npos);
  CHECK(a.set_mac(0, kMcast).error().code == EINVAL);
  CHECK(a.set_vlan(0, VfVlan{4096, 0, VlanProto::dot1q}).error().code == EINVAL);
  CHECK(a.set_rate(0, VfRate{100, 10}).error().code == EINVAL);
  CHECK(a.vf_info(-1).error().code == ERANGE);
  // Refused input changed nothing.
  CHECK(a.vf_info(0).value().mac == VfMac{});

  REQUIRE(a.set_mac(1, kPortsMacA).ok());
  REQUIRE(a.set_vlan(1, VfVlan{42, 5, VlanProto::dot1ad}).ok());
  REQUIRE(a.set_rate(1, VfRate{10, 100}).ok());
  REQUIRE(a.set_spoofchk(1, true).ok());
  REQUIRE(a.set_trust(1, true).ok());
  REQUIRE(a.set_link_state(1, VfLinkState::enable).ok());
  REQUIRE(a.set_link_state(1, VfLinkState::enable).ok());  // idempotent
  const VfInfo i = a.vf_info(1).value();
  CHECK(i.vf == 1);
  CHECK(i.mac == kPortsMacA);
  CHECK(i.vlan == VfVlan{42, 5, VlanProto::dot1ad});
  CHECK(i.rate == VfRate{10, 100});
  CHECK(i.spoofchk == true);
  CHECK(i.trust == true);
  CHECK(i.link_state == VfLinkState::enable);
  auto all = a.vf_infos();
  REQUIRE(all.ok());
  REQUIRE(all.value().size() == 3);
  CHECK(all.value()[1] == i);
  CHECK(all.value()[2].vf == 2);

  CHECK(a.eswitch_mode().value() == EswitchMode::switchdev);
  CHECK(a.set_eswitch_mode(EswitchMode::switchdev).ok());
  auto legacy = a.set_eswitch_mode(EswitchMode::legacy);
  REQUIRE_FALSE(legacy.ok());
  CHECK(legacy.error().code == EOPNOTSUPP);
}
