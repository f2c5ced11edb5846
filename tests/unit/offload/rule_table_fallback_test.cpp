// RuleTable fallback against the sim's rule memory: chains go in whole or not at all
// (members before the rules that need them, out in the reverse order), refusals keep the
// NIC's words and are retried as their errno says (back-off, capacity, never), and meters
// are reconciled before the rules that police with them.
#include <doctest/doctest.h>

#include <algorithm>

#include "rule_table_support.h"

using namespace vfs;
using namespace vfs::test;
using offload::RuleState;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

constexpr uint32_t kAcl = offload::kGroupAclIn, kL2 = offload::kGroupL2;

std::string joined(const std::vector<std::string>& ops) {
  std::string out;
  for (const auto& o : ops) out += (out.empty() ? "" : ", ") + o;
  return out;
}

size_t index_of(const std::vector<std::string>& ops, const std::string& op, size_t from = 0) {
  for (size_t i = from; i < ops.size(); ++i)
    if (ops[i] == op) return i;
  return ops.size();
}

}  // namespace

TEST_CASE("a complete chain goes in before the rule that needs it, and all is in hw") {
  SimNic n;
  auto a10 = ace_rule(kVf0, 10, 0x0b, 3), a20 = ace_rule(kVf0, 20, 0x0c, 3),
       in = admit_rule(kVf0, 0x0a, 3);
  // Listed needer first: the table still installs the members first.
  n.rules->reconcile({in, a10, a20});
  CHECK(n.entry(in.spec).state == RuleState::hw);
  CHECK(n.entry(a10.spec).state == RuleState::hw);
  CHECK(n.entry(a20.spec).state == RuleState::hw);
  REQUIRE(n.nic->ops.size() == 3);
  CHECK(n.nic->ops.back() == "create g0");
  CHECK(n.table->size() == 3);
}

TEST_CASE(
    "a chain the NIC refuses keeps the rule that needs it out, naming the chain and the NIC's "
    "reason") {
  drivers::ESwitchOptions opt;
  opt.sim_unsupported = {"ipv6"};
  SimNic n(opt);
  auto a10 = ace_rule(kVf0, 10, 0x0b, 3), a20 = ace_rule(kVf0, 20, 0x0c, 3, /*ipv6=*/true);
  auto in = admit_rule(kVf0, 0x0a, 3);
  n.rules->reconcile({a10, a20, in});

  const auto& refused = n.entry(a20.spec);
  CHECK(refused.state == RuleState::sw);
  CHECK(refused.nic_errno == ENOTSUP);
  CHECK(contains(refused.reason, "IPV6"));
  const auto& held = n.entry(in.spec);
  CHECK(held.state == RuleState::sw);
  CHECK(held.nic_errno == 0);
  CHECK(contains(held.reason, "input chain of port 21"));
  CHECK(contains(held.reason, "IPV6"));
  // The admitting rule never reached the NIC: frames from the VM miss (slow path).
  CHECK(index_of(n.nic->ops, "create g0") == n.nic->ops.size());
  CHECK(n.send_from_vf0(mac(0x0a), mac(0x0b)) == drivers::sim::Verdict::Kind::miss);

  SUBCASE("dropping the refused member completes the chain and lets the rule in") {
    n.rules->reconcile({a10, in});
    CHECK(n.entry(in.spec).state == RuleState::hw);
    CHECK(n.entry(in.spec).reason.empty());
  }
  SUBCASE("unsupported is never asked again for the same spec") {
    const int creates = n.nic->creates;
    n.clock.advance_s(60);
    n.rules->retry_refused();
    n.rules->reconcile({a10, a20, in});
    CHECK(n.nic->creates == creates);
    // Not even when the spec comes back after leaving.
    n.rules->reconcile({a10, in});
    const int after = n.nic->creates;
    n.rules->reconcile({a10, a20, in});
    CHECK(n.entry(a20.spec).state == RuleState::sw);
    CHECK(n.entry(a20.spec).nic_errno == ENOTSUP);
    // The needer went out and back (chain broken by the member's return), a20 not asked.
    CHECK(n.nic->creates == after);
  }
}

