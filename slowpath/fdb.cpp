#include "slowpath/fdb.h"

#include <random>
#include <stdexcept>

namespace vfs::slowpath {
namespace {

constexpr size_t kMaxCapacity = size_t{1} << 30;
constexpr size_t kMinSlots = 16;

// MurmurHash3's 64-bit finalizer: a bijection with full avalanche, so keys that differ
// in a single bit (consecutive MACs) land far apart.
uint64_t mix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

uint64_t random_seed() {
  std::random_device rd;
  uint64_t s = (uint64_t{rd()} << 32) ^ rd();
  return s ? s : 0x9e3779b97f4a7c15ULL;
}

}  // namespace

const char* learn_outcome_name(LearnOutcome o) {
  switch (o) {
    case LearnOutcome::refreshed:
      return "refreshed";
    case LearnOutcome::learned:
      return "learned";
    case LearnOutcome::moved:
      return "moved";
    case LearnOutcome::table_full:
      return "table_full";
  }
  return "invalid";
}

Fdb::Fdb(size_t capacity, uint64_t hash_seed)
    : capacity_(capacity), seed_(hash_seed ? hash_seed : random_seed()) {
  if (capacity == 0 || capacity > kMaxCapacity)
    throw std::invalid_argument("Fdb capacity must be within 1 .. 2^30");
  size_t n = kMinSlots;
  while (n < 2 * capacity) n <<= 1;
  slots_.resize(n);
  mask_ = n - 1;
}

uint64_t Fdb::make_key(uint16_t vid, const uint8_t mac[kMacLen]) {
  uint64_t k = uint64_t{vid} << 48;
  for (size_t i = 0; i < kMacLen; ++i) k |= uint64_t{mac[i]} << (8 * (kMacLen - 1 - i));
  return k;
}

FdbEntry Fdb::to_entry(const Slot& s) {
  FdbEntry e;
  e.vid = static_cast<uint16_t>(s.key >> 48);
  for (size_t i = 0; i < kMacLen; ++i)
    e.mac[i] = static_cast<uint8_t>(s.key >> (8 * (kMacLen - 1 - i)));
  e.port = s.port;
  e.last_seen_ns = s.last_seen_ns;
  return e;
}

size_t Fdb::home(uint64_t key) const { return mix64(key ^ seed_) & mask_; }

size_t Fdb::find_slot(uint64_t key) const {
  // Terminates: the table is never more than half full, so an empty slot is always ahead.
  for (size_t i = home(key);; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (!s.used) return kNotFound;
    if (s.key == key) return i;
  }
}

LearnOutcome Fdb::learn(uint16_t vid, const uint8_t mac[kMacLen], uint16_t port, uint64_t now_ns) {
  const uint64_t key = make_key(vid, mac);
  size_t i = home(key);
  for (;; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (!s.used) break;
    if (s.key != key) continue;
    refresh(s, now_ns);
    if (s.port == port) return LearnOutcome::refreshed;
    s.port = port;
    ++version_;
    return LearnOutcome::moved;
  }
  if (size_ == capacity_) return LearnOutcome::table_full;
  slots_[i] = Slot{key, now_ns, port, true};
  ++size_;
  ++version_;
  return LearnOutcome::learned;
}

int Fdb::lookup(uint16_t vid, const uint8_t mac[kMacLen]) const {
  const size_t i = find_slot(make_key(vid, mac));
  return i == kNotFound ? -1 : slots_[i].port;
}

std::optional<FdbEntry> Fdb::find(uint16_t vid, const uint8_t mac[kMacLen]) const {
  const size_t i = find_slot(make_key(vid, mac));
  if (i == kNotFound) return std::nullopt;
  return to_entry(slots_[i]);
}

std::optional<Fdb::Ref> Fdb::ref(uint16_t vid, const uint8_t mac[kMacLen]) const {
  const size_t i = find_slot(make_key(vid, mac));
  if (i == kNotFound) return std::nullopt;
  return Ref{static_cast<uint32_t>(i), slots_[i].port};
}

bool Fdb::touch(uint16_t vid, const uint8_t mac[kMacLen], uint64_t now_ns) {
  const size_t i = find_slot(make_key(vid, mac));
  if (i == kNotFound) return false;
  refresh(slots_[i], now_ns);
  return true;
}

bool Fdb::remove(uint16_t vid, const uint8_t mac[kMacLen]) {
  const size_t i = find_slot(make_key(vid, mac));
  if (i == kNotFound) return false;
  erase_at(i);
  return true;
}

void Fdb::clear() {
  for (Slot& s : slots_) s.used = false;
  size_ = 0;
  ++version_;
}

void Fdb::erase_at(size_t hole) {
  ++version_;
  // Backward-shift deletion: walk the rest of the probe chain and pull back every entry
  // whose home is not between the hole and its current slot, so that no entry ever sits
  // behind an empty slot on its way from home.
  for (size_t j = (hole + 1) & mask_; slots_[j].used; j = (j + 1) & mask_) {
    const size_t dist_from_home = (j - home(slots_[j].key)) & mask_;
    const size_t dist_from_hole = (j - hole) & mask_;
    if (dist_from_home >= dist_from_hole) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole].used = false;
  --size_;
}

}  // namespace vfs::slowpath
