// What VfKnobs (slowpath/daemon/vf_knobs.h) sets on a VF for a vEthernet and when: the
// mapping from a resolved profile to knobs, that only differences reach the PF (in a
// safe order), resets of VFs whose vEthernet went away, errors that name the VF and keep
// the PF's words, EOPNOTSUPP kept in software; and, through the sim's VfAdmin, that
// what it sets is enforced on the VF's frames.
#include <doctest/doctest.h>

#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "base/clock.h"
#include "drivers/sim/sim_vf_admin.h"
#include "drivers/sim/sim_vf_ports.h"
#include "slowpath/daemon/vf_knobs.h"

using namespace vfs;
using drivers::VfLinkState;
using drivers::VfMac;

namespace {

const VfMac kVnicMac = {0x52, 0x54, 0x00, 0, 0, 0x05};
const VfMac kStaticMac = {0x02, 0, 0, 0, 0x10, 0x01};
const VfMac kOtherMac = {0x02, 0, 0, 0, 0x10, 0x99};

vsm::ResolvedVeth veth(uint32_t number, int vf) {
  vsm::ResolvedVeth v;
  v.number = number;
  v.vf = vf;
  v.vm = "vm" + std::to_string(number);
  v.mac = drivers::format_mac(kVnicMac);
  v.forwarding = true;
  return v;
}

vsm::ResolvedPolicer police(uint64_t bytes_per_s) { return {"pm", bytes_per_s, 16384}; }

// A VfAdmin that records each call as text ("spoofchk 2 on") and refuses the calls
// whose text starts with `refuse_prefix` with `refuse_errno`.
class RecordingVfAdmin final : public drivers::VfAdmin {
 public:
  std::vector<std::string> calls;
  std::string refuse_prefix;
  int refuse_errno = 0;

  std::string_view name() const override { return "PF fake0"; }
  Result<int> vf_count() override { return 4; }
  Result<void> set_mac(int vf, const VfMac& mac) override {
    return record(fmt::format("mac {} {}", vf, drivers::format_mac(mac)));
  }
  Result<void> set_vlan(int vf, const drivers::VfVlan& v) override {
    return record(fmt::format("vlan {} {}", vf, v.vid));
  }
  Result<void> set_rate(int vf, const drivers::VfRate& r) override {
    return record(fmt::format("rate {} {} {}", vf, r.min_mbps, r.max_mbps));
  }
  Result<void> set_spoofchk(int vf, bool on) override {
    return record(fmt::format("spoofchk {} {}", vf, on ? "on" : "off"));
  }
  Result<void> set_trust(int vf, bool on) override {
    return record(fmt::format("trust {} {}", vf, on ? "on" : "off"));
  }
  Result<void> set_link_state(int vf, VfLinkState s) override {
    return record(fmt::format("link {} {}", vf, drivers::to_string(s)));
  }
  Result<drivers::VfInfo> vf_info(int) override { return make_error(ENOTSUP, "not recorded"); }
  Result<std::vector<drivers::VfInfo>> vf_infos() override {
    return make_error(ENOTSUP, "not recorded");
  }
  Result<drivers::EswitchMode> eswitch_mode() override { return drivers::EswitchMode::switchdev; }
  Result<void> set_eswitch_mode(drivers::EswitchMode) override { return ok(); }

  std::vector<std::string> take() { return std::exchange(calls, {}); }

 private:
  Result<void> record(std::string call) {
    calls.push_back(call);
    if (refuse_errno != 0 && call.rfind(refuse_prefix, 0) == 0)
      return make_error(refuse_errno, "PF fake0 VF ?: {}: {}", call, std::strerror(refuse_errno));
    return ok();
  }
};

using Calls = std::vector<std::string>;

}  // namespace

namespace doctest {
template <>
struct StringMaker<Calls> {
  static String convert(const Calls& c) {
    std::string s = "{";
    for (const auto& x : c) s += (s.size() > 1 ? ", \"" : "\"") + x + "\"";
    return (s + "}").c_str();
  }
};
}  // namespace doctest

