// offload/rule_table.h owns vfswitch's mirror of the eSwitch's rule memory: every rule
// and meter the desired state implies, refcounted by the decisions that need them, with
// their state on the NIC (hw, sw with the NIC's reason, pending, failed), handles and
// counters. It is the only code that calls FlowBackend::create/destroy and the meter
// calls, so "hardware holds only what desired state implies" (invariant 2) is checked
// against it.
//
// Fallback: a rule the NIC refuses stays out (state sw, or failed for EINVAL and other
// errors that say our compiler is wrong) with the NIC's words as its reason; frames then
// miss and the slow path decides them under the same policy. Refusals are retried:
// EBUSY / ETIMEDOUT / EAGAIN with back-off, ENOSPC after any rule was destroyed, never
// ENOTSUP / EINVAL for the same spec.
//
// Chains (offload/rule_compiler.h): a rule whose `needs` names a chain is in the NIC only
// while every member of that chain is (otherwise it is state sw, the reason naming the
// chain and the member's own reason), and so is a rule whose METER is not in the NIC.
// Members go in before the rules that need them and come out after them, so no frame
// ever meets half a chain.
//
// Counters: a rule's COUNT and a meter's stats are attributed when the rule is created
// (rx / tx / drop reason / ACL entry / policer) and, when it is destroyed, folded into
// retired totals, so hw_counters() never goes back (invariant 3).
//
// Entries are found by spec through a flat hash index (RuleSpec's hash_value) and stay at
// one address while referenced, so owners may hold pointers to them (DesiredState).
//
// Single-threaded: owned by the offload worker. Readers on other threads get copies
// through OffloadEngine.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/free_slots.h"
#include "base/huge_pages.h"
#include "drivers/flow_backend.h"
#include "offload/hw_counters.h"
#include "offload/rule_compiler.h"
#include "offload/rule_spec.h"

namespace vfs::offload {

enum class RuleState : uint8_t { pending, hw, sw, failed };
const char* rule_state_name(RuleState s);

// "input chain of port 3" / "output chain of port 3".
std::string chain_name(ChainId c);

// The small fields sit together: one entry per rule, so padding is paid 100,000 times.
// What putting a rule in the NIC reads and writes comes first (with the rule table's own
// bookkeeping, the entry's first five cache lines), the counters and the refusal's words
// last: a batch of 100,000 rules goes in at a cache miss per line it touches.
struct RuleEntry {
  RuleSpec spec;
  uint32_t veth = 0;
  uint16_t port = 0;
  DropReason drop_reason = DropReason::count_;
  RuleState state = RuleState::pending;
  uint32_t ace_seq = 0;
  ChainId chain = kNoChain;
  drivers::FlowHandle handle{};
  std::vector<ChainId> needs;
  uint32_t refs = 0;

  int nic_errno = 0;       // the NIC's refusal (0: not refused, e.g. held back by a chain)
  bool counts_rx = false;  // counter attribution: group 0 rule matching the owner's port

  // Retry bookkeeping.
  uint32_t attempts = 0;        // consecutive transient refusals
  uint64_t retry_at_ns = 0;     // transient refusals: not before
  uint64_t refused_at_gen = 0;  // ENOSPC: the destroy generation it was refused at

  std::string reason;  // the NIC's words, or what holds the rule back, when not in hw
  std::string acl;

  uint64_t packets = 0;  // COUNT over every installation of this entry
  uint64_t bytes = 0;
  uint64_t last_hit_ns = 0;  // last poll that saw the counter move
  // The current installation's COUNT as last read.
  uint64_t hw_packets = 0;
  uint64_t hw_bytes = 0;

  // Counter attribution, fixed at creation (and counts_rx above).
  std::vector<uint32_t> tx_veths;  // vEthernets its outputs / mirrors deliver to
};

struct MeterEntry {
  CompiledMeter meter;
  bool installed = false;
  std::string reason;  // the NIC's words when not installed
  int nic_errno = 0;
  uint32_t attempts = 0;
  uint64_t retry_at_ns = 0;
  drivers::MeterStats stats;  // as last read (cumulative for this meter object)
};

class RuleTable {
  struct NodeHead;
  struct Node;

 public:
  RuleTable(drivers::FlowBackend& nic, const Clock& clock);
  ~RuleTable();
  RuleTable(const RuleTable&) = delete;
  RuleTable& operator=(const RuleTable&) = delete;

  // The live entries, in no particular order. Invalidated by any change to the table.
  class Entries {
   public:
    class iterator {
     public:
      using iterator_category = std::forward_iterator_tag;
      using value_type = RuleEntry;
      using difference_type = std::ptrdiff_t;
      using pointer = const RuleEntry*;
      using reference = const RuleEntry&;
      iterator() = default;
      explicit iterator(Node* const* p) : p_(p) {}
      reference operator*() const;
      pointer operator->() const { return &**this; }
      iterator& operator++() {
        ++p_;
        return *this;
      }
      iterator operator++(int) {
        iterator t = *this;
        ++p_;
        return t;
      }
      bool operator==(const iterator&) const = default;

