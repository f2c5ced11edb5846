// slowpath/slow_path.h owns the DPDK exception path: one thread polls every representor
// (a frame arrives there when it matched no eSwitch rule), applies the vEthernet's
// policy from the current PolicySnapshot, learns source MACs per VLAN, forwards or
// floods within the VLAN through the representors, and tells the offload engine what it
// learned so that the rest of the traffic is switched by the NIC.
//
// Threading: run on its own thread (start/stop from the control thread). Per packet it
// takes no lock, makes no syscall and allocates nothing but mbufs from the pool; it backs
// off to sleeping when idle so it doesn't spin a core.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <rte_mbuf.h>
#include <rte_meter.h>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/spsc_ring.h"
#include "drivers/eswitch.h"
#include "offload/offload_engine.h"
#include "offload/policy.h"
#include "offload/policy_eval.h"
#include "slowpath/dhcp_snooping.h"
#include "slowpath/drop_reason.h"
#include "slowpath/fdb.h"
#include "slowpath/flow_template.h"
#include "slowpath/verdict_cache.h"

namespace vfs::slowpath {

struct SlowPathOptions {
  uint64_t mac_aging_ns = 300'000'000'000ULL;  // NX-OS default: 300 s
  size_t fdb_capacity = 1 << 16;
  uint32_t max_idle_sleep_us = 1000;    // timed back-off, without a doorbell
  uint32_t housekeeping_wake_ms = 100;  // longest sleep on the doorbell
  size_t dhcp_event_ring = 1024;        // DHCP snooping -> control plane (power of two)
  // Flows whose verdicts (and FDB answers) are cached (slowpath/verdict_cache.h); 0: none,
  // each frame is decided from scratch (same outcome, for tests that compare the two).
  size_t verdict_cache_entries = 4096;
  // Frames of one flow in a row on a port are decided once (SlowPath::FlowRun); off, each
  // frame is decided on its own (same outcome, for tests that compare the two).
  bool flow_runs = true;
};

// Written only by the slow-path thread; read by anyone (relaxed).
struct PortCounters {
  std::atomic<uint64_t> rx_packets{0};  // exception packets from this port
  std::atomic<uint64_t> rx_bytes{0};
  std::atomic<uint64_t> tx_packets{0};  // sent by the slow path to this port
  std::atomic<uint64_t> tx_bytes{0};
  std::array<std::atomic<uint64_t>, kDropReasonCount> drops{};
  // Software policers ([0] input, [1] output): frames within and over the rate.
  std::array<std::atomic<uint64_t>, 2> police_conform_packets{}, police_conform_bytes{};
  std::array<std::atomic<uint64_t>, 2> police_violate_packets{}, police_violate_bytes{};
};

// Matches per ACL entry, by position in the ACL (the implicit deny after the last entry),
// for each of a port's six ACL slots (offload::acl_slot()). Entries past the last
// counter share it.
inline constexpr size_t kAclSlots = 6;
inline constexpr size_t kAceCounters = 128;
struct AclCounters {
  std::array<std::array<std::atomic<uint64_t>, kAceCounters>, kAclSlots> slot{};
};

struct SlowPathCounters {
  std::atomic<uint64_t> exception_packets{0};
  std::atomic<uint64_t> forwarded{0};
  // Of those, forwarded on the decision of the frame before them in their burst, of the
  // same flow (slowpath/flow_template.h), without a policy or FDB lookup of their own.
  std::atomic<uint64_t> batched{0};
  std::atomic<uint64_t> flooded{0};
  std::atomic<uint64_t> learned{0};
  std::atomic<uint64_t> moved{0};
  std::atomic<uint64_t> aged{0};
  std::atomic<uint64_t> fdb_full{0};
  std::atomic<uint64_t> offload_ring_full{0};
  std::array<std::atomic<uint64_t>, kDropReasonCount> drops{};
};

class SlowPath {
 public:
  // wakeup: the driver's doorbell (drivers/rx_wakeup.h), or nullptr to poll with a timed
  // back-off when idle.
  SlowPath(std::vector<drivers::PortInfo> ports, rte_mempool* pool,
           const offload::PolicyChannel& policy, offload::OffloadEngine& offload,
           const Clock& clock, SlowPathOptions opt = {}, drivers::RxWakeup* wakeup = nullptr);
  ~SlowPath();
  SlowPath(const SlowPath&) = delete;
  SlowPath& operator=(const SlowPath&) = delete;

  void start();
  void stop();

  // One pass over every port; returns the number of frames handled. The thread calls it
  // in a loop; tests may call it directly instead of start().
  unsigned poll_once();

