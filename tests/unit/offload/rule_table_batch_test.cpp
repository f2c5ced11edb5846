// The rule table's bulk paths against its one-by-one paths: stage_add of a run of rules
// (index probes overlapped) gives the same entries, references and NIC order as staging
// them one at a time; entries freed and made again (the entry pool, the index growing and
// shrinking) stay findable; and a commit puts rules in by group and priority, chain-free
// rules first, equals in the order they were listed.
#include <doctest/doctest.h>

#include <set>

#include "rule_table_support.h"

using namespace vfs;
using namespace vfs::test;
using offload::CompiledRule;
using offload::RuleEntry;
using offload::RuleState;

namespace {

// Rules of assorted groups and priorities, with a spec listed twice within the run.
std::vector<CompiledRule> assorted(uint8_t first, uint8_t n) {
  std::vector<CompiledRule> v;
  for (uint8_t i = 0; i < n; ++i)
    v.push_back(forward_rule(static_cast<uint8_t>(first + i), kVf1, 1, (i * 7u) % 5u));
  v.push_back(ace_rule(kVf0, 3, 9, 1));
  v.push_back(admit_rule(kVf0, 4, 1));
  v.push_back(forward_rule(first, kVf1, 1, 0));  // the same spec as the first
  return v;
}

}  // namespace

TEST_CASE("stage_add of a run equals stage_add one rule at a time") {
  SimNic bulk, single;
  for (int round = 0; round < 2; ++round) {  // the second round finds entries it keeps
    auto rules = assorted(static_cast<uint8_t>(10 + round * 5), 40);
    std::vector<const RuleEntry*> got(rules.size(), nullptr);
    auto copy = rules;

    bulk.rules->begin_update();
    bulk.rules->stage_add(rules.data(), rules.size(), got.data());
    bulk.rules->commit_update();
    single.rules->begin_update();
    for (auto& r : copy) single.rules->stage_add(std::move(r));
    single.rules->commit_update();

    REQUIRE(bulk.rules->size() == single.rules->size());
    CHECK(bulk.nic->ops == single.nic->ops);
    for (const RuleEntry& e : single.rules->entries()) {
      const RuleEntry* b = bulk.rules->find(e.spec);
      REQUIRE(b != nullptr);
      CHECK(b->refs == e.refs);
      CHECK(b->state == e.state);
      CHECK(b->veth == e.veth);
      CHECK(b->chain == e.chain);
    }
    // Each rule's entry is the one the table finds for its spec; a spec listed twice
    // holds two references to one entry.
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == bulk.rules->find(got[i]->spec));
    CHECK(got.front() == got.back());
  }
  const RuleEntry& twice = bulk.entry(forward_rule(10, kVf1, 1, 0).spec);
  CHECK(twice.refs == 2);
  CHECK(twice.state == RuleState::hw);
}

TEST_CASE("entries freed and made again stay findable through pool reuse and index growth") {
  SimNic n;
  constexpr uint32_t kRules = 3000;  // several pool chunks and index sizes
  std::vector<CompiledRule> rules;
  for (uint32_t i = 0; i < kRules; ++i) {
    CompiledRule c = forward_rule(static_cast<uint8_t>(i), kVf1, 1, i);
    c.spec.match.eth_dst =
        offload::Mac{0x02, 0, 0, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 1};
    rules.push_back(c);
  }
  for (const auto& r : rules) n.rules->acquire(r);
  REQUIRE(n.rules->size() == kRules);
  // Every other entry goes; the rest keep their addresses.
  std::vector<const RuleEntry*> kept;
  for (uint32_t i = 0; i < kRules; ++i) {
    if (i % 2)
      n.rules->release(rules[i].spec);
    else
      kept.push_back(n.rules->find(rules[i].spec));
  }
  CHECK(n.rules->size() == kRules / 2);
  CHECK(n.table->size() == kRules / 2);
  for (uint32_t i = 0; i < kRules; ++i) {
    const RuleEntry* e = n.rules->find(rules[i].spec);
    if (i % 2) {
      CHECK(e == nullptr);
    } else {
      REQUIRE(e != nullptr);
      CHECK(e == kept[i / 2]);
      CHECK(e->spec == rules[i].spec);
    }
  }
  // Made again (into the freed places): all there, each once, all in the NIC.
  for (uint32_t i = 1; i < kRules; i += 2) n.rules->acquire(rules[i]);
  REQUIRE(n.rules->size() == kRules);
  std::set<const RuleEntry*> seen;
  for (const RuleEntry& e : n.rules->entries()) {
    CHECK(seen.insert(&e).second);
    CHECK(e.state == RuleState::hw);
    CHECK(e.refs == 1);
  }
  CHECK(seen.size() == kRules);
  for (const auto& r : rules) CHECK(n.rules->find(r.spec) != nullptr);
  CHECK(n.table->size() == kRules);
  n.rules->clear();
  CHECK(n.rules->size() == 0);
  CHECK(n.table->size() == 0);
  CHECK(n.rules->find(rules[0].spec) == nullptr);
}

TEST_CASE("a commit puts rules in by group and priority, equals in listing order, needers last") {
  SimNic n;
  std::vector<CompiledRule> rules;
  rules.push_back(forward_rule(1, kVf1, 1, 7));        // g4 p7
  rules.push_back(admit_rule(kVf0, 4, 1));             // g0, needs the input chain
  rules.push_back(ace_rule(kVf0, 2, 9, 1));            // g2 p2 (chain member)
  rules.push_back(forward_rule(2, kVf1, 1, 0x10000));  // g4 p65536
  rules.push_back(forward_rule(3, kVf1, 1, 7));        // g4 p7, after the first
  rules.push_back(ace_rule(kVf0, 1, 8, 1));            // g2 p1
  std::vector<const RuleEntry*> got(rules.size());
  n.rules->begin_update();
  n.rules->stage_add(rules.data(), rules.size(), got.data());
  n.rules->commit_update();
  CHECK(n.nic->ops == std::vector<std::string>{"create g2", "create g2", "create g4", "create g4",
                                               "create g4", "create g0"});
  // Handles grow with creation: the order among the g4 rules is p7 (dst 1), p7 (dst 3),
  // then p65536.
  CHECK(got[0]->handle.id < got[4]->handle.id);
  CHECK(got[4]->handle.id < got[3]->handle.id);
  CHECK(got[5]->handle.id < got[2]->handle.id);
  for (const RuleEntry* e : got) CHECK(e->state == RuleState::hw);
}
