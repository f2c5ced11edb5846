#include "offload/rule_table.h"

#include <algorithm>
#include <array>
#include <new>
#include <optional>
#include <stdexcept>

#include <fmt/core.h>

#include "base/huge_pages.h"
#include "base/log.h"
#include "offload/rte_flow_rule.h"

namespace vfs::offload {
namespace {
constexpr uint64_t kRetryBaseNs = 100'000'000ULL;    // first retry of a transient refusal
constexpr uint64_t kRetryMaxNs = 10'000'000'000ULL;  // back-off ceiling
constexpr size_t kRefusedForGoodMax = 1 << 16;

bool transient(int code) {
  return code == EBUSY || code == ETIMEDOUT || code == EAGAIN || code == ENOMEM;
}
bool unsupported(int code) { return code == ENOTSUP || code == EOPNOTSUPP; }
bool stays_in_software(int code) { return transient(code) || code == ENOSPC || unsupported(code); }

bool uses_meter(const RuleSpec& s, uint32_t id) {
  return std::any_of(s.actions.begin(), s.actions.end(), [&](const RuleAction& a) {
    return a.kind == ActionKind::meter && a.arg == id;
  });
}

std::string rule_text(const RuleEntry& e) {
  return fmt::format("group {} priority {} [{}]", e.spec.group, e.spec.priority,
                     match_text(e.spec));
}

std::string nic_words(const drivers::FlowError& err) { return err.to_error().message; }

// Sorts a stably by its keys (the pairs' first), in 8-bit digits from the lowest; digits
// where every key agrees are skipped, so it costs a few passes over a compact array, not
// a comparison sort that reads an entry per comparison. 8-bit digits: a digit's counts fit
// in 1 KiB, so a commit of a handful of rules does not clear and sum a 256 KiB histogram
// (16-bit digits did, twice, whatever the commit's size).
template <typename T>
void radix_sort(std::vector<std::pair<uint64_t, T>>& a) {
  if (a.size() < 2) return;
  uint64_t any = 0, all = ~uint64_t{0};
  for (const auto& x : a) {
    any |= x.first;
    all &= x.first;
  }
  std::vector<std::pair<uint64_t, T>> b;
  for (unsigned shift = 0; shift < 64; shift += 8) {
    if ((((any ^ all) >> shift) & 0xff) == 0) continue;  // the same digit everywhere
    std::array<uint32_t, 256> count{};
    for (const auto& x : a) ++count[(x.first >> shift) & 0xff];
    uint32_t sum = 0;
    for (uint32_t& c : count) {
      const uint32_t n = c;
      c = sum;
      sum += n;
    }
    if (b.empty()) b.resize(a.size());
    for (const auto& x : a) b[count[(x.first >> shift) & 0xff]++] = x;
    a.swap(b);
  }
}
}  // namespace

const char* rule_state_name(RuleState s) {
  switch (s) {
    case RuleState::pending:
      return "pending";
    case RuleState::hw:
      return "hw";
    case RuleState::sw:
      return "sw";
    case RuleState::failed:
      return "failed";
  }
  return "?";
}

std::string chain_name(ChainId c) {
  switch (c >> 16) {
    case 1:
      return fmt::format("input chain of port {}", c & 0xffffu);
    case 2:
      return fmt::format("output chain of port {}", c & 0xffffu);
    case 3:
      return fmt::format("ingress guard of port {}", c & 0xffffu);
    case 4:
      return fmt::format("ingress drops of port {}", c & 0xffffu);
    default:
      if (c & 0x80000000u) return fmt::format("same-port drop {:#x}", c);
      return fmt::format("chain {:#x}", c);
  }
}

// ---- entries, their index and the chain index ----------------------------------------

// The table's bookkeeping in front of the entry, so that it shares the entry's first
// cache lines (offload/rule_table.h, RuleEntry).
struct RuleTable::NodeHead {
  uint64_t hash = 0;           // hash_value(spec)
  uint32_t slot = 0;           // in all_
  uint32_t member_pos = 0;     // in its chain's members
  Chain* member_of = nullptr;  // chains_[chain] while linked (map values do not move)
  // Batch bookkeeping (reconcile / update).
  uint32_t batch = 0;                 // the batch that last counted it
  uint32_t pending = 0;               // its refs once that batch is done
  const CompiledRule* src = nullptr;  // the attributes that batch gives it
  bool fresh = false;                 // created by that batch, not yet linked
  uint32_t place = 0;                 // its place number in the NodePool
};

struct RuleTable::Node : NodeHead, RuleEntry {};

struct RuleTable::PutRun {
  static constexpr size_t kMax = 32;
  // RteFlowRule neither moves nor copies: built in place, dropped after the run.
  std::array<std::optional<RteFlowRule>, kMax> flows;
  std::array<drivers::FlowRuleRef, kMax> refs;
  std::array<RuleEntry*, kMax> entries;
  size_t n = 0;
  std::vector<drivers::FlowResult<drivers::FlowHandle>> results;
};

const RuleEntry& RuleTable::Entries::iterator::operator*() const { return **p_; }

RuleTable::RuleTable(drivers::FlowBackend& nic, const Clock& clock) : nic_(nic), clock_(clock) {}

RuleTable::~RuleTable() {
  for (Node* n : all_) pool_.destroy(n);
}

RuleTable::NodePool::~NodePool() {
  for (const Chunk& c : chunks_) free_big(c.mem, c.bytes);
}

RuleTable::Node* RuleTable::NodePool::node_at(uint32_t place) const {
  // The chunk holding it: the last one that starts at or before it.
  auto it = std::upper_bound(chunks_.begin(), chunks_.end(), place,
                             [](uint32_t p, const Chunk& c) { return p < c.first; });
  const Chunk& c = *std::prev(it);
  return static_cast<Node*>(c.mem) + (place - c.first);
}

RuleTable::Node* RuleTable::NodePool::make() {
  uint32_t place;
  Node* n;
  if (!free_.empty()) {
    place = free_.take_lowest();
    n = node_at(place);
    // A reused place is cold: start loading the next one the next entry most likely
    // takes.
    if (const uint32_t next = free_.peek_lowest(); next != UINT32_MAX) {
      const char* p = reinterpret_cast<const char*>(node_at(next));
      for (size_t off = 0; off < sizeof(Node); off += 64) __builtin_prefetch(p + off, 1);
    }
  } else {
    if (used_in_last_ == last_capacity_) {
      // Whole huge pages from 2 MiB on.
      const size_t bytes =
          chunks_.empty() ? kFirstChunkBytes : std::min(2 * chunks_.back().bytes, kMaxChunkBytes);
      const uint32_t first =
          chunks_.empty() ? 0 : chunks_.back().first + static_cast<uint32_t>(last_capacity_);
      chunks_.push_back({alloc_big(bytes, BigFill::any), bytes, first});  // nodes built on use
      last_capacity_ = bytes / sizeof(Node);
      used_in_last_ = 0;
    }
    place = chunks_.back().first + static_cast<uint32_t>(used_in_last_);
    n = static_cast<Node*>(chunks_.back().mem) + used_in_last_++;
  }
  n = new (n) Node;
  n->place = place;
  return n;
}

void RuleTable::NodePool::destroy(Node* n) {
  const uint32_t place = n->place;
  n->~Node();
  free_.add(place);
}

RuleTable::Node* RuleTable::Index::find(const RuleSpec& spec, uint64_t hash) const {
  if (slots_.empty()) return nullptr;
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (!s.node) return nullptr;
    if (s.hash == hash && s.node->spec == spec) return s.node;
  }
}