     private:
      Node* const* p_ = nullptr;
    };
    explicit Entries(const std::vector<Node*>& all) : all_(all) {}
    iterator begin() const { return iterator(all_.data()); }
    iterator end() const { return iterator(all_.data() + all_.size()); }
    size_t size() const { return all_.size(); }

   private:
    const std::vector<Node*>& all_;
  };

  // Which vEthernet each ethdev port belongs to (0 or absent: none / uplink), for the tx
  // attribution of rules created from now on.
  void set_port_veths(std::map<uint16_t, uint32_t> by_port) { port_veths_ = std::move(by_port); }

  // One more decision needs this rule: create it on the NIC if it is new. The entry stays
  // at the same address while it is referenced.
  const RuleEntry& acquire(const CompiledRule& r);
  // One decision less; the rule is destroyed when none is left. Unknown specs are a
  // programming error (the caller recorded what it acquired).
  void release(const RuleSpec& spec);
  void release(const RuleEntry& e);
  // Makes the table equal `desired` (a multiset: a spec listed twice has two refs) and
  // the meters equal `meters` (by id). Stale rules are destroyed before new ones are
  // created, so a change that takes forwarding away never leaves the old rule racing the
  // new policy; meters are created before the rules that use them.
  void reconcile(const std::vector<CompiledRule>& desired,
                 const std::vector<CompiledMeter>& meters = {});
  // The same change as a delta, for callers that know what they hold (the offload
  // engine's desired state), staged then committed as one batch: every staged add takes
  // one more reference on its rule (an entry is made at once when new; a kept entry takes
  // the attributes of its last listing), every staged drop gives one up (entries left
  // unreferenced are stale), and, when `meters` is given, the meters become equal to it.
  // Nothing reaches the NIC before commit_update, which keeps reconcile's order: stale
  // rules out, meters, then new rules, chain members before their needers. Between begin
  // and commit the table must not be read or changed otherwise.
  void begin_update();
  const RuleEntry& stage_add(CompiledRule&& r);
  // stage_add of rules[0, n) in order, entry i to out[i]: the same result, with the index
  // probes of a run overlapped (each is a cache miss in a big table).
  void stage_add(CompiledRule* rules, size_t n, const RuleEntry** out);
  void stage_drop(const RuleEntry& e);
  void commit_update(const std::vector<CompiledMeter>* meters = nullptr);
  // Destroys everything (the NIC is also flushed by the caller at start).
  void clear();

  // Reads the COUNT of every hw rule and the stats of every meter; calls on_active(entry)
  // for rules whose counter moved.
  void poll_counters(const std::function<void(const RuleEntry&)>& on_active);
  // Retries refusals that are due: transient ones after their back-off, ENOSPC ones once
  // a rule was destroyed since. Cheap when nothing waits.
  void retry_refused();

  size_t size() const { return all_.size(); }
  Entries entries() const { return Entries(all_); }
  // nullptr when no entry has this spec.
  const RuleEntry* find(const RuleSpec& spec) const;
  const std::map<uint32_t, MeterEntry>& meters() const { return meters_; }
  // Live plus retired: never goes back.
  HwCounters hw_counters() const;
  const HwCounters& retired() const { return retired_; }
  uint64_t nic_errors() const { return nic_errors_; }

 private:
  struct Chain {
    std::vector<Node*> members;  // each knows its position (Node::member_pos)
    std::vector<Node*> needers;  // few: the rules that send frames into the chain
    size_t in_hw = 0;
  };
  // Open addressing with linear probing over the entries' spec hashes: no allocation
  // per rule, one probe sequence per lookup.
  class Index {
   public:
    Node* find(const RuleSpec& spec, uint64_t hash) const;
    void insert(Node* n, uint64_t hash);
    void erase(const Node* n, uint64_t hash);
    void clear();
    // Room for n entries without growing.
    void reserve(size_t n);
    // Starts loading hash's first slot. Only after reserve(): the index has slots.
    void prefetch(uint64_t hash) const {
      const Slot* first = slots_.data();
      const size_t mask = slots_.size() - 1;
      __builtin_prefetch(first + (hash & mask));
    }
    size_t size() const { return size_; }

   private:
    // The hash beside the pointer: probing past other specs reads no entry.
    struct Slot {
      uint64_t hash = 0;
      Node* node = nullptr;
    };
    void rehash(size_t slots);
    // Big ones on huge pages (base/huge_pages.h).
    using Slots = std::vector<Slot, BigAllocator<Slot>>;
    Slots slots_;
    size_t size_ = 0;
  };
  // The entries' memory: chunks that never move, a freed entry's place reused by a later
  // one (the lowest free place first, base/free_slots.h, so that a reload is laid out as
  // the first load was), so that a rule costs no allocation of its own.
  class NodePool {
   public:
    NodePool() = default;
    NodePool(const NodePool&) = delete;
    NodePool& operator=(const NodePool&) = delete;
    ~NodePool();
    Node* make();
    void destroy(Node* n);

