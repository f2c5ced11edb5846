// The control plane's DHCP snooping leases (slowpath/daemon/dhcp_leases.h): events fold
// into one lease per client, leases expire on the wall clock, detach and profiles that
// stop snooping drop them, they join the vEthernet's source bindings marked as snooped,
// and they survive a restart through their JSON form (expired ones dropped, damaged
// files refused).
#include <doctest/doctest.h>

#include "slowpath/daemon/dhcp_leases.h"

using namespace vfs;
using namespace vfs::daemon;
using slowpath::DhcpBindingEvent;

namespace {

const slowpath::MacBytes kMac{0x02, 0, 0, 0, 0x10, 0x01};

DhcpBindingEvent bound(uint32_t veth, slowpath::Ip4 ip, uint32_t lease) {
  DhcpBindingEvent e;
  e.kind = DhcpBindingEvent::bound;
  e.veth = veth;
  e.vid = 10;
  e.mac = kMac;
  e.ip = ip;
  e.lease_s = lease;
  return e;
}

DhcpBindingEvent unbound(uint32_t veth, slowpath::Ip4 ip, bool any = false) {
  DhcpBindingEvent e = bound(veth, ip, 0);
  e.kind = DhcpBindingEvent::unbound;
  e.cause = DhcpBindingEvent::release;
  e.any_ip = any;
  return e;
}

vsm::DataplaneConfig config(bool snooping) {
  vsm::DataplaneConfig cfg;
  vsm::ResolvedVeth v;
  v.number = 3;
  v.vf = 0;
  v.access_vlan = 10;
  v.forwarding = true;
  v.ip_verify_source = snooping;
  vsm::SourceBinding s;
  s.ip = {10, 0, 0, 9};
  s.mac = kMac;
  s.vlan = 10;
  v.source_bindings.push_back(s);
  cfg.veths.push_back(v);
  return cfg;
}

}  // namespace

TEST_CASE("leases: bind, renew, move, release, NAK and expiry") {
  DhcpLeases l;
  using C = DhcpLeases::Change;
  CHECK(l.fold(bound(3, {10, 0, 0, 50}, 60), 1000) == C::bindings);
  REQUIRE(l.all().size() == 1);
  CHECK(l.all()[0].expires_unix == 1060);
  CHECK(l.fold(bound(3, {10, 0, 0, 50}, 120), 1010) == C::renewed);
  CHECK(l.all()[0].expires_unix == 1130);
  std::vector<DhcpLease> gone;
  CHECK(l.fold(bound(3, {10, 0, 0, 51}, 120), 1010, &gone) == C::bindings);
  REQUIRE(gone.size() == 1);
  CHECK(gone[0].ip == slowpath::Ip4{10, 0, 0, 50});
  CHECK(l.all().size() == 1);
  CHECK(l.fold(unbound(3, {10, 0, 0, 50}), 1010) == C::none);  // not its address
  CHECK(l.fold(unbound(4, {10, 0, 0, 51}), 1010) == C::none);  // not its vEthernet
  CHECK(l.fold(unbound(3, {10, 0, 0, 51}), 1010) == C::bindings);
  CHECK(l.all().empty());
  CHECK(l.fold(bound(3, {10, 0, 0, 52}, slowpath::kDhcpInfiniteLease), 1010) == C::bindings);
  CHECK(l.fold(bound(5, {10, 0, 0, 53}, 10), 1010) == C::bindings);
  CHECK(l.expire(1019).empty());
  auto ended = l.expire(1020);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].veth == 5);
  CHECK(l.expire(INT64_MAX).empty());                        // infinite
  CHECK(l.fold(unbound(3, {}, true), 1030) == C::bindings);  // NAK: any address
  CHECK(l.all().empty());
}

TEST_CASE("leases join the source bindings of snooping vEthernets only, and leave with them") {
  DhcpLeases l;
  auto other = bound(3, {10, 0, 0, 50}, 60);
  other.mac[5] = 0x02;
  l.fold(other, 1000);
  l.fold(bound(3, {10, 0, 0, 9}, 60), 1000);  // also bound statically: not added twice
  auto cfg = config(true);
  l.merge_into(cfg);
  REQUIRE(cfg.veths[0].source_bindings.size() == 2);
  CHECK_FALSE(cfg.veths[0].source_bindings[0].dhcp_snooped);
  CHECK(cfg.veths[0].source_bindings[1].dhcp_snooped);
  CHECK(cfg.veths[0].source_bindings[1].ip[3] == 50);
  CHECK(cfg.veths[0].source_bindings[1].mac == other.mac);
  CHECK(cfg.veths[0].source_bindings[1].vlan == 10);

  // Not yet seen bound (read back at start-up): kept until it shows up.
  vsm::DataplaneConfig empty;
  CHECK(l.prune(empty, {}).empty());
  CHECK(l.all().size() == 2);
  // Bound and snooping: kept.
  CHECK(l.prune(config(true), {3}).empty());
  // Snooping turned off: dropped.
  DhcpLeases off = l;
  CHECK(off.prune(config(false), {3}).size() == 2);
  CHECK(off.all().empty());
  // Detached: dropped.
  CHECK(l.prune(empty, {3}).size() == 2);
  CHECK(l.all().empty());
}

TEST_CASE(
    "leases survive a restart through JSON; expired ones are dropped, damaged files refused") {
  DhcpLeases l;
  l.fold(bound(3, {10, 0, 0, 50}, 60), 1000);
  l.fold(bound(4, {10, 0, 0, 51}, slowpath::kDhcpInfiniteLease), 1000);
  const auto j = l.to_json();
  auto back = DhcpLeases::from_json(j, 1030);
  REQUIRE(back.ok());
  CHECK(back.value().all() == l.all());
  auto later = DhcpLeases::from_json(j, 1060);
  REQUIRE(later.ok());
  REQUIRE(later.value().all().size() == 1);
  CHECK(later.value().all()[0].veth == 4);

  for (
      const char* bad :
      {R"({})", R"({"bindings": 3})", R"({"bindings": [{"veth": 3}]})",
       R"({"bindings": [{"veth": 3, "vlan": 10, "mac": "nope", "ip": "10.0.0.1", "lease_s": 5, "expires_unix": 9999}]})",
       R"({"bindings": [{"veth": 3, "vlan": 10, "mac": "02:00:00:00:10:01", "ip": "10.0.0.300", "lease_s": 5, "expires_unix": 9999}]})",
       R"({"bindings": [{"veth": 3, "vlan": 5000, "mac": "02:00:00:00:10:01", "ip": "10.0.0.1", "lease_s": 5, "expires_unix": 9999}]})"}) {
    INFO(bad);
    auto r = DhcpLeases::from_json(nlohmann::json::parse(bad), 1000);
    CHECK_FALSE(r.ok());
  }
  auto dup = j;
  dup["bindings"].push_back(dup["bindings"][0]);
  CHECK_FALSE(DhcpLeases::from_json(dup, 1000).ok());
}
