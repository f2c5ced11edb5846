// RuleTable counters against the sim: frames pushed through the sim's rules show up as
// rx / tx / drops by reason / per-ACE packets of the right vEthernet, and no number ever
// goes back when rules are replaced, detached and re-attached.
#include <doctest/doctest.h>

#include "rule_table_support.h"

using namespace vfs;
using namespace vfs::test;
using offload::DropReason;
using offload::HwCounters;

namespace {

constexpr uint32_t kVethA = 3, kVethB = 4;

size_t idx(DropReason r) { return static_cast<size_t>(r); }

// Every number in `now` is >= the same number in `before`.
void check_not_less(const HwCounters& now, const HwCounters& before) {
  for (const auto& [veth, b] : before.veths) {
    INFO("vEthernet" << veth);
    REQUIRE(now.veths.count(veth));
    const auto& n = now.veths.at(veth);
    CHECK(n.rx.packets >= b.rx.packets);
    CHECK(n.rx.bytes >= b.rx.bytes);
    CHECK(n.tx.packets >= b.tx.packets);
    CHECK(n.tx.bytes >= b.tx.bytes);
    for (size_t i = 0; i < b.drops.size(); ++i) CHECK(n.drops[i] >= b.drops[i]);
    CHECK(n.police_in.conform_packets >= b.police_in.conform_packets);
    CHECK(n.police_in.violate_packets >= b.police_in.violate_packets);
  }
  for (const auto& [acl, seqs] : before.acl_entries)
    for (const auto& [seq, p] : seqs) {
      REQUIRE(now.acl_entries.count(acl));
      REQUIRE(now.acl_entries.at(acl).count(seq));
      CHECK(now.acl_entries.at(acl).at(seq) >= p);
    }
}

// vEthernet A on VF 0: an admit rule (rx) into its ACL chain: ACE 10 denies frames to
// 0x0b, the implicit deny (seq 0) everything else but 0x0c, which is forwarded to VF 1
// (vEthernet B's tx). A tagged frame is dropped in group 0 (reason vlan).
struct CounterScene {
  offload::CompiledRule admit = admit_rule(kVf0, 0x0a, kVethA);
  offload::CompiledRule deny10 = ace_rule(kVf0, 10, 0x0b, kVethA);
  offload::CompiledRule permit20 = [] {
    auto c = ace_rule(kVf0, 20, 0x0c, kVethA);
    c.spec.actions = {offload::act_count(), offload::act_jump(offload::kGroupL2)};
    c.drop_reason = DropReason::count_;
    return c;
  }();
  offload::CompiledRule implicit = [] {
    auto c = ace_rule(kVf0, 0, 0x00, kVethA);
    c.spec.priority = 1000;
    c.spec.match.eth_dst.reset();
    return c;
  }();
  offload::CompiledRule to_b = forward_rule(0x0c, kVf1, kVethB);
  offload::CompiledRule tagged_drop = [] {
    offload::CompiledRule c;
    c.spec.group = offload::kGroupIngress;
    c.spec.priority = 5;
    c.spec.match.in_port = kVf0;
    c.spec.match.has_vlan = true;
    c.spec.actions = {offload::act_count(), offload::act_drop()};
    c.veth = kVethA;
    c.port = kVf0;
    c.drop_reason = DropReason::vlan;
    return c;
  }();
  std::vector<offload::CompiledRule> all() const {
    return {admit, deny10, permit20, implicit, to_b, tagged_drop};
  }
};

}  // namespace

TEST_CASE("hardware counts land on the right vEthernet, reason and ACL entry") {
  SimNic n;
  n.rules->set_port_veths({{kVf0, kVethA}, {kVf1, kVethB}});
  CounterScene s;
  n.rules->reconcile(s.all());
  for (const offload::RuleEntry& e : n.rules->entries()) REQUIRE(e.state == offload::RuleState::hw);

  CHECK(n.send_from_vf0(mac(0x0a), mac(0x0c)) == drivers::sim::Verdict::Kind::forward);
  CHECK(n.send_from_vf0(mac(0x0a), mac(0x0c)) == drivers::sim::Verdict::Kind::forward);
  CHECK(n.send_from_vf0(mac(0x0a), mac(0x0b)) == drivers::sim::Verdict::Kind::drop);
  CHECK(n.send_from_vf0(mac(0x0a), mac(0x0f)) == drivers::sim::Verdict::Kind::drop);
  n.rules->poll_counters([](const offload::RuleEntry&) {});

  auto c = n.rules->hw_counters();
  CHECK(c.veths[kVethA].rx.packets == 4);
  CHECK(c.veths[kVethA].rx.bytes == 4 * 64);
  CHECK(c.veths[kVethB].tx.packets == 2);
  CHECK(c.veths[kVethA].drops[idx(DropReason::acl)] == 2);
  CHECK(c.veths[kVethA].drops[idx(DropReason::vlan)] == 0);
  CHECK(c.acl_entries["ip:A"][10] == 1);
  CHECK(c.acl_entries["ip:A"][20] == 2);
  CHECK(c.acl_entries["ip:A"][0] == 1);

  // A rule that hands frames to the slow path leaves their rx to the slow path's count.
  offload::CompiledRule to_sw;
  to_sw.spec.group = offload::kGroupIngress;
  to_sw.spec.priority = 1;
  to_sw.spec.match.in_port = kVf0;
  to_sw.spec.actions = {offload::act_count(), offload::act_to_slow_path(kVf0)};
  to_sw.veth = kVethA;
  to_sw.port = kVf0;
  auto all = s.all();
  all.push_back(to_sw);
  n.rules->reconcile(all);
  REQUIRE(n.entry(to_sw.spec).state == offload::RuleState::hw);
  CHECK(n.send_from_vf0(mac(0x0e), mac(0x0c)) == drivers::sim::Verdict::Kind::forward);
  n.rules->poll_counters([](const offload::RuleEntry&) {});
  CHECK(n.entry(to_sw.spec).packets == 1);
  CHECK(n.rules->hw_counters().veths[kVethA].rx.packets == 4);
}