TEST_CASE(
    "a learned rule that needs an incomplete chain waits, and goes in when the chain completes") {
  drivers::ESwitchOptions opt;
  opt.sim_capacity = 3;
  SimNic n(opt);
  auto p1 = forward_rule(0x01, kVf1, 4, 1), p2 = forward_rule(0x02, kVf1, 4, 2);
  auto a10 = ace_rule(kVf0, 10, 0x0b, 3), a20 = ace_rule(kVf0, 20, 0x0c, 3),
       in = admit_rule(kVf0, 0x0a, 3);
  n.rules->acquire(p1);
  n.rules->acquire(p2);
  n.rules->acquire(a10);
  n.rules->acquire(a20);  // the table is full
  n.rules->acquire(in);
  CHECK(n.entry(a20.spec).state == RuleState::sw);
  CHECK(n.entry(a20.spec).nic_errno == ENOSPC);
  CHECK(contains(n.entry(a20.spec).reason, "full"));
  CHECK(n.entry(in.spec).state == RuleState::sw);
  CHECK(contains(n.entry(in.spec).reason, "input chain of port 21"));
  CHECK(contains(n.entry(in.spec).reason, "full"));

  // Nothing was destroyed: ENOSPC is not asked again.
  int creates = n.nic->creates;
  n.clock.advance_s(60);
  n.rules->retry_refused();
  CHECK(n.nic->creates == creates);

  // Capacity returns: the member goes in; the chain is complete, the needer tries (full).
  n.rules->release(p1.spec);
  n.rules->retry_refused();
  CHECK(n.entry(a20.spec).state == RuleState::hw);
  CHECK(n.entry(in.spec).state == RuleState::sw);
  CHECK(n.entry(in.spec).nic_errno == ENOSPC);

  n.rules->release(p2.spec);
  n.rules->retry_refused();
  CHECK(n.entry(in.spec).state == RuleState::hw);
  CHECK(n.table->size() == 3);
}

TEST_CASE("replacing a chain member takes the needer out first and puts it back last") {
  SimNic n;
  auto a10 = ace_rule(kVf0, 10, 0x0b, 3), a20 = ace_rule(kVf0, 20, 0x0c, 3),
       in = admit_rule(kVf0, 0x0a, 3);
  auto fwd = forward_rule(0x0b, kVf1, 4);
  n.rules->reconcile({a10, a20, in, fwd});
  n.nic->ops.clear();

  auto a20b = ace_rule(kVf0, 20, 0x0d, 3);  // the ACE edited
  n.rules->reconcile({a10, a20b, in, fwd});
  // needer out, old member out, new member in, needer in; nothing else touched.
  CHECK(joined(n.nic->ops) ==
        fmt::format("destroy g0, destroy g{0}, create g{0}, create g0", kAcl));
  CHECK(n.entry(in.spec).state == RuleState::hw);

  SUBCASE("adding a member to a complete chain also takes the needer out first") {
    n.nic->ops.clear();
    auto a30 = ace_rule(kVf0, 30, 0x0e, 3);
    n.rules->reconcile({a10, a20b, a30, in, fwd});
    CHECK(joined(n.nic->ops) == fmt::format("destroy g0, create g{0}, create g0", kAcl));
  }
  SUBCASE("detaching removes the needer before the chain") {
    n.nic->ops.clear();
    n.rules->reconcile({fwd});
    REQUIRE(n.nic->ops.size() == 3);
    CHECK(n.nic->ops[0] == "destroy g0");
    CHECK(n.table->size() == 1);
  }
}

TEST_CASE("transient refusals are retried with back-off, and a rule that needs the chain follows") {
  SimNic n;
  auto a10 = ace_rule(kVf0, 10, 0x0b, 3), in = admit_rule(kVf0, 0x0a, 3);
  n.nic->fail_next(EBUSY, 2);
  n.rules->reconcile({a10, in});
  CHECK(n.entry(a10.spec).state == RuleState::sw);
  CHECK(n.entry(a10.spec).nic_errno == EBUSY);
  CHECK(contains(n.entry(a10.spec).reason, "errno 16"));
  CHECK(contains(n.entry(in.spec).reason, "errno 16"));
  const int creates = n.nic->creates;

  n.rules->retry_refused();  // not yet due
  CHECK(n.nic->creates == creates);
  n.clock.advance_ns(100'000'000);
  n.rules->retry_refused();  // refused again: the next wait is longer
  CHECK(n.nic->creates == creates + 1);
  CHECK(n.entry(a10.spec).state == RuleState::sw);
  n.clock.advance_ns(100'000'000);
  n.rules->retry_refused();
  CHECK(n.nic->creates == creates + 1);
  n.clock.advance_ns(100'000'000);
  n.rules->retry_refused();
  CHECK(n.entry(a10.spec).state == RuleState::hw);
  CHECK(n.entry(in.spec).state == RuleState::hw);

  SUBCASE("ETIMEDOUT and EAGAIN are transient too") {
    for (int code : {ETIMEDOUT, EAGAIN}) {
      auto f = forward_rule(0x33, kVf1, 4, code);
      n.nic->fail_next(code);
      n.rules->acquire(f);
      CHECK(n.entry(f.spec).state == RuleState::sw);
      n.clock.advance_s(1);
      n.rules->retry_refused();
      CHECK(n.entry(f.spec).state == RuleState::hw);
    }
  }
}

TEST_CASE("EINVAL marks the rule failed, is kept out and never retried") {
  SimNic n;
  auto f = forward_rule(0x44, kVf1, 4);
  n.nic->fail_next(EINVAL);
  n.rules->acquire(f);
  CHECK(n.entry(f.spec).state == RuleState::failed);
  CHECK(n.entry(f.spec).nic_errno == EINVAL);
  const int creates = n.nic->creates;
  n.clock.advance_s(100);
  n.rules->release(forward_rule(0x44, kVf1, 4).spec);
  n.rules->acquire(f);
  n.rules->retry_refused();
  CHECK(n.nic->creates == creates);
  CHECK(n.entry(f.spec).state == RuleState::failed);
  CHECK(n.rules->nic_errors() == 1);
}

