#include "drivers/sim/sim_classifier.h"

#include <algorithm>

#include "base/huge_pages.h"

namespace vfs::drivers::sim {

// ---- subtable ------------------------------------------------------------------------

void Subtable::grow() {
  const size_t n = std::max<size_t>(16, slots_.size() * 2);
  Slots old(n);
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (!s.head) continue;
    size_t i = s.hash & mask;
    while (slots_[i].head) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

// Backward-shift deletion: later entries of the probe run move up so that no lookup
// stops early at the hole.
void Subtable::remove_slot(size_t i) {
  const size_t mask = slots_.size() - 1;
  size_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (!slots_[j].head) break;
    const size_t home = slots_[j].hash & mask;
    // Slot j may move to i unless its home lies cyclically in (i, j].
    const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (stays) continue;
    slots_[i] = slots_[j];
    i = j;
  }
  slots_[i] = Slot{};
  --used_;
}

void Subtable::update_best() {
  best_ = priorities_.empty() ? UINT32_MAX : priorities_.front().first;
}

bool Subtable::insert(Rule* r, uint64_t h) {
  if ((used_ + 1) * 2 > slots_.size()) grow();
  const size_t mask = slots_.size() - 1;
  // In a big table the slot is a cache miss: start the load before the bookkeeping.
  __builtin_prefetch(&slots_[h & mask], 1);
  r->subtable = this;
  ++rules_;
  auto at = std::lower_bound(priorities_.begin(), priorities_.end(),
                             std::make_pair(r->priority, uint32_t{0}));
  if (at != priorities_.end() && at->first == r->priority)
    ++at->second;
  else
    priorities_.insert(at, {r->priority, 1});
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (!s.head) {
      s = Slot{h, r};
      r->next_same_key = nullptr;
      ++used_;
      break;
    }
    if (s.hash != h || !key_equal(s.head->key, r->key, shape_.key_len)) continue;
    if (runs_before(r, s.head)) {
      r->next_same_key = s.head;
      s.head = r;
    } else {
      Rule* p = s.head;
      while (p->next_same_key && runs_before(p->next_same_key, r)) p = p->next_same_key;
      r->next_same_key = p->next_same_key;
      p->next_same_key = r;
    }
    break;
  }
  const uint32_t before = best_;
  update_best();
  return best_ != before;
}

bool Subtable::erase(Rule* r) {
  const uint64_t h = key_hash(r->key, shape_.key_len);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (!s.head) return false;  // not here: nothing to undo
    if (s.hash != h || !key_equal(s.head->key, r->key, shape_.key_len)) continue;
    if (s.head == r) {
      if (r->next_same_key)
        s.head = r->next_same_key;
      else
        remove_slot(i);
    } else {
      Rule* p = s.head;
      while (p->next_same_key && p->next_same_key != r) p = p->next_same_key;
      if (!p->next_same_key) return false;
      p->next_same_key = r->next_same_key;
    }
    break;
  }
  r->next_same_key = nullptr;
  r->subtable = nullptr;
  --rules_;
  auto it = std::lower_bound(priorities_.begin(), priorities_.end(),
                             std::make_pair(r->priority, uint32_t{0}));
  if (--it->second == 0) priorities_.erase(it);
  const uint32_t before = best_;
  update_best();
  return best_ != before;
}

// ---- classifier -----------------------------------------------------------------------

Classifier::~Classifier() = default;

void Classifier::sort_order(Group& g) {
  std::stable_sort(g.order.begin(), g.order.end(), [](const Subtable* a, const Subtable* b) {
    return a->best_priority() < b->best_priority();
  });
}

Classifier::Group* Classifier::find_group(uint32_t group) {
  if (last_group_ && last_group_id_ == group) return last_group_;
  auto it = groups_.find(group);
  if (it == groups_.end()) return nullptr;
  last_group_ = it->second.get();
  last_group_id_ = group;
  return last_group_;
}

Classifier::InsertHint Classifier::prepare(const Rule& r, const MatchShape& shape) {
  const Group* g = find_group(r.group);
  Subtable* st = g ? last_of_shape(*g, shape) : nullptr;
  if (!st) return {};
  const uint64_t h = key_hash(r.key, shape.key_len);
  st->prefetch(h);
  return {st, h};
}

