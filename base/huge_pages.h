// base/huge_pages.h owns the advice that lets a big table's memory come in 2 MiB pages:
// the rule tables (offload/rule_table.h, drivers/sim/sim_rule.h) fill tens of MiB at once
// and then probe them at random, which with 4 KiB pages costs a page fault per 4 KiB
// while filling and a TLB miss per probe.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace vfs {

inline constexpr size_t kHugePage = size_t{2} << 20;

// Asks for transparent huge pages over the whole 2 MiB pages inside [p, p + bytes), before
// they are first touched. Only advice: where the kernel has none, nothing changes. Blocks
// below two huge pages are left alone (no whole aligned page is likely to fit).
inline void advise_huge_pages(void* p, size_t bytes) {
  if (bytes < 2 * kHugePage) return;
  const uintptr_t first = (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHugePage - 1);
  if (end > first) (void)madvise(reinterpret_cast<void*>(first), end - first, MADV_HUGEPAGE);
}

}  // namespace vfs
