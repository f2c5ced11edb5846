// drivers/sim/sim_classifier.h owns rule lookup: a tuple space search, as in Open
// vSwitch's classifier. Within a group, rules whose patterns have the same shape
// (drivers/sim/sim_match.h) share a subtable: a hash table from key to the rules with
// that key, best first. A lookup probes the group's subtables in order of their best
// priority and stops once no remaining subtable can beat the match in hand, so it costs
// one hash probe per distinct shape, not one comparison per rule. Insertion and removal
// cost one hash probe (plus a sort of the group's few subtables when its best priority
// changes).
//
// The result is that of a linear walk in (priority, insertion order); ClassifierKind::
// linear is that walk, kept as the reference that tests compare the index with.
//
// Not thread-safe: the flow table's owner serialises calls.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/huge_pages.h"
#include "drivers/sim/sim_match.h"
#include "drivers/sim/sim_rule.h"

namespace vfs::drivers::sim {

// The rules of one shape in one group.
class Subtable {
 public:
  explicit Subtable(const MatchShape& shape) : shape_(shape) {}

  const MatchShape& shape() const { return shape_; }
  uint32_t best_priority() const { return best_; }
  size_t size() const { return rules_; }

  // The best rule whose key equals k (h = key_hash(k)), or nullptr.
  Rule* find(const MatchKey& k, uint64_t h) const {
    if (slots_.empty()) return nullptr;
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (!s.head) return nullptr;
      if (s.hash == h && key_equal(s.head->key, k, shape_.key_len)) return s.head;
    }
  }
  // True if the best priority changed. h = key_hash(r->key, shape().key_len).
  bool insert(Rule* r, uint64_t h);
  // Starts loading the slot where a key of hash h is probed first. Unconditional on
  // purpose: GCC 12 at -O2 deletes a prefetch that is the only statement under an `if`
  // (it did here: the hint's prefetch was never emitted). With no slots the address is
  // meaningless, which a prefetch tolerates; it is formed as an integer, so no pointer
  // arithmetic goes past an empty vector.
  void prefetch(uint64_t h) const {
    const uintptr_t first = reinterpret_cast<uintptr_t>(slots_.data());
    const size_t mask = slots_.size() - 1;
    __builtin_prefetch(reinterpret_cast<const void*>(first + (h & mask) * sizeof(Slot)), 1);
  }
  bool erase(Rule* r);

 private:
  struct Slot {
    uint64_t hash = 0;
    Rule* head = nullptr;  // rules with one key, chained through next_same_key, best first
  };
  void grow();
  void remove_slot(size_t i);
  void update_best();

  // Big ones on huge pages (base/huge_pages.h).
  using Slots = std::vector<Slot, BigAllocator<Slot>>;

  MatchShape shape_;
  Slots slots_;      // open addressing, linear probing, power-of-two size
  size_t used_ = 0;  // slots in use
  size_t rules_ = 0;
  std::vector<std::pair<uint32_t, uint32_t>> priorities_;  // (priority, rules), sorted
  uint32_t best_ = UINT32_MAX;
};

class Classifier {
 public:
  explicit Classifier(ClassifierKind kind) : kind_(kind) {}
  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  // Where insert() will put a rule, found ahead by prepare() so that the load of its slot
  // overlaps the caller's other work. Valid while no rule is erased (a subtable goes only
  // with its last rule); inserts in between only make the load wasted.
  struct InsertHint {
    Subtable* subtable = nullptr;  // nullptr: insert() looks it up
    uint64_t key_hash = 0;
  };
  // r->group and key are set; shape is its pattern's (finished). Changes nothing.
  InsertHint prepare(const Rule& r, const MatchShape& shape);
  // r->group, priority, seq and key are set; shape is its pattern's (finished); hint is
  // prepare()'s for this rule.
  void insert(Rule* r, const MatchShape& shape, const InsertHint& hint);
  void insert(Rule* r, const MatchShape& shape);
  void erase(Rule* r);
  void clear();

  // The rule of `group` that the frame hits, or nullptr. No allocation.
  Rule* lookup(uint32_t group, uint16_t in_port, const Layout& l, const uint8_t* p,
               uint32_t len) const;

  size_t subtables(uint32_t group) const;  // for tests and benchmarks

 private:
  struct Group {
    std::vector<std::unique_ptr<Subtable>> owned;
    std::unordered_multimap<uint64_t, Subtable*> by_shape;
    std::vector<Subtable*> order;  // by best priority
    std::vector<Rule*> all;        // ClassifierKind::linear only
    size_t size = 0;
    // The subtable of the last insert: rules come in runs of one shape (a port's ACL), and
    // the run skips the lookup by shape.
    Subtable* last = nullptr;
  };
  Rule* lookup_indexed(const Group& g, uint16_t in_port, const Layout& l, const uint8_t* p,
                       uint32_t len) const;
  Rule* lookup_linear(const Group& g, uint16_t in_port, const Layout& l, const uint8_t* p,
                      uint32_t len) const;
  static void sort_order(Group& g);
  // The group, looked up once for a run of rules of one group (nullptr: none yet).
  Group* find_group(uint32_t group);
  // g.last when it has this shape.
  static Subtable* last_of_shape(const Group& g, const MatchShape& shape) {
    return g.last && g.last->shape().hash == shape.hash && g.last->shape() == shape ? g.last
                                                                                    : nullptr;
  }

  ClassifierKind kind_;
  std::unordered_map<uint32_t, std::unique_ptr<Group>> groups_;
  Group* last_group_ = nullptr;  // groups_[last_group_id_], or nullptr
  uint32_t last_group_id_ = 0;
};

}  // namespace vfs::drivers::sim