TEST_CASE("the sim's injected failures are retried until they pass") {
  drivers::ESwitchOptions opt;
  opt.sim_fail_rate = 0.5;
  opt.sim_fail_errno = ETIMEDOUT;
  SimNic n(opt);
  std::vector<offload::CompiledRule> want;
  for (uint8_t i = 1; i <= 40; ++i) want.push_back(forward_rule(i, kVf1, 4));
  n.rules->reconcile(want);
  auto in_sw = [&] {
    return std::count_if(n.rules->entries().begin(), n.rules->entries().end(),
                         [](const offload::RuleEntry& e) { return e.state != RuleState::hw; });
  };
  REQUIRE(in_sw() > 0);
  for (const offload::RuleEntry& e : n.rules->entries())
    if (e.state != RuleState::hw) CHECK(contains(e.reason, "sim-fail-rate"));
  for (int round = 0; round < 200 && in_sw() > 0; ++round) {
    n.clock.advance_s(10);
    n.rules->retry_refused();
  }
  CHECK(in_sw() == 0);
  CHECK(n.table->size() == 40);
}

TEST_CASE("meters are created before the rules that police with them") {
  SimNic n;
  offload::CompiledMeter m{7, 3, kVf0, true, 125'000, 10'000};
  auto a10 = ace_rule(kVf0, 10, 0x0b, 3);
  auto pol = forward_rule(0x0b, kVf1, 4);
  pol.spec.actions.insert(pol.spec.actions.begin() + 1, offload::act_meter(7));

  SUBCASE("a meter in the NIC lets its rule in; removal takes the rule out first") {
    n.rules->reconcile({a10, pol}, {m});
    REQUIRE(n.rules->meters().count(7));
    CHECK(n.rules->meters().at(7).installed);
    CHECK(n.entry(pol.spec).state == RuleState::hw);
    CHECK(n.nic->read_meter_stats(7).ok());

    n.rules->reconcile({a10}, {});
    CHECK(n.rules->meters().empty());
    CHECK_FALSE(n.nic->read_meter_stats(7).ok());
    CHECK(n.table->size() == 1);
  }
  SUBCASE("a meter the NIC refuses keeps its rule out, naming the meter and the NIC's reason") {
    offload::CompiledMeter bad = m;
    bad.cbs_bytes = 0;
    n.rules->reconcile({a10, pol}, {bad});
    CHECK_FALSE(n.rules->meters().at(7).installed);
    CHECK(n.entry(pol.spec).state == RuleState::sw);
    CHECK(contains(n.entry(pol.spec).reason, "meter 7"));
    CHECK(contains(n.entry(pol.spec).reason, "cbs"));
    // Fixed by the next policy: the meter and then the rule go in.
    n.rules->reconcile({a10, pol}, {m});
    CHECK(n.rules->meters().at(7).installed);
    CHECK(n.entry(pol.spec).state == RuleState::hw);
  }
  SUBCASE("changing a meter's rate re-creates it under its rule") {
    n.rules->reconcile({a10, pol}, {m});
    n.nic->ops.clear();
    offload::CompiledMeter faster = m;
    faster.cir_bytes_per_s *= 2;
    n.rules->reconcile({a10, pol}, {faster});
    CHECK(joined(n.nic->ops) == fmt::format("destroy g{0}, create g{0}", kL2));
    CHECK(n.entry(pol.spec).state == RuleState::hw);
    CHECK(n.rules->meters().at(7).meter.cir_bytes_per_s == faster.cir_bytes_per_s);
  }
  SUBCASE("a rule naming a meter that is not configured stays out") {
    n.rules->reconcile({a10, pol}, {});
    CHECK(n.entry(pol.spec).state == RuleState::sw);
    CHECK(contains(n.entry(pol.spec).reason, "meter 7 is not configured"));
  }
}

TEST_CASE(
    "a sim without METER refuses meters with ENOTSUP and the policing rule stays in software") {
  drivers::ESwitchOptions opt;
  opt.sim_unsupported = {"meter"};
  SimNic n(opt);
  offload::CompiledMeter m{7, 3, kVf0, true, 125'000, 10'000};
  auto pol = forward_rule(0x0b, kVf1, 4);
  pol.spec.actions.insert(pol.spec.actions.begin() + 1, offload::act_meter(7));
  n.rules->reconcile({pol}, {m});
  CHECK(n.rules->meters().at(7).nic_errno == ENOTSUP);
  CHECK(n.entry(pol.spec).state == RuleState::sw);
  CHECK(contains(n.entry(pol.spec).reason, "METER"));
}