  const SlowPathCounters& counters() const { return counters_; }
  const PortCounters* port_counters(uint16_t port) const;
  // True when port security err-disabled the port (shutdown violation mode).
  bool errdisabled(uint16_t port) const {
    return port < max_port_ && errdisabled_[port].load(std::memory_order_relaxed);
  }
  nlohmann::json counters_json() const;
  // Software matches per ACL entry under the current policy: {"ip:NAME": {"SEQ": n}},
  // "0" for the implicit deny; summed over ports. Control threads.
  nlohmann::json acl_entries_json() const;
  // Waits until the slow path forwards under policy generation >= gen (control threads;
  // wakes a sleeping slow path). False on timeout.
  bool wait_for_policy(uint64_t gen, uint64_t timeout_ms) const;
  uint64_t policy_generation() const { return loaded_gen_.load(std::memory_order_acquire); }

  // FDB size as last seen by the slow-path thread.
  size_t fdb_size() const { return fdb_size_.load(std::memory_order_relaxed); }

  // DHCP snooping (slowpath/dhcp_snooping.h): what the slow path learned or forgot, for
  // one control thread to fold into the ports' source bindings. Never blocks.
  bool take_dhcp_event(DhcpBindingEvent& out) { return dhcp_events_.pop(out); }
  const DhcpSnoopingCounters& dhcp_counters() const { return dhcp_counters_; }
  // Leases in the slow path's own table, as last seen by the slow-path thread.
  size_t dhcp_bindings() const { return dhcp_size_.load(std::memory_order_relaxed); }
  const VerdictCacheStats& verdict_cache_stats() const { return verdict_cache_.stats(); }

 private:
  static constexpr uint16_t kBurst = 32;
  struct TxQueue {
    uint16_t n = 0;
    // Counted as queued: once sent, an mbuf is the driver's to free.
    uint64_t bytes = 0;
    std::array<rte_mbuf*, kBurst * 2> pkts{};
  };

  void run();
  void refresh_policy();
  // What handle() decided for a frame it forwarded to one port on a cached verdict, for
  // the frames of the same flow (those that match `flow`) right after it on the same
  // port: they are counted, policed and sent the same way, frame by frame, with no lookup
  // (OVS's per-flow batches). Exact: nothing the decision read has changed while the
  // policy generation, the verdict cache's epoch (leases) and the FDB's version stay
  // the same — the meters aside, which replay() applies per frame — so a run also carries
  // over to the port's next bursts.
  struct FlowRun {
    bool valid = false;
    uint16_t out_port = 0, vid = 0;
    bool tagged = false, want_tag = false;
    uint8_t in_hits = 0, eg_hits = 0;
    AceCounters in_counters{}, eg_counters{};
    uint32_t len = 0;
    uint8_t src[6] = {};
    uint64_t policy_gen = 0, cache_epoch = 0, fdb_version = 0;
    FlowTemplate flow;
  };
  std::unique_ptr<FlowRun[]> runs_;  // by ethdev port id: the port's last run
  // next: the frame after m in its burst, if any; when it may be of m's flow and m is
  // forwarded to one port on a cached verdict, runs_[in_port] remembers the decision.
  void handle(rte_mbuf* m, uint16_t in_port, const rte_mbuf* next);
  bool follows(const FlowRun& r, const rte_mbuf* m) const {
    return m->nb_segs == 1 &&
           r.flow.matches(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m));
  }
  bool current(const FlowRun& r, uint16_t in_port) const {
    return r.valid && r.policy_gen == policy_gen_ && r.cache_epoch == verdict_cache_.epoch() &&
           r.fdb_version == fdb_.version() && !errdisabled(in_port);
  }
  void replay(uint16_t in_port, rte_mbuf* const* pkts, uint16_t n);
  // Records in cv what the FDB answered for its admitted frame from in_port (source
  // learned, destination's port out), for the flow's next frames while the FDB is as now.
  void remember_fdb(CachedVerdict& cv, uint16_t in_port, uint16_t vid, const uint8_t* data,
                    int out);
  // A cheap guess that next is of the flow of the frame (data, len; layout l) before it.
  static bool looks_alike(const rte_mbuf* next, const offload::FrameLayout& l, const uint8_t* data,
                          uint32_t len);
  void flood(rte_mbuf* m, uint16_t in_port, const offload::FrameLayout& l,
             const offload::IngressVerdict& in);
  // tagged: the frame carries a tag now; want_tag: it must leave tagged with vid.
  void send(rte_mbuf* m, uint16_t out_port, uint16_t vid, bool tagged, bool want_tag);
  void mirror(rte_mbuf* m, const std::vector<uint16_t>& to);  // SPAN copies, as m is now
  void enqueue(rte_mbuf* m, uint16_t out_port);
  template <typename V>
  void count_acl_hits(uint16_t port, const V& verdict);
  // The counters verdict's ACL hits bump at port (resolved once per cached verdict).
  template <typename V>
  AceCounters acl_hit_counters(uint16_t port, const V& verdict);
  void flush_tx();
  void drop(rte_mbuf* m, uint16_t port, DropReason r);
  void housekeeping();