   private:
    // Chunks double from a few KiB (a small table stays small) up to 8 MiB, which huge
    // pages back (base/huge_pages.h).
    static constexpr size_t kFirstChunkBytes = 16 << 10;
    static constexpr size_t kMaxChunkBytes = 8 << 20;
    struct Chunk {
      void* mem;
      size_t bytes;
      uint32_t first;  // the place number of its first node
    };
    Node* node_at(uint32_t place) const;
    std::vector<Chunk> chunks_;
    FreeSlots free_;            // place numbers
    size_t last_capacity_ = 0;  // places in chunks_.back()
    size_t used_in_last_ = 0;   // of which taken
  };
  // What one reconcile / update decided, before any of it reaches the NIC.
  struct Batch {
    std::vector<Node*> counted;       // existing entries the batch listed or dropped
    std::vector<Node*> fresh;         // entries it created (not yet linked or in the NIC)
    std::deque<CompiledRule> listed;  // attributes staged for kept entries
  };

  Node* create_node(const CompiledRule& r, RuleSpec&& spec, uint64_t hash, uint32_t refs);
  const RuleEntry& stage_add(CompiledRule&& r, uint64_t hash);
  static void set_attributes(RuleEntry& e, const CompiledRule& r);
  // Counter attribution (counts_rx, tx_veths), from the entry's spec and attributes.
  void attribute_counters(Node& n) const;
  // The chain index, once the entry's attributes are set and its counters attributed.
  void init_entry(Node& n);
  void count_in(Node* n);
  void erase_entry(Node* n);
  void commit(Batch& b, const std::vector<CompiledMeter>* meters);
  void link(RuleEntry& e);
  void unlink(RuleEntry& e);
  Chain* chain_of(ChainId c);
  // chains_[c], made if missing; one lookup for a run of rules of one chain.
  Chain& chain_at(ChainId c);
  void erase_chain(std::unordered_map<ChainId, Chain>::iterator it);
  bool chain_complete(ChainId c) const;
  std::string chain_reason(ChainId c) const;
  // Why e may not go in now ("" = it may).
  std::string held_back_by(const RuleEntry& e) const;
  // held_back_by(e).empty(), without building the words.
  bool may_go_in(const RuleEntry& e) const;

  // Creates e on the NIC if nothing holds it back; wakes the needers of a chain it
  // completes.
  void put_in(RuleEntry& e);
  // put_in() for a run of rules (commit's), through FlowBackend::create_batch: e joins the
  // run when nothing about it depends on the rules before it in the run (it needs no
  // chain; its meters are in; the NIC did not refuse its spec for good); otherwise the run
  // goes to the NIC first, then e alone. flush_puts() sends what the run holds.
  void put_in_run(RuleEntry& e);
  void flush_puts();
  // What follows the NIC's answer to a create: the entry's state, handle or refusal, and
  // the rules a chain it completes held back.
  void created(RuleEntry& e, const drivers::FlowResult<drivers::FlowHandle>& res);
  // Destroys e on the NIC, after taking out the hw rules that need its chain.
  void take_out(RuleEntry& e);
  void record_refusal(RuleEntry& e, const drivers::FlowError& err);
  void hold_back(RuleEntry& e, std::string why);
  // Puts in every held-back rule whose chains and meters are now in the NIC.
  void settle();
  void refresh_reasons();
  uint64_t backoff_ns(uint32_t attempts) const;

  void install_meter(MeterEntry& m);
  void uninstall_meter(MeterEntry& m);
  void retire_meter(const MeterEntry& m);
  void read_count(RuleEntry& e);
  void add_rule_counts(HwCounters& to, const RuleEntry& e) const;

  struct PutRun;  // put_in_run()'s rules, translated, waiting for create_batch
  drivers::FlowBackend& nic_;
  const Clock& clock_;
  std::unique_ptr<PutRun> put_run_;  // made on first use: a few dozen KiB
  NodePool pool_;                    // declared first: it outlives every entry
  std::vector<Node*> all_;           // in pool_; each knows its position (Node::slot)
  Index index_;
  uint32_t batch_ = 0;  // numbers the batches of reconcile / update
  Batch staged_;        // the update being staged
  std::map<uint32_t, MeterEntry> meters_;
  std::unordered_map<ChainId, Chain> chains_;
  Chain* last_chain_ = nullptr;  // chains_[last_chain_id_] (map values do not move)
  ChainId last_chain_id_ = kNoChain;
  std::set<RuleEntry*> held_;     // state sw because of a chain or a meter
  std::set<RuleEntry*> refused_;  // refused for a reason worth retrying
  // Specs the NIC called unsupported or malformed: not asked again (bounded).
  std::map<RuleSpec, drivers::FlowError> refused_for_good_;
  std::map<uint16_t, uint32_t> port_veths_;
  uint64_t destroy_gen_ = 0;             // grows with every rule destroyed: capacity came back
  uint64_t retried_gen_ = 0;             // destroy_gen_ at the last retry pass
  uint64_t next_retry_ns_ = UINT64_MAX;  // earliest back-off end among transient refusals
  HwCounters retired_;
  uint64_t nic_errors_ = 0;
};

}  // namespace vfs::offload
