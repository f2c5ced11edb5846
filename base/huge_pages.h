// base/huge_pages.h owns the memory of vfswitch's big tables: the rule tables
// (offload/rule_table.h, drivers/sim/sim_rule.h, drivers/sim/sim_classifier.h) fill tens
// of MiB at once and then probe them at random, which with 4 KiB pages costs a page fault
// per 4 KiB while filling (~2.5 µs each on the development VM) and a TLB miss per probe.
// A block of 2 MiB or more is mapped here on a 2 MiB boundary and advised for transparent
// huge pages before it is touched, so that it fills with one fault per 2 MiB; malloc's own
// big blocks start at a page, not a huge page, and lose a huge page at each end. Smaller
// blocks go to malloc as usual.
//
// The bytes in use are counted (huge_bytes_mapped()), so that memory figures that read
// malloc's statistics (the benches) can add them. Freed blocks are kept for reuse up to a
// bound, as malloc keeps freed memory.
#pragma once

#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace vfs {

inline constexpr size_t kHugePage = size_t{2} << 20;
inline constexpr size_t kSmallPage = size_t{4} << 10;

// Asks for transparent huge pages over the whole 2 MiB pages inside [p, p + bytes), before
// they are first touched. Only advice: where the kernel has none, nothing changes. Blocks
// below two huge pages are left alone (no whole aligned page is likely to fit).
inline void advise_huge_pages(void* p, size_t bytes) {
  if (bytes < 2 * kHugePage) return;
  const uintptr_t first = (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHugePage - 1);
  if (end > first) (void)madvise(reinterpret_cast<void*>(first), end - first, MADV_HUGEPAGE);
}

// What alloc_big() must give: zero bytes, or whatever the block holds (the caller
// constructs every object it uses).
enum class BigFill : uint8_t { zero, any };

namespace huge_detail {
inline size_t mapping_length(size_t bytes) { return (bytes + kSmallPage - 1) & ~(kSmallPage - 1); }

// Blocks given back are kept for the next tables, as malloc keeps freed memory: a table
// that is cleared and filled again (or a second table after a first) reuses its pages
// instead of faulting fresh ones in. Bounded; past the bound they go back to the kernel.
inline constexpr size_t kKeepMax = size_t{128} << 20;
struct Blocks {
  std::mutex mu;
  std::vector<std::pair<void*, size_t>> kept;  // (block, mapping length)
  size_t kept_bytes = 0;
  std::atomic<size_t> in_use{0};  // mapping lengths handed out
};
// Never destroyed: tables may give blocks back during static destruction.
inline Blocks& blocks() {
  static Blocks* b = new Blocks;
  return *b;
}

inline void* take_kept(size_t len) {
  Blocks& b = blocks();
  std::lock_guard<std::mutex> g(b.mu);
  for (auto it = b.kept.begin(); it != b.kept.end(); ++it) {
    if (it->second != len) continue;
    void* p = it->first;
    b.kept.erase(it);
    b.kept_bytes -= len;
    return p;
  }
  return nullptr;
}

// Maps a huge page more than needed, then gives back what lies outside the aligned block.
// The block's own length stays a multiple of 4 KiB: a partial 2 MiB page at its end is
// backed by small pages, so the resident memory is what is used.
inline void* map_aligned(size_t len) {
  void* raw =
      mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > start) (void)munmap(raw, aligned - start);
  const uintptr_t tail = aligned + len;
  const uintptr_t end = start + len + kHugePage;
  if (end > tail) (void)munmap(reinterpret_cast<void*>(tail), end - tail);
  void* p = reinterpret_cast<void*>(aligned);
  (void)madvise(p, len & ~(kHugePage - 1), MADV_HUGEPAGE);
  return p;
}
}  // namespace huge_detail

// Bytes of the blocks from alloc_big() that are in use now (whole 4 KiB pages; not those
// kept for reuse), for memory figures that read malloc's statistics (the benches).
inline size_t huge_bytes_mapped() {
  return huge_detail::blocks().in_use.load(std::memory_order_relaxed);
}

// True when alloc_big(bytes) maps its own block (huge-page aligned) rather than calling
// malloc; free_big() must be given the same `bytes`.
inline bool maps_own_block(size_t bytes) { return bytes >= kHugePage; }

// Memory aligned to at least 64 bytes, zero-filled when `fill` says so. A fresh block's
// pages are zero already (the kernel cleared them) and are not written here; a reused
// one is cleared only for BigFill::zero. Throws std::bad_alloc when there is none.
inline void* alloc_big(size_t bytes, BigFill fill) {
  if (!maps_own_block(bytes)) {
    const size_t rounded = (bytes + 63) & ~size_t{63};
    void* p = std::aligned_alloc(64, rounded);
    if (!p) throw std::bad_alloc();
    if (fill == BigFill::zero) std::memset(p, 0, rounded);
    return p;
  }
  const size_t len = huge_detail::mapping_length(bytes);
  void* p = huge_detail::take_kept(len);
  if (p) {
    if (fill == BigFill::zero) std::memset(p, 0, len);
  } else {
    p = huge_detail::map_aligned(len);
  }
  huge_detail::blocks().in_use.fetch_add(len, std::memory_order_relaxed);
  return p;
}

inline void free_big(void* p, size_t bytes) {
  if (!p) return;
  if (!maps_own_block(bytes)) {
    std::free(p);
    return;
  }
  const size_t len = huge_detail::mapping_length(bytes);
  huge_detail::Blocks& b = huge_detail::blocks();
  b.in_use.fetch_sub(len, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> g(b.mu);
    if (b.kept_bytes + len <= huge_detail::kKeepMax) {
      b.kept.emplace_back(p, len);
      b.kept_bytes += len;
      return;
    }
  }
  (void)munmap(p, len);
}

// A std::allocator for the big arrays of a table (hash slots): alloc_big / free_big. For
// element types whose value-initialised state is all zero bytes (an empty slot), which
// the memory already holds: a vector(n) of them is not written over again, so that a
// fresh table's slots cost the kernel's zeroing only. Such a vector is made at its size
// and never grown back by resize() after it shrank (its old bytes would stay).
template <typename T>
struct BigAllocator {
  using value_type = T;
  BigAllocator() = default;
  template <typename U>
  BigAllocator(const BigAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(alloc_big(n * sizeof(T), BigFill::zero)); }
  void deallocate(T* p, size_t n) { free_big(p, n * sizeof(T)); }
  // Value-initialisation: the bytes are zero already.
  template <typename U>
  void construct(U*) {
    static_assert(std::is_trivially_copyable_v<U> && std::is_trivially_destructible_v<U>);
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <typename U>
  bool operator==(const BigAllocator<U>&) const {
    return true;
  }
};

}  // namespace vfs