  std::vector<drivers::PortInfo> ports_;
  rte_mempool* pool_;
  const offload::PolicyChannel& policy_ch_;
  offload::OffloadEngine& offload_;
  const Clock& clock_;
  SlowPathOptions opt_;

  std::shared_ptr<const offload::PolicySnapshot> policy_;
  uint64_t policy_gen_ = UINT64_MAX;
  Fdb fdb_;
  std::vector<TxQueue> tx_;                        // by ethdev port id
  std::unique_ptr<PortCounters[]> port_counters_;  // by ethdev port id
  std::unique_ptr<AclCounters[]> acl_counters_;    // by ethdev port id
  // Per-entry counts outlive policy changes: at each change the slow-path thread folds
  // the per-port arrays into acl_retired_ by (ACL, sequence) and zeroes them. acl_mu_ is
  // taken then and by readers, never per packet.
  mutable std::mutex acl_mu_;
  std::map<std::string, std::map<uint32_t, uint64_t>> acl_retired_;
  std::shared_ptr<const offload::PolicySnapshot> acl_policy_;  // what the arrays count under
  void retire_acl_counts();
  // The slow path's own srTCM per port and direction, for the frames it forwards: the
  // same `police` the rules' METER actions apply in the NIC.
  struct SoftPolicer {
    bool on = false;
    bool wanted = false;  // police only: the port's policy has it (set by refresh_policy)
    uint64_t cir = 0, cbs = 0;
    rte_meter_srtcm_profile profile{};
    rte_meter_srtcm meter{};
  };
  std::unique_ptr<std::array<SoftPolicer, 2>[]> policers_;  // by ethdev port id
  // Storm control per port: [0] broadcast, [1] multicast, [2] unknown unicast. Flooding
  // is always the slow path's, so this is where the levels are enforced.
  std::unique_ptr<std::array<SoftPolicer, 3>[]> storm_;
  bool storm_allows(uint16_t port, const uint8_t* dst, uint32_t len);
  void configure(SoftPolicer& sp, bool want, uint64_t cir, uint64_t cbs, const std::string& what);
  bool police(uint16_t port, bool input, uint32_t len) { return police_run(port, input, len, 1); }
  // n frames of len bytes at once, all at this burst's TSC: how many of them, first to
  // last, are within the rate (the rest are over it: the buckets gain nothing more
  // within a burst, so what passes is a prefix, exactly as checking each would find).
  uint32_t police_run(uint16_t port, bool input, uint32_t len, uint32_t n);
  // Port security: may (vid, mac) be learned on port? Applies the violation mode.
  // known: fdb_'s port of (vid, mac) now, or -1.
  bool secure_source(uint16_t port, uint16_t vid, const uint8_t* mac, int known);
  void forget(uint16_t vid, const uint8_t* mac, uint16_t port);  // an FDB entry went away
  void learn(uint16_t port, uint16_t vid, const uint8_t* mac, int before);  // before: as known
  std::vector<uint32_t> macs_on_port_;  // FDB entries per port (port security's count)
  // DHCP snooping: server messages from the uplink bind, client messages unbind.
  void snoop_dhcp(uint16_t in_port, uint16_t vid, const offload::FrameLayout& l,
                  const uint8_t* data, uint32_t len);
  void snoop_server(const DhcpMessage& msg, uint16_t vid);
  void snoop_client(const DhcpMessage& msg, uint16_t port, uint16_t vid, const uint8_t* src);
  bool post_dhcp(const DhcpBindingEvent& ev);
  void post_unbound(DhcpBindingEvent::Cause cause, uint16_t port, const DhcpBinding& b);
  void clear_unsnooped_leases();
  DhcpBindingTable dhcp_table_;
  // Every change of dhcp_table_'s leases calls this: IP source guard reads them, so the
  // cached verdicts may be stale.
  void leases_changed() { verdict_cache_.invalidate(); }
  VerdictCache verdict_cache_;
  SpscRing<DhcpBindingEvent> dhcp_events_;
  DhcpSnoopingCounters dhcp_counters_;
  std::atomic<size_t> dhcp_size_{0};
  // Err-disabled by a port-security violation in shutdown mode; cleared when the port is
  // shut down administratively (NX-OS: shutdown / no shutdown recovers it).
  std::unique_ptr<std::atomic<bool>[]> errdisabled_;
  size_t max_port_ = 0;
  SlowPathCounters counters_;
  std::atomic<size_t> fdb_size_{0};
  uint64_t next_housekeeping_ns_ = 0;
  uint64_t now_ns_ = 0;     // clock_ at the start of this pass (what learning records)
  uint64_t burst_tsc_ = 0;  // TSC when this burst was received (what the meters read)

  drivers::RxWakeup* wakeup_;
  std::atomic<uint64_t> loaded_gen_{0};
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace vfs::slowpath