TEST_CASE("counters never go backwards across rule replacement, detach and re-attach") {
  SimNic n;
  n.rules->set_port_veths({{kVf0, kVethA}, {kVf1, kVethB}});
  CounterScene s;
  n.rules->reconcile(s.all());
  auto traffic = [&] {
    n.send_from_vf0(mac(0x0a), mac(0x0c));
    n.send_from_vf0(mac(0x0a), mac(0x0b));
    n.send_from_vf0(mac(0x0a), mac(0x0f));
  };
  traffic();
  n.rules->poll_counters([](const offload::RuleEntry&) {});
  HwCounters last = n.rules->hw_counters();
  REQUIRE(last.veths[kVethA].rx.packets == 3);

  SUBCASE("an ACE replaced (profile edit): its counts stay with the ACE") {
    traffic();  // not polled: the final read at removal must catch these
    auto edited = s.deny10;
    edited.spec.match.eth_dst = mac(0x0d);
    auto all = s.all();
    all[1] = edited;
    n.rules->reconcile(all);
    auto now = n.rules->hw_counters();
    check_not_less(now, last);
    CHECK(now.veths[kVethA].rx.packets == 6);
    CHECK(now.acl_entries["ip:A"][10] == 2);
    last = now;
    traffic();
    n.rules->poll_counters([](const offload::RuleEntry&) {});
    now = n.rules->hw_counters();
    check_not_less(now, last);
    CHECK(now.veths[kVethA].rx.packets == 9);
  }
  SUBCASE("detach and re-attach on another VF") {
    n.rules->reconcile({});
    auto detached = n.rules->hw_counters();
    check_not_less(detached, last);
    CHECK(detached.veths[kVethA].rx.packets == 3);
    CHECK(n.table->size() == 0);

    // vEthernet A comes back; B is gone.
    n.rules->set_port_veths({{kVf0, kVethA}});
    n.rules->reconcile(s.all());
    auto back = n.rules->hw_counters();
    check_not_less(back, detached);
    traffic();
    n.rules->poll_counters([](const offload::RuleEntry&) {});
    auto after = n.rules->hw_counters();
    check_not_less(after, back);
    CHECK(after.veths[kVethA].rx.packets == 6);
  }
  SUBCASE(
      "a rule's owner changes (VF reused by another vEthernet): old counts stay with the old one") {
    auto moved = s.all();
    for (auto& r : moved) r.veth = 9;
    n.rules->reconcile(moved);
    auto now = n.rules->hw_counters();
    check_not_less(now, last);
    CHECK(now.veths[kVethA].rx.packets == 3);
    CHECK(now.veths[9].rx.packets == 0);
    traffic();
    n.rules->poll_counters([](const offload::RuleEntry&) {});
    now = n.rules->hw_counters();
    CHECK(now.veths[kVethA].rx.packets == 3);
    CHECK(now.veths[9].rx.packets == 3);
  }
  SUBCASE("clear() retires everything") {
    traffic();
    n.rules->clear();
    auto now = n.rules->hw_counters();
    check_not_less(now, last);
    CHECK(now.veths[kVethA].rx.packets == 6);
  }
}

TEST_CASE("police counters come from the meter and survive its re-creation") {
  SimNic n;
  n.rules->set_port_veths({{kVf0, kVethA}, {kVf1, kVethB}});
  // 1000 B/s, burst 128 B: two 64-byte frames conform, the third is red.
  offload::CompiledMeter m{5, kVethA, kVf0, true, 1000, 128};
  offload::CompiledRule pol;
  pol.spec.group = offload::kGroupIngress;
  pol.spec.match.in_port = kVf0;
  pol.spec.actions = {offload::act_count(), offload::act_meter(5), offload::act_port(kVf1)};
  pol.veth = kVethA;
  pol.port = kVf0;
  n.rules->reconcile({pol}, {m});
  REQUIRE(n.entry(pol.spec).state == offload::RuleState::hw);
  for (int i = 0; i < 3; ++i) n.send_from_vf0(mac(0x0a), mac(0x0c));
  n.rules->poll_counters([](const offload::RuleEntry&) {});
  auto c = n.rules->hw_counters();
  CHECK(c.veths[kVethA].police_in.present);
  CHECK(c.veths[kVethA].police_in.conform_packets == 2);
  CHECK(c.veths[kVethA].police_in.violate_packets == 1);
  CHECK(c.veths[kVethA].drops[idx(DropReason::police)] == 1);
  CHECK_FALSE(c.veths[kVethA].police_out.present);

  offload::CompiledMeter slower = m;
  slower.cir_bytes_per_s = 500;
  n.rules->reconcile({pol}, {slower});
  auto after = n.rules->hw_counters();
  check_not_less(after, c);
  CHECK(after.veths[kVethA].police_in.violate_packets == 1);
}