TEST_CASE("police rates become whole Mbit/s, rounded up") {
  CHECK(daemon::police_rate_mbps(0) == 0);
  CHECK(daemon::police_rate_mbps(1) == 1);
  CHECK(daemon::police_rate_mbps(125'000) == 1);  // exactly 1 Mbit/s
  CHECK(daemon::police_rate_mbps(125'001) == 2);
  CHECK(daemon::police_rate_mbps(1'250'000) == 10);
  CHECK(daemon::police_rate_mbps(UINT64_MAX) == UINT32_MAX);
}

TEST_CASE("a vEthernet's profile maps onto VF knobs") {
  vsm::ResolvedVeth v = veth(3, 2);
  SUBCASE("no port security, forwarding, no policer: the vNIC MAC, nothing else") {
    const auto k = daemon::vf_knobs_for(v, false);
    CHECK(k.mac == kVnicMac);
    CHECK_FALSE(k.spoofchk);
    CHECK(k.link == VfLinkState::automatic);
    CHECK(k.max_mbps == 0);
  }
  SUBCASE("port security: spoof checking; a static MAC wins over the vNIC's") {
    v.port_security.enabled = true;
    CHECK(daemon::vf_knobs_for(v, false).mac == kVnicMac);
    CHECK(daemon::vf_knobs_for(v, false).spoofchk);
    v.port_security.static_macs = {kStaticMac, kOtherMac};
    CHECK(daemon::vf_knobs_for(v, false).mac == kStaticMac);
    CHECK(daemon::vf_knobs_for(v, false).spoofchk);
  }
  SUBCASE("port security without any MAC to check against: no spoof checking") {
    v.port_security.enabled = true;
    v.mac = "";
    CHECK_FALSE(daemon::vf_knobs_for(v, false).mac.has_value());
    CHECK_FALSE(daemon::vf_knobs_for(v, false).spoofchk);
    v.mac = "01:00:5e:00:00:01";  // multicast: not a station address
    CHECK_FALSE(daemon::vf_knobs_for(v, false).mac.has_value());
    CHECK_FALSE(daemon::vf_knobs_for(v, false).spoofchk);
    v.mac = "not a mac";
    CHECK_FALSE(daemon::vf_knobs_for(v, false).mac.has_value());
  }
  SUBCASE("a vEthernet that does not forward has its link disabled") {
    v.forwarding = false;
    CHECK(daemon::vf_knobs_for(v, false).link == VfLinkState::disable);
  }
  SUBCASE("the input policer is a max rate only on an eSwitch without meters") {
    v.police_in = police(1'250'001);  // 10.000008 Mbit/s
    v.police_out = police(125'000'000);
    CHECK(daemon::vf_knobs_for(v, false).max_mbps == 11);
    CHECK(daemon::vf_knobs_for(v, true).max_mbps == 0);
    v.police_in.reset();
    CHECK(daemon::vf_knobs_for(v, false).max_mbps == 0);  // police_out is not the VF's tx
  }
}

TEST_CASE("VfKnobs sets what changed, in a safe order, and nothing when nothing changed") {
  RecordingVfAdmin pf;
  daemon::VfKnobs knobs(pf, false, {0, 1, 2, 3});
  vsm::ResolvedVeth v = veth(3, 2);
  v.port_security.enabled = true;
  v.police_in = police(1'250'000);

  REQUIRE(knobs.apply_bound({v}).ok());
  // Unknown at first: everything is set; spoof checking after the MAC, link up last.
  CHECK(pf.take() ==
        Calls{"mac 2 52:54:00:00:00:05", "rate 2 0 10", "spoofchk 2 on", "link 2 auto"});
  REQUIRE(knobs.apply_bound({v}).ok());
  CHECK(pf.take().empty());

  SUBCASE("the vEthernet stops forwarding: the link goes down, and only that") {
    v.forwarding = false;
    REQUIRE(knobs.apply_bound({v}).ok());
    CHECK(pf.take() == Calls{"link 2 disable"});
    v.forwarding = true;
    REQUIRE(knobs.apply_bound({v}).ok());
    CHECK(pf.take() == Calls{"link 2 auto"});
  }
  SUBCASE("the link goes down before anything else changes") {
    v.forwarding = false;
    v.port_security.enabled = false;
    v.police_in.reset();
    REQUIRE(knobs.apply_bound({v}).ok());
    CHECK(pf.take() == Calls{"link 2 disable", "spoofchk 2 off", "rate 2 0 0"});
  }
  SUBCASE("a new static MAC: only the MAC, spoof checking stays on") {
    v.port_security.static_macs = {kStaticMac};
    REQUIRE(knobs.apply_bound({v}).ok());
    CHECK(pf.take() == Calls{"mac 2 02:00:00:00:10:01"});
  }
  SUBCASE("the eSwitch's meters police: no max rate") {
    daemon::VfKnobs metered(pf, true, {0, 1, 2, 3});
    REQUIRE(metered.apply_bound({v}).ok());
    CHECK(pf.take() ==
          Calls{"mac 2 52:54:00:00:00:05", "rate 2 0 0", "spoofchk 2 on", "link 2 auto"});
  }
}

TEST_CASE("VfKnobs resets the VFs no vEthernet uses: every VF once, then those left") {
  RecordingVfAdmin pf;
  daemon::VfKnobs knobs(pf, false, {0, 1});
  vsm::ResolvedVeth v = veth(5, 1);
  v.port_security.enabled = true;
  v.police_in = police(250'000);

  REQUIRE(knobs.apply_bound({v}).ok());
  pf.take();
  knobs.reset_unbound({v});
  // VF 0 was never set: it is brought to the defaults, its MAC left alone.
  CHECK(pf.take() == Calls{"spoofchk 0 off", "rate 0 0 0", "link 0 auto"});
  knobs.reset_unbound({v});
  CHECK(pf.take().empty());

  // vEthernet5 goes away: VF 1 back to the defaults, once.
  REQUIRE(knobs.apply_bound({}).ok());
  CHECK(pf.take().empty());
  knobs.reset_unbound({});
  CHECK(pf.take() == Calls{"spoofchk 1 off", "rate 1 0 0"});
  knobs.reset_unbound({});
  CHECK(pf.take().empty());
  CHECK(knobs.failures() == 0);
}

TEST_CASE("VfKnobs: a refused knob fails the apply, names the VF, keeps errno and is retried") {
  RecordingVfAdmin pf;
  daemon::VfKnobs knobs(pf, false, {0, 1, 2, 3});
  vsm::ResolvedVeth v = veth(3, 2);
  v.port_security.enabled = true;
  pf.refuse_prefix = "spoofchk 2 on";
  pf.refuse_errno = EPERM;

  auto r = knobs.apply_bound({v});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == EPERM);
  CHECK(r.error().message.find("vEthernet3 (vm3): VF 2 spoofchk on") != std::string::npos);
  CHECK(r.error().message.find("PF fake0") != std::string::npos);
  CHECK(r.error().message.find(std::strerror(EPERM)) != std::string::npos);
  // It stopped there: the link was not brought up.
  CHECK(pf.take() == Calls{"mac 2 52:54:00:00:00:05", "rate 2 0 0", "spoofchk 2 on"});
  CHECK(knobs.failures() == 1);

  // What the refusal left is unknown: the next apply sets everything again.
  pf.refuse_errno = 0;
  REQUIRE(knobs.apply_bound({v}).ok());
  CHECK(pf.take() ==
        Calls{"mac 2 52:54:00:00:00:05", "rate 2 0 0", "spoofchk 2 on", "link 2 auto"});

  SUBCASE("a refused reset is logged and counted, not returned") {
    pf.refuse_prefix = "spoofchk 0 off";
    pf.refuse_errno = EIO;
    knobs.reset_unbound({v});
    CHECK(knobs.failures() == 2);
    pf.take();
    pf.refuse_errno = 0;
    knobs.reset_unbound({v});  // retried: VF 0 still unknown
    CHECK(pf.take() == Calls{"spoofchk 0 off", "rate 0 0 0", "link 0 auto"});
  }
}

TEST_CASE("VfKnobs: a knob the PF lacks (EOPNOTSUPP) stays in software and is not retried") {
  RecordingVfAdmin pf;
  daemon::VfKnobs knobs(pf, false, {0});
  vsm::ResolvedVeth v = veth(1, 0);
  v.police_in = police(125'000);
  pf.refuse_prefix = "rate";
  pf.refuse_errno = EOPNOTSUPP;
  REQUIRE(knobs.apply_bound({v}).ok());
  CHECK(pf.take() ==
        Calls{"spoofchk 0 off", "mac 0 52:54:00:00:00:05", "rate 0 0 1", "link 0 auto"});
  REQUIRE(knobs.apply_bound({v}).ok());
  CHECK(pf.take().empty());
  CHECK(knobs.failures() == 0);
}

namespace {

// A 60-byte frame from `src` as the VF's wire hands it to the sim's VF port.
drivers::sim::SimCounter send(drivers::sim::VfPorts& ports, int vf, const VfMac& src,
                              uint32_t len = 60) {
  std::vector<uint8_t> buf(64 + len, 0);
  uint8_t* f = buf.data() + 64;
  std::memset(f, 0xff, 6);
  std::memcpy(f + 6, src.data(), 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  drivers::sim::PacketBuffer pb{f, len, 64};
  return ports.from_vf(vf, pb);
}

drivers::sim::SimCounter receive(drivers::sim::VfPorts& ports, int vf) {
  std::vector<uint8_t> buf(64 + 60, 0);
  uint8_t* f = buf.data() + 64;
  std::memcpy(f, kVnicMac.data(), 6);
  std::memcpy(f + 6, kOtherMac.data(), 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  drivers::sim::PacketBuffer pb{f, 60, 64};
  return ports.to_vf(vf, pb);
}

constexpr auto kGoes = drivers::sim::SimCounter::count_;

}  // namespace

TEST_CASE("VfKnobs on the sim's VfAdmin: the VF enforces what the profile implies") {
  ManualClock clock;
  drivers::sim::VfPorts ports(2, clock);
  std::mutex mu;
  drivers::sim::SimVfAdmin admin("sim t", mu, ports);
  daemon::VfKnobs knobs(admin, false, {0, 1});
  vsm::ResolvedVeth v = veth(7, 1);
  v.port_security.enabled = true;
  v.police_in = police(125'000);  // 1 Mbit/s

  REQUIRE(knobs.apply_bound({v}).ok());
  knobs.reset_unbound({v});
  const drivers::VfInfo info = admin.vf_info(1).value();
  CHECK(info.mac == kVnicMac);
  CHECK(info.spoofchk == true);
  CHECK(info.rate.max_mbps == 1);
  CHECK(info.link_state == VfLinkState::automatic);

  // Spoof checking: only the vNIC's own source MAC leaves the VF.
  CHECK(send(ports, 1, kOtherMac) == drivers::sim::SimCounter::drop_vf_spoof);
  CHECK(send(ports, 1, kVnicMac) == kGoes);
  CHECK(send(ports, 0, kOtherMac) == kGoes);  // VF 0 is unbound: reset, no checks
  // Max rate: past the burst, frames are dropped until the clock gives credit back.
  const uint64_t burst = drivers::sim::VfPorts::rate_burst_bytes(125'000);
  uint64_t sent = 60;  // the frame above
  while (send(ports, 1, kVnicMac, 1000) == kGoes) sent += 1000;
  CHECK(sent <= burst);
  CHECK(sent + 1000 > burst);
  CHECK(send(ports, 1, kVnicMac, 1000) == drivers::sim::SimCounter::drop_vf_rate);
  clock.advance_ns(8'000'000);  // 8 ms at 125,000 B/s = 1000 bytes of credit
  CHECK(send(ports, 1, kVnicMac, 1000) == kGoes);

  // The vEthernet stops forwarding (e.g. its profile is disabled): link down both ways.
  v.forwarding = false;
  REQUIRE(knobs.apply_bound({v}).ok());
  CHECK(send(ports, 1, kVnicMac) == drivers::sim::SimCounter::drop_vf_link_down);
  CHECK(receive(ports, 1) == drivers::sim::SimCounter::drop_vf_link_down);

  // The vEthernet goes away: the VF is reset and polices nothing any more.
  REQUIRE(knobs.apply_bound({}).ok());
  knobs.reset_unbound({});
  CHECK(receive(ports, 1) == kGoes);
  CHECK(send(ports, 1, kOtherMac) == kGoes);
  for (int i = 0; i < 100; ++i) CHECK(send(ports, 1, kVnicMac, 1000) == kGoes);
  const drivers::VfInfo after = admin.vf_info(1).value();
  CHECK(after.spoofchk == false);
  CHECK(after.rate.max_mbps == 0);
  CHECK(after.link_state == VfLinkState::automatic);
}
