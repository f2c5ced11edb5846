// slowpath/fdb.h owns the L2 forwarding database: (VLAN, MAC) -> representor ethdev port,
// learned from source addresses and aged by times the caller passes in (tests move a
// clock, nobody sleeps). One thread owns it (the slow path's poll loop): no locks, and all
// memory is taken at construction, so learn/lookup never allocate.
//
// It stores what it is told: filtering multicast or zero source MACs, and deciding
// whether a move is allowed, belong to the caller's port security.
//
// Layout: open addressing with linear probing in a power-of-two table at most half full;
// deletion shifts later entries of the probe chain back (no tombstones), so lookups stay
// short however many entries come and go. The hash is seeded per table so that a VM
// choosing source MACs cannot aim them all at one probe chain.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>
#include <vector>

#include "slowpath/mac_address.h"

namespace vfs::slowpath {

enum class LearnOutcome : uint8_t {
  refreshed,   // known on the same port; last-seen time updated
  learned,     // new entry
  moved,       // known on another port; now on this one
  table_full,  // new, but the table holds capacity() entries; nothing changed
};

const char* learn_outcome_name(LearnOutcome o);

struct FdbEntry {
  uint16_t vid = 0;
  uint8_t mac[kMacLen] = {};
  uint16_t port = 0;
  uint64_t last_seen_ns = 0;
};

class Fdb {
 public:
  // capacity: the most entries it holds (1 .. 2^30, else std::invalid_argument).
  // hash_seed 0 picks a random seed; tests pass a fixed one for reproducible layouts.
  explicit Fdb(size_t capacity, uint64_t hash_seed = 0);

  // Records that mac sent on port in VLAN vid at now_ns. Last-seen times never move
  // backwards (a late, older timestamp leaves the entry's time alone).
  LearnOutcome learn(uint16_t vid, const uint8_t mac[kMacLen], uint16_t port, uint64_t now_ns);

  // The port of (vid, mac), or -1.
  int lookup(uint16_t vid, const uint8_t mac[kMacLen]) const;
  std::optional<FdbEntry> find(uint16_t vid, const uint8_t mac[kMacLen]) const;

  // Activity seen elsewhere (hardware counters of the entry's rule): refreshes last-seen
  // without changing the port. False if (vid, mac) is unknown.
  bool touch(uint16_t vid, const uint8_t mac[kMacLen], uint64_t now_ns);

  // An entry's place and port, for a caller that remembers what it found: valid while
  // version() stays as it was when ref() returned it (entries move only when one is added,
  // moved or removed).
  struct Ref {
    uint32_t slot = 0;
    uint16_t port = 0;
  };
  std::optional<Ref> ref(uint16_t vid, const uint8_t mac[kMacLen]) const;
  // touch() of the entry r refers to, without looking it up.
  void touch(Ref r, uint64_t now_ns) { refresh(slots_[r.slot], now_ns); }

  bool remove(uint16_t vid, const uint8_t mac[kMacLen]);
  void clear();

  // The removing members below call on_removed(uint16_t vid, const uint8_t* mac,
  // uint16_t port) once per entry they remove, after removing it; the callback must not
  // modify this table. They return the number removed.

  // Removes entries idle for max_age_ns or more: now_ns - last_seen_ns >= max_age_ns.
  template <class F>
  size_t age(uint64_t now_ns, uint64_t max_age_ns, F&& on_removed) {
    return remove_if(
        [&](uint16_t, const uint8_t*, uint16_t, uint64_t last_seen) {
          return now_ns >= last_seen && now_ns - last_seen >= max_age_ns;
        },
        on_removed);
  }

  template <class F>
  size_t remove_port(uint16_t port, F&& on_removed) {
    return remove_if([&](uint16_t, const uint8_t*, uint16_t p) { return p == port; }, on_removed);
  }

  template <class F>
  size_t remove_vlan(uint16_t vid, F&& on_removed) {
    return remove_if([&](uint16_t v, const uint8_t*, uint16_t) { return v == vid; }, on_removed);
  }

  // pred is called as pred(vid, mac, port) or pred(vid, mac, port, last_seen_ns).
  template <class Pred, class F>
  size_t remove_if(Pred&& pred, F&& on_removed);

  // f(const FdbEntry&) for every entry, in table order.
  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_)
      if (s.used) f(to_entry(s));
  }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  // Changes whenever an entry is added, moved or removed, never when one is refreshed:
  // a decision that read the table holds while this stays the same.
  uint64_t version() const { return version_; }

 private:
  struct Slot {
    uint64_t key = 0;  // vid << 48 | mac
    uint64_t last_seen_ns = 0;
    uint16_t port = 0;
    bool used = false;
  };
  static constexpr size_t kNotFound = SIZE_MAX;
  // Last-seen times never move backwards.
  static void refresh(Slot& s, uint64_t now_ns) {
    if (now_ns > s.last_seen_ns) s.last_seen_ns = now_ns;
  }

  static uint64_t make_key(uint16_t vid, const uint8_t mac[kMacLen]);
  static FdbEntry to_entry(const Slot& s);
  size_t home(uint64_t key) const;
  size_t find_slot(uint64_t key) const;
  void erase_at(size_t i);

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  size_t capacity_ = 0;
  uint64_t seed_ = 0;
  uint64_t version_ = 0;
};

template <class Pred, class F>
size_t Fdb::remove_if(Pred&& pred, F&& on_removed) {
  if (size_ == 0) return 0;
  // Start just after an empty slot: probe chains never cross it, so backward shifts only
  // move entries into the slot being examined or into slots not visited yet.
  size_t start = 0;
  while (slots_[start].used) ++start;
  size_t removed = 0;
  size_t i = (start + 1) & mask_;
  for (size_t visited = 1; visited < slots_.size();) {
    const Slot& s = slots_[i];
    bool hit = false;
    if (s.used) {
      const FdbEntry e = to_entry(s);
      if constexpr (std::is_invocable_v<Pred&, uint16_t, const uint8_t*, uint16_t, uint64_t>)
        hit = pred(e.vid, e.mac, e.port, e.last_seen_ns);
      else
        hit = pred(e.vid, e.mac, e.port);
      if (hit) {
        erase_at(i);
        ++removed;
        on_removed(e.vid, e.mac, e.port);
        continue;  // slot i now holds the next entry of the chain, or is empty
      }
    }
    i = (i + 1) & mask_;
    ++visited;
  }
  return removed;
}

}  // namespace vfs::slowpath