void Classifier::insert(Rule* r, const MatchShape& shape) { insert(r, shape, InsertHint{}); }

void Classifier::insert(Rule* r, const MatchShape& shape, const InsertHint& hint) {
  Group* gp = find_group(r->group);
  if (!gp) {
    std::unique_ptr<Group>& owned = groups_[r->group];
    owned = std::make_unique<Group>();
    gp = owned.get();
    last_group_ = gp;
    last_group_id_ = r->group;
  }
  Group& g = *gp;
  Subtable* st = hint.subtable ? hint.subtable : last_of_shape(g, shape);
  if (!st) {
    auto [from, to] = g.by_shape.equal_range(shape.hash);
    for (auto it = from; it != to; ++it)
      if (it->second->shape() == shape) {
        st = it->second;
        break;
      }
  }
  if (!st) {
    g.owned.push_back(std::make_unique<Subtable>(shape));
    st = g.owned.back().get();
    g.by_shape.emplace(shape.hash, st);
    g.order.push_back(st);
  }
  g.last = st;
  if (st->insert(r, hint.subtable ? hint.key_hash : key_hash(r->key, shape.key_len))) sort_order(g);
  if (kind_ == ClassifierKind::linear) g.all.push_back(r);
  ++g.size;
}

void Classifier::erase(Rule* r) {
  auto git = groups_.find(r->group);
  if (git == groups_.end() || !r->subtable) return;
  Group& g = *git->second;
  Subtable* st = r->subtable;
  const bool reorder = st->erase(r);
  if (kind_ == ClassifierKind::linear) {
    auto it = std::find(g.all.begin(), g.all.end(), r);
    if (it != g.all.end()) {
      *it = g.all.back();
      g.all.pop_back();
    }
  }
  if (--g.size == 0) {
    if (last_group_ == &g) last_group_ = nullptr;
    groups_.erase(git);
    return;
  }
  if (st->size() == 0) {
    if (g.last == st) g.last = nullptr;
    g.order.erase(std::find(g.order.begin(), g.order.end(), st));
    auto [from, to] = g.by_shape.equal_range(st->shape().hash);
    for (auto it = from; it != to; ++it)
      if (it->second == st) {
        g.by_shape.erase(it);
        break;
      }
    g.owned.erase(std::find_if(g.owned.begin(), g.owned.end(),
                               [st](const std::unique_ptr<Subtable>& p) { return p.get() == st; }));
  } else if (reorder) {
    sort_order(g);
  }
}

void Classifier::clear() {
  groups_.clear();
  last_group_ = nullptr;
}

size_t Classifier::subtables(uint32_t group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? 0 : it->second->order.size();
}

Rule* Classifier::lookup(uint32_t group, uint16_t in_port, const Layout& l, const uint8_t* p,
                         uint32_t len) const {
  auto it = groups_.find(group);
  if (it == groups_.end()) return nullptr;
  return kind_ == ClassifierKind::indexed ? lookup_indexed(*it->second, in_port, l, p, len)
                                          : lookup_linear(*it->second, in_port, l, p, len);
}

Rule* Classifier::lookup_indexed(const Group& g, uint16_t in_port, const Layout& l,
                                 const uint8_t* p, uint32_t len) const {
  Rule* best = nullptr;
  MatchKey key;
  for (const Subtable* st : g.order) {
    // A later subtable can still win a tie on priority by being older.
    if (best && st->best_priority() > best->priority) break;
    if (!frame_key(st->shape(), in_port, l, p, len, key)) continue;
    Rule* r = st->find(key, key_hash(key, st->shape().key_len));
    if (r && (!best || runs_before(r, best))) best = r;
  }
  return best;
}

Rule* Classifier::lookup_linear(const Group& g, uint16_t in_port, const Layout& l, const uint8_t* p,
                                uint32_t len) const {
  Rule* best = nullptr;
  MatchKey key;
  for (Rule* r : g.all) {
    if (best && !runs_before(r, best)) continue;
    const MatchShape& shape = r->subtable->shape();
    if (frame_key(shape, in_port, l, p, len, key) && key_equal(key, r->key, shape.key_len))
      best = r;
  }
  return best;
}

}  // namespace vfs::drivers::sim
