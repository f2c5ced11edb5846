// drivers/sim/sim_rule.h owns the sim's compiled form of one rte_flow rule: its key (the
// values its pattern wants, drivers/sim/sim_match.h), its actions as an ordered list of
// operations (VLAN edits, METER, SAMPLE) followed by one fate, and its counters. A rule
// takes three cache lines of a chunk (no allocation of its own) unless it meters, samples
// or has more edits or outputs than fit inline; the shape of its pattern lives in the
// classifier's subtable.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/free_slots.h"
#include "drivers/flow_backend.h"
#include "drivers/sim/sim_flow_table.h"
#include "drivers/sim/sim_match.h"
#include "drivers/sim/sim_meters.h"

namespace vfs::drivers::sim {

inline constexpr unsigned kMaxOps = 8;      // edits, METER and SAMPLE actions per rule
inline constexpr unsigned kMaxSamples = 2;  // SAMPLE actions per rule

// One action that runs before the rule's fate, in the order the rule lists it.
struct Op {
  enum class Kind : uint8_t { push_vlan, set_vid, set_pcp, pop_vlan, meter, sample };
  Kind kind = Kind::push_vlan;
  uint16_t value = 0;  // push_vlan: TPID; set_vid: VID; set_pcp: PCP; sample: its index
};

// SAMPLE with ratio 1: a copy of the frame as it is at that point goes to each output.
struct Sample {
  uint8_t n_out = 0;
  std::array<Destination, kMaxOutputs> out{};
};

class Subtable;

// What a rule's actions compile to, before the rule stores them compactly.
struct RuleActions {
  enum class Fate : uint8_t { none, drop, jump, output };
  Fate fate = Fate::none;
  bool counted = false;
  uint8_t n_ops = 0;
  uint8_t n_out = 0;
  uint8_t n_samples = 0;
  uint32_t jump_group = 0;
  Meter* meter = nullptr;  // the METER action's meter
  std::array<Op, kMaxOps> ops{};
  std::array<Destination, kMaxOutputs> out{};
  std::array<Sample, kMaxSamples> samples{};
};

// The actions of a rule that has a METER or SAMPLE action, or more edits or outputs than
// a rule holds inline: one allocation for the few rules (policers, SPAN) that need it.
struct RuleExtra {
  Meter* meter = nullptr;  // its rule count includes this rule
  std::array<Op, kMaxOps> ops{};
  std::array<Destination, kMaxOutputs> out{};
  std::array<Sample, kMaxSamples> samples{};
};

inline constexpr unsigned kInlineOps = 4;
inline constexpr unsigned kInlineOutputs = 2;

// On whole cache lines: a create or destroy in a big table costs its cache misses, and
// creating into fresh memory costs its pages.
struct alignas(64) Rule {
  using Fate = RuleActions::Fate;

  uint64_t id = 0;   // the FlowHandle: generation << 32 | (slot + 1), see RuleStore
  uint64_t seq = 0;  // insertion order, breaks priority ties
  uint32_t group = 0;
  uint32_t priority = 0;
  // Kept by the classifier (drivers/sim/sim_classifier.h).
  Subtable* subtable = nullptr;
  Rule* next_same_key = nullptr;
  std::unique_ptr<RuleExtra> extra;  // set: the ops and outputs are there, not inline
  uint32_t jump_group = 0;
  uint8_t n_ops = 0;
  uint8_t n_out = 0;
  Fate fate = Fate::none;
  bool counted = false;
  MatchKey key;
  FlowCounters counters;
  std::array<Op, kInlineOps> inline_ops{};
  std::array<Destination, kInlineOutputs> inline_out{};

  const Op* ops() const { return extra ? extra->ops.data() : inline_ops.data(); }
  const Destination* out() const { return extra ? extra->out.data() : inline_out.data(); }
  Meter* meter() const { return extra ? extra->meter : nullptr; }
  const Sample& sample(unsigned i) const { return extra->samples[i]; }

  // Takes the compiled actions (allocating `extra` only when they need it).
  void set_actions(const RuleActions& a);
};

// Three cache lines: the sim's memory per rule and the misses of a create or destroy.
static_assert(sizeof(Rule) == 192);

inline bool runs_before(const Rule* a, const Rule* b) {
  return a->priority != b->priority ? a->priority < b->priority : a->seq < b->seq;
}

// The table's rules, in chunks so that they never move and cost no allocation each, found
// by handle in O(1). A handle carries a generation that no other rule of the store gets
// (one per create, 2^32 of them), so a stale handle never finds a newer rule. A rule is
// reset when its slot is taken again, not when it is released: a destroy then touches only
// what it reads, and the create that writes the rule anyway pays for the reset. The lowest
// free slot is taken first (base/free_slots.h), so a reload streams through the chunks as
// the first load did.
class RuleStore {
 public:
  RuleStore() = default;
  RuleStore(const RuleStore&) = delete;
  RuleStore& operator=(const RuleStore&) = delete;
  ~RuleStore();

  // A fresh (default) rule with its id set; its slot is taken until release().
  Rule* acquire();
  void release(Rule* r);
  Rule* find(uint64_t id) const;
  void clear();  // releases every rule (keeping the memory); handles stay unique
  size_t size() const { return live_; }

 private:
  // Chunk k holds slots [kFirstChunk << k >> 1, kFirstChunk << k) (chunk 0: the first
  // kFirstChunk): chunks double, so a small table stays small and a big one's chunks are
  // big enough for huge pages; a slot's chunk is its bit width. A chunk's rules are
  // constructed as their slots are first handed out.
  static constexpr uint32_t kFirstChunkShift = 6;
  static constexpr uint32_t kFirstChunk = 1u << kFirstChunkShift;
  static uint32_t chunk_of(uint32_t slot) {
    return static_cast<uint32_t>(std::bit_width(slot >> kFirstChunkShift));
  }
  static uint32_t chunk_start(uint32_t chunk) {
    return chunk == 0 ? 0 : kFirstChunk << (chunk - 1);
  }
  // Whole huge pages from 2 MiB on (base/huge_pages.h).
  static size_t chunk_bytes(uint32_t chunk) {
    return size_t{chunk == 0 ? kFirstChunk : chunk_start(chunk)} * sizeof(Rule);
  }
  // A free slot's rule has id 0.
  Rule& at(uint32_t slot) const {
    const uint32_t c = chunk_of(slot);
    return chunks_[c][slot - chunk_start(c)];
  }

  std::vector<Rule*> chunks_;
  FreeSlots free_;
  uint32_t next_slot_ = 0;  // slots ever handed out
  uint32_t next_generation_ = 1;
  size_t live_ = 0;
};

}  // namespace vfs::drivers::sim
