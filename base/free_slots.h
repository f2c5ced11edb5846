// base/free_slots.h owns the free list of the big tables' slot stores (the rule table's
// entries, the sim's rules): a set of free slot numbers that always hands out the lowest.
// A LIFO list hands slots back in the order they were freed, which after a big teardown
// is scattered across the store, and the next load then takes a cache miss (and, after a
// while, a TLB miss) per rule where a fresh store streams through memory. Handing out the
// lowest keeps a reload as sequential as the first load.
//
// One bit per slot; add and take are O(1) amortised (take scans forward from the lowest
// word that may hold a free slot, and only add moves that mark back).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace vfs {

class FreeSlots {
 public:
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  bool contains(uint32_t slot) const {
    const size_t w = slot / 64;
    return w < words_.size() && (words_[w] >> (slot % 64) & 1) != 0;
  }

  // Adding a slot that is already free is a programming error (a double free).
  void add(uint32_t slot) {
    const size_t w = slot / 64;
    if (w >= words_.size()) words_.resize(w + 1, 0);
    const uint64_t bit = uint64_t{1} << (slot % 64);
    if (words_[w] & bit) throw std::logic_error("FreeSlots::add: slot is already free");
    words_[w] |= bit;
    ++count_;
    if (w < first_) first_ = w;
  }
  // The lowest free slot, taken out of the set. Only when !empty().
  uint32_t take_lowest() {
    if (count_ == 0) throw std::logic_error("FreeSlots::take_lowest: no free slot");
    const uint32_t slot = lowest();
    words_[first_] &= words_[first_] - 1;  // the lowest set bit is that slot's
    --count_;
    return slot;
  }
  // The slot take_lowest() would return, or UINT32_MAX when there is none; changes nothing
  // (for prefetching the next slot's memory).
  uint32_t peek_lowest() { return count_ == 0 ? UINT32_MAX : lowest(); }
  void clear() {
    words_.clear();
    count_ = 0;
    first_ = 0;
  }

 private:
  // The lowest free slot; moves first_ to its word. Only when count_ > 0.
  uint32_t lowest() {
    while (words_[first_] == 0) ++first_;
    return static_cast<uint32_t>(first_ * 64 +
                                 static_cast<unsigned>(std::countr_zero(words_[first_])));
  }

  std::vector<uint64_t> words_;
  size_t count_ = 0;
  size_t first_ = 0;  // no free slot lies in a word below this one
};

}  // namespace vfs