void RuleTable::Index::insert(Node* n, uint64_t hash) {
  if ((size_ + 1) * 5 > slots_.size() * 3)  // load <= 0.6: short probes
    rehash(slots_.empty() ? 64 : slots_.size() * 2);
  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i].node) i = (i + 1) & mask;
  slots_[i] = {hash, n};
  ++size_;
}

void RuleTable::Index::erase(const Node* n, uint64_t hash) {
  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i].node != n) i = (i + 1) & mask;
  // Backward-shift deletion: later members of the probe run move up, so no tombstones.
  for (size_t j = i;;) {
    slots_[i] = {};
    for (;;) {
      j = (j + 1) & mask;
      if (!slots_[j].node) {
        --size_;
        return;
      }
      const size_t home = slots_[j].hash & mask;
      // slots_[j] may fill the hole at i unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!stays) break;
    }
    slots_[i] = slots_[j];
    i = j;
  }
}

void RuleTable::Index::clear() {
  slots_ = Slots{};  // a new one when needed (BigAllocator: never grown back by resize)
  size_ = 0;
}

void RuleTable::Index::reserve(size_t n) {
  size_t want = slots_.empty() ? 64 : slots_.size();
  while (n * 5 > want * 3) want *= 2;
  if (want != slots_.size()) rehash(want);
}

