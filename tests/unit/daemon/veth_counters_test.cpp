// Per-vEthernet counters as the supervisor reports them: the slow path's per-port counts
// rebased per vEthernet (never backwards across detach, re-attach on another VF, or a VF
// reused by another vEthernet), merged with the NIC's, in the contract's JSON shape.
#include <doctest/doctest.h>

#include <map>

#include "slowpath/daemon/veth_counters.h"

using namespace vfs;
using vfs::daemon::SwCountersByVeth;
using vfs::daemon::SwPortCounts;

namespace {

// The slow path's counters per VF, which only grow.
struct CounterPorts {
  std::map<int, SwPortCounts> by_vf;
  void traffic(int vf, uint64_t rx, uint64_t tx,
               offload::DropReason r = offload::DropReason::count_, uint64_t drops = 0) {
    auto& c = by_vf[vf];
    c.rx.add(rx, rx * 100);
    c.tx.add(tx, tx * 100);
    if (r < offload::DropReason::count_) c.drops[static_cast<size_t>(r)] += drops;
  }
  SwCountersByVeth::ReadPort reader() {
    return [this](int vf) { return by_vf[vf]; };
  }
};

}  // namespace

TEST_CASE("a vEthernet's software counts follow it, not its VF, and never go back") {
  CounterPorts ports;
  SwCountersByVeth sw;
  ports.traffic(0, 50, 50);  // before anyone is bound: nobody's
  sw.rebind({{7, 0}}, ports.reader());
  CHECK(sw.total(7, ports.reader()).rx.packets == 0);

  ports.traffic(0, 10, 4, offload::DropReason::acl, 3);
  auto t = sw.total(7, ports.reader());
  CHECK(t.rx.packets == 10);
  CHECK(t.rx.bytes == 1000);
  CHECK(t.tx.packets == 4);
  CHECK(t.drops[static_cast<size_t>(offload::DropReason::acl)] == 3);

  SUBCASE("detach, then VF 0 reused by vEthernet 8, then 7 back on VF 2") {
    sw.rebind({}, ports.reader());
    CHECK(sw.total(7, ports.reader()).rx.packets == 10);
    ports.traffic(0, 5, 0);  // unbound: nobody's
    sw.rebind({{8, 0}}, ports.reader());
    ports.traffic(0, 2, 0);
    CHECK(sw.total(8, ports.reader()).rx.packets == 2);
    CHECK(sw.total(7, ports.reader()).rx.packets == 10);
    sw.rebind({{8, 0}, {7, 2}}, ports.reader());
    ports.traffic(2, 1, 1);
    CHECK(sw.total(7, ports.reader()).rx.packets == 11);
    CHECK(sw.total(7, ports.reader()).drops[static_cast<size_t>(offload::DropReason::acl)] == 3);
    CHECK(sw.total(8, ports.reader()).rx.packets == 2);
  }
  SUBCASE("a rebind that keeps the binding changes nothing") {
    sw.rebind({{7, 0}}, ports.reader());
    CHECK(sw.total(7, ports.reader()).rx.packets == 10);
  }
}

TEST_CASE("the contract's JSON merges hardware and software, with every drop reason") {
  vsm::ResolvedVeth v;
  v.number = 7;
  v.vf = 1;
  v.vm = "vm1";
  v.police_in = vsm::ResolvedPolicer{"pm", 1000, 100};
  offload::VethHwCounters hw;
  hw.rx.add(5, 500);
  hw.tx.add(6, 600);
  hw.drops[static_cast<size_t>(offload::DropReason::acl)] = 2;
  hw.police_in.add(drivers::MeterStats{3, 300, 1, 100, 4, 400});
  SwPortCounts sw;
  sw.rx.add(1, 100);
  sw.drops[static_cast<size_t>(offload::DropReason::acl)] = 1;
  sw.drops[static_cast<size_t>(offload::DropReason::malformed)] = 9;

  auto j = daemon::veth_counters_json(v, hw, sw);
  CHECK(j["vm"] == "vm1");
  CHECK(j["rx_packets"] == 6);
  CHECK(j["rx_bytes"] == 600);
  CHECK(j["tx_packets"] == 6);
  CHECK(j["drops"]["acl"] == 3);
  CHECK(j["drops"]["malformed"] == 9);
  for (size_t i = 0; i < offload::kDropReasonCount; ++i)
    CHECK(j["drops"].contains(offload::kDropReasons[i].name));
  CHECK(j["police"]["input"]["conform_packets"] == 4);  // green + yellow
  CHECK(j["police"]["input"]["violate_packets"] == 4);
  CHECK_FALSE(j["police"].contains("output"));

  vsm::ResolvedVeth plain;
  CHECK_FALSE(daemon::veth_counters_json(plain, {}, {}).contains("police"));
}

TEST_CASE(
    "acl_entries lists every ACE of the ACLs in use, the implicit deny and what counted before") {
  vsm::ResolvedVeth v;
  vsm::ResolvedAcl acl;
  acl.name = "web";
  acl.family = vsm::AclFamily::ipv4;
  acl.entries.push_back(vsm::ResolvedAce{});
  acl.entries.back().seq = 10;
  acl.entries.push_back(vsm::ResolvedAce{});
  acl.entries.back().seq = 20;
  v.ip_acl_in = acl;
  vsm::ResolvedAcl mac = acl;
  mac.family = vsm::AclFamily::mac;
  mac.name = "m";
  v.mac_acl_out = mac;
  std::map<std::string, std::map<uint32_t, uint64_t>> counted = {{"ip:web", {{10, 4}}},
                                                                 {"ipv6:old", {{5, 2}}}};
  auto j = daemon::acl_entries_json({v}, counted);
  CHECK(j["ip:web"]["10"] == 4);
  CHECK(j["ip:web"]["20"] == 0);
  CHECK(j["ip:web"]["0"] == 0);
  CHECK(j["mac:m"]["20"] == 0);
  CHECK(j["ipv6:old"]["5"] == 2);  // an ACL no longer used keeps its counts
}
