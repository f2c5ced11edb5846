#include "drivers/sim/sim_rule.h"

#include <algorithm>
#include <new>

#include "base/huge_pages.h"

namespace vfs::drivers::sim {

void Rule::set_actions(const RuleActions& a) {
  fate = a.fate;
  counted = a.counted;
  jump_group = a.jump_group;
  n_ops = a.n_ops;
  n_out = a.n_out;
  if (a.meter || a.n_samples > 0 || a.n_ops > kInlineOps || a.n_out > kInlineOutputs) {
    extra = std::make_unique<RuleExtra>();
    extra->meter = a.meter;
    extra->ops = a.ops;
    extra->out = a.out;
    extra->samples = a.samples;
    return;
  }
  extra.reset();
  std::copy_n(a.ops.begin(), kInlineOps, inline_ops.begin());
  std::copy_n(a.out.begin(), kInlineOutputs, inline_out.begin());
}

RuleStore::~RuleStore() {
  for (uint32_t slot = 0; slot < next_slot_; ++slot) at(slot).~Rule();
  for (size_t c = 0; c < chunks_.size(); ++c) free_big(chunks_[c], chunk_bytes(c));
}

Rule* RuleStore::acquire() {
  uint32_t slot;
  // A slot handed out for the first time is constructed; a released one is reset here.
  if (!free_.empty()) {
    slot = free_.take_lowest();
    at(slot) = Rule{};
  } else {
    slot = next_slot_++;
    const uint32_t c = chunk_of(slot);
    if (c == chunks_.size()) {
      // Rules are constructed as their slots are handed out.
      chunks_.push_back(static_cast<Rule*>(alloc_big(chunk_bytes(c), BigFill::any)));
    }
    new (&at(slot)) Rule;
  }
  // The next create most likely takes the next slot: start loading its lines now, as a
  // reused slot is cold (a fresh one streams, and the prefetcher sees that by itself).
  if (const uint32_t next = free_.peek_lowest(); next != UINT32_MAX) {
    const char* p = reinterpret_cast<const char*>(&at(next));
    for (size_t off = 0; off < sizeof(Rule); off += 64) __builtin_prefetch(p + off, 1);
  }
  Rule& r = at(slot);
  const uint32_t generation = next_generation_++;
  if (next_generation_ == 0) next_generation_ = 1;  // after 2^32 creates: ids may repeat
  r.id = uint64_t{generation} << 32 | (uint64_t{slot} + 1);
  ++live_;
  return &r;
}

void RuleStore::release(Rule* r) {
  const uint32_t slot = static_cast<uint32_t>(r->id & 0xffffffffu) - 1;
  r->id = 0;  // free
  r->extra.reset();
  free_.add(slot);
  --live_;
}

Rule* RuleStore::find(uint64_t id) const {
  const uint64_t low = id & 0xffffffffu;
  if (low == 0 || low > next_slot_) return nullptr;
  Rule& r = at(static_cast<uint32_t>(low - 1));
  return r.id == id ? &r : nullptr;
}

// The chunks stay, as a NIC's rule memory does: the next rules reuse them.
void RuleStore::clear() {
  free_.clear();
  for (uint32_t slot = 0; slot < next_slot_; ++slot) {
    Rule& r = at(slot);
    r.id = 0;
    r.extra.reset();
    free_.add(slot);
  }
  live_ = 0;
}

}  // namespace vfs::drivers::sim