void RuleTable::Index::rehash(size_t slots) {
  Slots old = std::move(slots_);
  slots_ = Slots(slots);
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (!s.node) continue;
    size_t i = s.hash & mask;
    while (slots_[i].node) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

const RuleEntry* RuleTable::find(const RuleSpec& spec) const {
  return index_.find(spec, hash_value(spec));
}

RuleTable::Node* RuleTable::create_node(const CompiledRule& r, RuleSpec&& spec, uint64_t hash,
                                        uint32_t refs) {
  Node* n = pool_.make();
  n->spec = std::move(spec);
  n->hash = hash;
  n->refs = refs;
  n->src = &r;
  n->slot = static_cast<uint32_t>(all_.size());
  all_.push_back(n);
  index_.insert(n, hash);
  return n;
}

void RuleTable::set_attributes(RuleEntry& e, const CompiledRule& r) {
  e.veth = r.veth;
  e.port = r.port;
  e.drop_reason = r.drop_reason;
  e.acl = r.acl;
  e.ace_seq = r.ace_seq;
  e.chain = r.chain;
  e.needs = r.needs;
}

void RuleTable::attribute_counters(Node& e) const {
  // Frames a rule hands to the slow path are counted there (its rx), not twice.
  e.counts_rx =
      e.spec.group == kGroupIngress && e.spec.match.in_port && *e.spec.match.in_port == e.port &&
      std::none_of(e.spec.actions.begin(), e.spec.actions.end(),
                   [](const RuleAction& a) { return a.kind == ActionKind::to_slow_path; });
  e.tx_veths.clear();
  for (const auto& a : e.spec.actions) {
    if (a.kind != ActionKind::port && a.kind != ActionKind::mirror) continue;
    uint32_t v = 0;
    if (auto it = port_veths_.find(static_cast<uint16_t>(a.arg)); it != port_veths_.end())
      v = it->second;
    else if (a.arg == e.port)
      v = e.veth;
    if (v != 0 && std::find(e.tx_veths.begin(), e.tx_veths.end(), v) == e.tx_veths.end())
      e.tx_veths.push_back(v);
  }
}

void RuleTable::init_entry(Node& e) {
  e.fresh = false;
  e.src = nullptr;
  link(e);
}

RuleTable::Chain& RuleTable::chain_at(ChainId c) {
  if (last_chain_ && last_chain_id_ == c) return *last_chain_;
  last_chain_ = &chains_[c];
  last_chain_id_ = c;
  return *last_chain_;
}

void RuleTable::erase_chain(std::unordered_map<ChainId, Chain>::iterator it) {
  if (last_chain_ == &it->second) last_chain_ = nullptr;
  chains_.erase(it);
}

RuleTable::Chain* RuleTable::chain_of(ChainId c) {
  auto it = chains_.find(c);
  return it == chains_.end() ? nullptr : &it->second;
}

void RuleTable::link(RuleEntry& re) {
  Node& e = static_cast<Node&>(re);
  for (ChainId c : e.needs) chain_at(c).needers.push_back(&e);
  if (e.chain == kNoChain) return;
  Chain& ch = chain_at(e.chain);
  e.member_of = &ch;
  e.member_pos = static_cast<uint32_t>(ch.members.size());
  ch.members.push_back(&e);
  if (e.state == RuleState::hw) {
    ++ch.in_hw;
    return;
  }
  // A member that is not in the NIC makes the chain incomplete: whatever sends frames
  // into it must leave first.
  if (ch.needers.empty()) return;
  std::vector<Node*> needers = ch.needers;
  for (Node* n : needers) {
    if (n->state != RuleState::hw) continue;
    take_out(*n);
    hold_back(*n, "");
  }
}

void RuleTable::unlink(RuleEntry& re) {
  Node& e = static_cast<Node&>(re);
  if (!held_.empty()) held_.erase(&e);
  if (!refused_.empty()) refused_.erase(&e);
  for (ChainId c : e.needs) {
    if (auto it = chains_.find(c); it != chains_.end()) {
      auto& v = it->second.needers;
      if (auto f = std::find(v.begin(), v.end(), &e); f != v.end()) {
        *f = v.back();
        v.pop_back();
      }
      if (it->second.members.empty() && v.empty()) erase_chain(it);
    }
  }
  if (e.chain == kNoChain) return;
  e.member_of = nullptr;
  if (auto it = chains_.find(e.chain); it != chains_.end()) {
    auto& m = it->second.members;
    if (e.member_pos < m.size() && m[e.member_pos] == &e) {
      m[e.member_pos] = m.back();
      m[e.member_pos]->member_pos = e.member_pos;
      m.pop_back();
      if (e.state == RuleState::hw) --it->second.in_hw;
    }
    if (m.empty() && it->second.needers.empty()) erase_chain(it);
  }
}

void RuleTable::erase_entry(Node* n) {
  take_out(*n);
  unlink(*n);
  add_rule_counts(retired_, *n);
  index_.erase(n, n->hash);
  all_[n->slot] = all_.back();
  all_[n->slot]->slot = n->slot;
  all_.pop_back();
  pool_.destroy(n);
}

bool RuleTable::chain_complete(ChainId c) const {
  auto it = chains_.find(c);
  return it == chains_.end() || it->second.in_hw == it->second.members.size();
}

std::string RuleTable::chain_reason(ChainId c) const {
  const Chain& ch = chains_.at(c);
  const RuleEntry* missing = nullptr;
  for (const RuleEntry* m : ch.members) {
    if (m->state == RuleState::hw) continue;
    if (!missing || (missing->nic_errno == 0 && m->nic_errno != 0)) missing = m;
  }
  if (!missing) return "";
  return fmt::format("held in software: the {} is incomplete: rule {} is {}: {}", chain_name(c),
                     rule_text(*missing), rule_state_name(missing->state),
                     missing->reason.empty() ? "not yet installed" : missing->reason);
}

std::string RuleTable::held_back_by(const RuleEntry& e) const {
  for (const auto& a : e.spec.actions) {
    if (a.kind != ActionKind::meter) continue;
    auto m = meters_.find(a.arg);
    if (m == meters_.end())
      return fmt::format("held in software: meter {} is not configured", a.arg);
    if (!m->second.installed)
      return fmt::format(
          "held in software: meter {} ({} policer of vEthernet{}) is not in the NIC: {}", a.arg,
          m->second.meter.input ? "input" : "output", m->second.meter.veth,
          m->second.reason.empty() ? "not yet created" : m->second.reason);
  }
  for (ChainId c : e.needs)
    if (!chain_complete(c)) return chain_reason(c);
  return "";
}

bool RuleTable::may_go_in(const RuleEntry& e) const {
  for (const auto& a : e.spec.actions) {
    if (a.kind != ActionKind::meter) continue;
    auto m = meters_.find(a.arg);
    if (m == meters_.end() || !m->second.installed) return false;
  }
  for (ChainId c : e.needs)
    if (!chain_complete(c)) return false;
  return true;
}

// ---- in and out of the NIC ------------------------------------------------------------

void RuleTable::hold_back(RuleEntry& e, std::string why) {
  e.state = RuleState::sw;
  e.nic_errno = 0;
  e.reason = why.empty() ? held_back_by(e) : std::move(why);
  held_.insert(&e);
  if (!refused_.empty()) refused_.erase(&e);
}

void RuleTable::put_in(RuleEntry& e) {
  if (e.state == RuleState::hw) return;
  if (!may_go_in(e)) {
    hold_back(e, held_back_by(e));
    return;
  }
  if (!refused_for_good_.empty()) {
    if (auto f = refused_for_good_.find(e.spec); f != refused_for_good_.end()) {
      record_refusal(e, f->second);
      return;
    }
  }
  RteFlowRule flow(e.spec);
  created(e, nic_.create(flow.attr(), flow.pattern(), flow.actions()));
}

void RuleTable::put_in_run(RuleEntry& e) {
  const bool independent =
      e.state != RuleState::hw && e.needs.empty() && may_go_in(e) &&
      (refused_for_good_.empty() || refused_for_good_.find(e.spec) == refused_for_good_.end());
  if (!independent) {
    flush_puts();
    put_in(e);
    return;
  }
  if (!put_run_) put_run_ = std::make_unique<PutRun>();
  PutRun& run = *put_run_;
  const RteFlowRule& flow = run.flows[run.n].emplace(e.spec);
  run.refs[run.n] = {&flow.attr(), flow.pattern(), flow.actions()};
  run.entries[run.n] = &e;
  if (++run.n == PutRun::kMax) flush_puts();
}

void RuleTable::flush_puts() {
  if (!put_run_ || put_run_->n == 0) return;
  PutRun& run = *put_run_;
  run.results.clear();
  nic_.create_batch(run.refs.data(), run.n, run.results);
  if (run.results.size() != run.n)
    throw std::logic_error("FlowBackend::create_batch: one result per rule expected");
  const size_t n = run.n;
  run.n = 0;  // created() may put needers in, which must not see this run
  for (size_t i = 0; i < n; ++i) {
    run.flows[i].reset();
    created(*run.entries[i], run.results[i]);
  }
}

void RuleTable::created(RuleEntry& e, const drivers::FlowResult<drivers::FlowHandle>& res) {
  if (!res.ok()) {
    ++nic_errors_;
    record_refusal(e, res.error());
    return;
  }
  e.handle = res.value();
  // A pending entry is new or was taken out of the NIC: nothing of a refusal is left
  // (cleared when it went in) and its COUNT reads are reset (take_out), so its colder
  // lines stay untouched.
  if (e.state != RuleState::pending) {
    e.reason.clear();
    e.nic_errno = 0;
    e.attempts = 0;
    e.retry_at_ns = 0;
    e.hw_packets = e.hw_bytes = 0;
  }
  e.state = RuleState::hw;
  if (!held_.empty()) held_.erase(&e);
  if (!refused_.empty()) refused_.erase(&e);
  if (e.chain == kNoChain) return;
  Chain* linked = static_cast<Node&>(e).member_of;
  Chain& ch = linked ? *linked : chains_[e.chain];
  if (++ch.in_hw != ch.members.size()) return;
  // The chain is complete: the rules it held back may follow it in.
  std::vector<RuleEntry*> needers(ch.needers.begin(), ch.needers.end());
  for (RuleEntry* n : needers)
    if (n->state != RuleState::hw && held_.count(n)) put_in(*n);
}

void RuleTable::record_refusal(RuleEntry& e, const drivers::FlowError& err) {
  e.reason = nic_words(err);
  e.nic_errno = err.code;
  held_.erase(&e);
  refused_.erase(&e);
  e.state = stays_in_software(err.code) ? RuleState::sw : RuleState::failed;
  if (transient(err.code)) {
    ++e.attempts;
    e.retry_at_ns = clock_.now_ns() + backoff_ns(e.attempts);
    next_retry_ns_ = std::min(next_retry_ns_, e.retry_at_ns);
    refused_.insert(&e);
  } else if (err.code == ENOSPC) {
    e.refused_at_gen = destroy_gen_;
    refused_.insert(&e);
  } else if (unsupported(err.code) || err.code == EINVAL) {
    if (refused_for_good_.size() >= kRefusedForGoodMax) refused_for_good_.clear();
    refused_for_good_.emplace(e.spec, err);
  }
  if (e.state == RuleState::sw)
    log::info("offload", "vEthernet{}: rule stays in software: {} [{}]", e.veth, e.reason,
              match_text(e.spec));
  else  // EINVAL and friends mean our compiler built something the NIC calls malformed.
    log::error("offload", "vEthernet{}: NIC rejected rule: {} [{}]", e.veth, e.reason,
               match_text(e.spec));
}

uint64_t RuleTable::backoff_ns(uint32_t attempts) const {
  const uint32_t shift = std::min<uint32_t>(attempts > 0 ? attempts - 1 : 0, 20);
  return std::min(kRetryBaseNs << shift, kRetryMaxNs);
}

void RuleTable::read_count(RuleEntry& e) {
  auto c = nic_.query_count(e.handle);
  if (!c.ok()) return;
  if (c.value().packets > e.hw_packets) e.packets += c.value().packets - e.hw_packets;
  if (c.value().bytes > e.hw_bytes) e.bytes += c.value().bytes - e.hw_bytes;
  e.hw_packets = std::max(e.hw_packets, c.value().packets);
  e.hw_bytes = std::max(e.hw_bytes, c.value().bytes);
}

void RuleTable::take_out(RuleEntry& e) {
  if (e.state != RuleState::hw) return;
  if (e.chain != kNoChain) {
    // Rules that send frames into this chain leave before it breaks.
    std::vector<RuleEntry*> needers(chains_[e.chain].needers.begin(),
                                    chains_[e.chain].needers.end());
    for (RuleEntry* n : needers) {
      if (n->state != RuleState::hw) continue;
      take_out(*n);
      hold_back(*n, "");
    }
    --chains_[e.chain].in_hw;
  }
  read_count(e);
  if (auto d = nic_.destroy(e.handle); !d.ok()) {
    ++nic_errors_;
    log::error("offload", "vEthernet{}: destroying rule failed: {}", e.veth, nic_words(d.error()));
  } else {
    ++destroy_gen_;
  }
  e.handle = {};
  e.hw_packets = e.hw_bytes = 0;
  e.state = RuleState::pending;
}

void RuleTable::settle() {
  std::vector<RuleEntry*> held(held_.begin(), held_.end());
  for (RuleEntry* e : held)
    if (held_.count(e) && e->state != RuleState::hw && held_back_by(*e).empty()) put_in(*e);
}

void RuleTable::refresh_reasons() {
  for (RuleEntry* e : held_) e->reason = held_back_by(*e);
}

// ---- meters -----------------------------------------------------------------------------

void RuleTable::install_meter(MeterEntry& m) {
  const CompiledMeter& c = m.meter;
  drivers::FlowStatus st =
      nic_.add_meter_profile(c.id, drivers::MeterProfile{c.cir_bytes_per_s, c.cbs_bytes, 0});
  if (st.ok()) {
    st = nic_.create_meter(c.id, c.id);
    if (!st.ok()) (void)nic_.delete_meter_profile(c.id);
  }
  if (!st.ok()) {
    ++nic_errors_;
    m.installed = false;
    m.reason = nic_words(st.error());
    m.nic_errno = st.error().code;
    if (transient(m.nic_errno)) m.retry_at_ns = clock_.now_ns() + backoff_ns(++m.attempts);
    log::info("offload", "vEthernet{}: {} policer stays in software: {}", c.veth,
              c.input ? "input" : "output", m.reason);
    return;
  }
  m.installed = true;
  m.reason.clear();
  m.nic_errno = 0;
  m.attempts = 0;
  m.stats = {};
}

void RuleTable::uninstall_meter(MeterEntry& m) {
  if (!m.installed) return;
  if (auto s = nic_.read_meter_stats(m.meter.id); s.ok()) m.stats = s.value();
  if (auto d = nic_.destroy_meter(m.meter.id); !d.ok()) {
    ++nic_errors_;
    log::error("offload", "meter {}: destroying failed: {}", m.meter.id, nic_words(d.error()));
  }
  if (auto d = nic_.delete_meter_profile(m.meter.id); !d.ok()) {
    ++nic_errors_;
    log::error("offload", "meter profile {}: deleting failed: {}", m.meter.id,
               nic_words(d.error()));
  }
  m.installed = false;
}

void RuleTable::retire_meter(const MeterEntry& m) {
  auto& v = retired_.veths[m.meter.veth];
  (m.meter.input ? v.police_in : v.police_out).add(m.stats);
  v.drops[static_cast<size_t>(DropReason::police)] += m.stats.violate_packets;
}

// ---- public operations ------------------------------------------------------------------

const RuleEntry& RuleTable::acquire(const CompiledRule& r) {
  const uint64_t h = hash_value(r.spec);
  if (Node* n = index_.find(r.spec, h)) {
    ++n->refs;
    return *n;
  }
  Node* n = create_node(r, RuleSpec(r.spec), h, 1);
  set_attributes(*n, r);
  attribute_counters(*n);
  init_entry(*n);
  put_in(*n);
  if (n->chain != kNoChain) refresh_reasons();  // its needers' reasons name it
  return *n;
}

void RuleTable::release(const RuleSpec& spec) {
  const RuleEntry* e = find(spec);
  if (!e)
    throw std::logic_error("RuleTable::release of a rule never acquired: " + match_text(spec));
  release(*e);
}

void RuleTable::release(const RuleEntry& re) {
  Node* n = static_cast<Node*>(const_cast<RuleEntry*>(&re));
  if (n->refs == 0 || n->slot >= all_.size() || all_[n->slot] != n)
    throw std::logic_error("RuleTable::release of an entry not in the table");
  if (--n->refs > 0) return;
  const bool in_chain = n->chain != kNoChain;
  erase_entry(n);
  if (in_chain) {  // the chain may be complete without it
    settle();
    refresh_reasons();
  }
}

void RuleTable::count_in(Node* n) {
  if (n->fresh || n->batch == batch_) return;
  n->batch = batch_;
  n->pending = n->refs;
  n->src = nullptr;
  staged_.counted.push_back(n);
}

void RuleTable::reconcile(const std::vector<CompiledRule>& desired,
                          const std::vector<CompiledMeter>& meters) {
  Batch b;
  const uint32_t batch = ++batch_;
  for (const auto& r : desired) {
    const uint64_t h = hash_value(r.spec);
    Node* n = index_.find(r.spec, h);
    if (!n) {
      n = create_node(r, RuleSpec(r.spec), h, 0);
      n->fresh = true;
      n->batch = batch;
      b.fresh.push_back(n);
    } else if (n->batch != batch) {
      n->batch = batch;
      n->pending = 0;
      b.counted.push_back(n);
    }
    n->src = &r;  // the last listing gives the attributes
    if (n->fresh)
      ++n->refs;
    else
      ++n->pending;
  }
  // Whatever was not listed is stale.
  for (Node* n : all_) {
    if (n->batch == batch) continue;
    n->batch = batch;
    n->pending = 0;
    n->src = nullptr;
    b.counted.push_back(n);
  }
  for (Node* n : b.fresh) {
    set_attributes(*n, *n->src);
    attribute_counters(*n);
  }
  commit(b, &meters);
}

void RuleTable::begin_update() {
  staged_ = Batch{};
  ++batch_;
}

const RuleEntry& RuleTable::stage_add(CompiledRule&& r) {
  return stage_add(std::move(r), hash_value(r.spec));
}

void RuleTable::stage_add(CompiledRule* rules, size_t n, const RuleEntry** out) {
  // Probes a few rules ahead: far enough to hide a miss, near enough that the lines stay.
  constexpr size_t kAhead = 16;
  index_.reserve(index_.size() + n);
  std::array<uint64_t, kAhead> hashes{};
  for (size_t i = 0; i < n + kAhead; ++i) {
    if (i >= kAhead) {  // before its hash's place is taken by rule i's
      const size_t k = i - kAhead;
      out[k] = &stage_add(std::move(rules[k]), hashes[k % kAhead]);
    }
    if (i < n) {
      hashes[i % kAhead] = hash_value(rules[i].spec);
      index_.prefetch(hashes[i % kAhead]);
    }
  }
}

const RuleEntry& RuleTable::stage_add(CompiledRule&& r, uint64_t h) {
  Node* n = index_.find(r.spec, h);
  if (!n) {
    n = create_node(r, std::move(r.spec), h, 0);
    n->fresh = true;
    n->batch = batch_;
    staged_.fresh.push_back(n);
  }
  if (n->fresh) {  // its attributes are its own until commit links it
    set_attributes(*n, r);
    attribute_counters(*n);  // now, while its spec is in the cache
    n->src = nullptr;
    ++n->refs;
    return *n;
  }
  count_in(n);
  staged_.listed.push_back(std::move(r));
  n->src = &staged_.listed.back();
  ++n->pending;
  return *n;
}

void RuleTable::stage_drop(const RuleEntry& e) {
  Node* n = static_cast<Node*>(const_cast<RuleEntry*>(&e));
  count_in(n);
  if (n->fresh || n->pending == 0)
    throw std::logic_error("RuleTable::stage_drop of a reference nobody holds: " +
                           match_text(n->spec));
  --n->pending;
}

void RuleTable::commit_update(const std::vector<CompiledMeter>* meters) {
  Batch b = std::move(staged_);
  staged_ = Batch{};
  commit(b, meters);
}

void RuleTable::commit(Batch& b, const std::vector<CompiledMeter>* meters) {
  // 1. Stale rules out (take_out puts the rules that need a chain out before its members).
  std::vector<Node*> stale, kept;
  for (Node* n : b.counted) (n->pending == 0 ? stale : kept).push_back(n);
  for (Node* n : stale) take_out(*n);
  for (Node* n : stale) erase_entry(n);

  // 2. Stale or changed meters out, after the rules that police with them; new ones in.
  if (meters) {
    std::map<uint32_t, const CompiledMeter*> want_meters;
    for (const auto& m : *meters) want_meters[m.id] = &m;
    for (auto it = meters_.begin(); it != meters_.end();) {
      auto w = want_meters.find(it->first);
      if (w != want_meters.end() && *w->second == it->second.meter) {
        ++it;
        continue;
      }
      for (Node* e : all_) {
        if (e->fresh || e->state != RuleState::hw || !uses_meter(e->spec, it->first)) continue;
        take_out(*e);
        hold_back(*e, "");
      }
      uninstall_meter(it->second);
      retire_meter(it->second);
      it = meters_.erase(it);
    }
    for (const auto& [id, m] : want_meters) {
      if (meters_.count(id)) continue;
      MeterEntry& e = meters_[id];
      e.meter = *m;
      install_meter(e);
    }
  }

  // What goes in, by group and priority, as the NIC's capacity is used up: a hairpin drop
  // (group 4 priority 0) goes in before the forwards it guards, so a full NIC refuses the
  // forward. The rules that need no chain first. Stable, as the order they were listed in
  // decides among equals. Keyed while each entry is in the cache.
  using Placed = std::vector<std::pair<uint64_t, RuleEntry*>>;
  Placed first, later;  // needing no chain, needing chains
  auto to_put = [&first, &later](RuleEntry* e) {
    (e->needs.empty() ? first : later)
        .push_back({uint64_t{e->spec.group} << 32 | e->spec.priority, e});
  };

  // 3. Kept rules: refs, and what their counters are attributed to.
  for (Node* n : kept) {
    RuleEntry& e = *n;
    e.refs = n->pending;
    const CompiledRule* src = n->src;
    n->src = nullptr;
    if (!src) continue;
    const CompiledRule& r = *src;
    if (e.veth != r.veth || e.drop_reason != r.drop_reason || e.acl != r.acl ||
        e.ace_seq != r.ace_seq) {
      // Counts so far stay with what they were counted for.
      add_rule_counts(retired_, e);
      e.packets = e.bytes = 0;
      e.veth = r.veth;
      e.port = r.port;
      e.drop_reason = r.drop_reason;
      e.acl = r.acl;
      e.ace_seq = r.ace_seq;
    }
    if (e.chain != r.chain || e.needs != r.needs) {
      take_out(e);
      unlink(e);
      e.chain = r.chain;
      e.needs = r.needs;
      link(e);
      to_put(&e);
    }
  }

  // 4. New rules: every one joins its chains first (so their needers are out), then
  // members go in before the rules that need them.
  // The entries were written while staging and have left the cache since: load the lines
  // init_entry() reads (its chains, in NodeHead and after the spec) a few entries ahead.
  constexpr size_t kAhead = 4;
  for (size_t i = 0; i < b.fresh.size(); ++i) {
    if (i + kAhead < b.fresh.size()) {
      const Node* ahead = b.fresh[i + kAhead];
      __builtin_prefetch(ahead);
      __builtin_prefetch(&ahead->needs);
    }
    init_entry(*b.fresh[i]);
    to_put(b.fresh[i]);
  }
  radix_sort(first);
  radix_sort(later);
  first.insert(first.end(), later.begin(), later.end());
  later = Placed{};
  // In this order the entries are scattered: start loading the next ones' lines early,
  // those put_in() reads (the bookkeeping, the spec, up to the chains it needs), then,
  // once an entry's first line is in, the chain it completes.
  for (size_t i = 0; i < first.size(); ++i) {
    if (i + 2 * kAhead < first.size()) {
      const Node* n = static_cast<const Node*>(first[i + 2 * kAhead].second);
      const auto* p = reinterpret_cast<const char*>(n);
      const auto* end = reinterpret_cast<const char*>(&n->needs + 1);
      for (; p < end; p += 64) __builtin_prefetch(p);
      __builtin_prefetch(end - 1);
    }
    if (i + kAhead < first.size()) {
      const Node* n = static_cast<const Node*>(first[i + kAhead].second);
      __builtin_prefetch(n->spec.actions.data());
      if (n->member_of) __builtin_prefetch(n->member_of);
    }
    put_in_run(*first[i].second);
  }
  flush_puts();
  settle();
  refresh_reasons();
}

void RuleTable::clear() {
  for (Node* n : all_) take_out(*n);
  while (!all_.empty()) erase_entry(all_.back());
  index_.clear();
  for (auto& [id, m] : meters_) {
    uninstall_meter(m);
    retire_meter(m);
  }
  meters_.clear();
  chains_.clear();
  last_chain_ = nullptr;
  held_.clear();
  refused_.clear();
  refused_for_good_.clear();
}

void RuleTable::poll_counters(const std::function<void(const RuleEntry&)>& on_active) {
  const uint64_t now = clock_.now_ns();
  for (Node* n : all_) {
    RuleEntry& e = *n;
    if (e.state != RuleState::hw) continue;
    const uint64_t before = e.packets;
    read_count(e);
    if (e.packets > before) {
      e.last_hit_ns = now;
      on_active(e);
    }
  }
  for (auto& [id, m] : meters_) {
    if (!m.installed) continue;
    if (auto s = nic_.read_meter_stats(id); s.ok()) m.stats = s.value();
  }
}

void RuleTable::retry_refused() {
  const uint64_t now = clock_.now_ns();
  bool changed = false;
  for (auto& [id, m] : meters_) {
    if (m.installed || !transient(m.nic_errno) || m.retry_at_ns > now) continue;
    install_meter(m);
    changed = changed || m.installed;
  }
  // Nothing can be due: no rule destroyed since the last pass, no back-off over.
  const bool idle = destroy_gen_ == retried_gen_ && now < next_retry_ns_;
  if (!refused_.empty() && !idle) {
    retried_gen_ = destroy_gen_;
    next_retry_ns_ = UINT64_MAX;
    bool full = false;  // one ENOSPC answer per pass is enough to know
    std::vector<RuleEntry*> due(refused_.begin(), refused_.end());
    for (RuleEntry* e : due) {
      if (!refused_.count(e) || e->state == RuleState::hw) continue;
      if (transient(e->nic_errno)) {
        if (e->retry_at_ns > now) {
          next_retry_ns_ = std::min(next_retry_ns_, e->retry_at_ns);
          continue;
        }
      } else if (e->nic_errno == ENOSPC) {
        if (e->refused_at_gen >= destroy_gen_) continue;
        if (full) {
          e->refused_at_gen = destroy_gen_;
          continue;
        }
      } else {
        continue;
      }
      put_in(*e);
      changed = true;
      if (e->state != RuleState::hw && e->nic_errno == ENOSPC) full = true;
      if (e->state != RuleState::hw && transient(e->nic_errno))
        next_retry_ns_ = std::min(next_retry_ns_, e->retry_at_ns);
    }
  }
  if (!changed) return;
  settle();
  refresh_reasons();
}

// ---- counters ---------------------------------------------------------------------------

void RuleTable::add_rule_counts(HwCounters& to, const RuleEntry& e) const {
  if (e.packets == 0 && e.bytes == 0) return;
  if (e.counts_rx) to.veths[e.veth].rx.add(e.packets, e.bytes);
  for (uint32_t v : e.tx_veths) to.veths[v].tx.add(e.packets, e.bytes);
  if (e.drop_reason < DropReason::count_)
    to.veths[e.veth].drops[static_cast<size_t>(e.drop_reason)] += e.packets;
  if (!e.acl.empty()) to.acl_entries[e.acl][e.ace_seq] += e.packets;
}

HwCounters RuleTable::hw_counters() const {
  HwCounters out = retired_;
  for (const Node* n : all_) add_rule_counts(out, *n);
  for (const auto& [id, m] : meters_) {
    if (!m.installed) continue;
    auto& v = out.veths[m.meter.veth];
    (m.meter.input ? v.police_in : v.police_out).add(m.stats);
    v.drops[static_cast<size_t>(DropReason::police)] += m.stats.violate_packets;
  }
  return out;
}

}  // namespace vfs::offload
