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
#include <memory>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <rte_mbuf.h>

#include "base/clock.h"
#include "drivers/eswitch.h"
#include "offload/offload_engine.h"
#include "offload/policy.h"
#include "slowpath/drop_reason.h"
#include "slowpath/fdb.h"

namespace vfs::slowpath {

struct SlowPathOptions {
  uint64_t mac_aging_ns = 300'000'000'000ULL;  // NX-OS default: 300 s
  size_t fdb_capacity = 1 << 16;
  uint32_t max_idle_sleep_us = 1000;   // timed back-off, without a doorbell
  uint32_t housekeeping_wake_ms = 100;  // longest sleep on the doorbell
};

// Written only by the slow-path thread; read by anyone (relaxed).
struct PortCounters {
  std::atomic<uint64_t> rx_packets{0};  // exception packets from this port
  std::atomic<uint64_t> rx_bytes{0};
  std::atomic<uint64_t> tx_packets{0};  // sent by the slow path to this port
  std::atomic<uint64_t> tx_bytes{0};
  std::array<std::atomic<uint64_t>, kDropReasonCount> drops{};
};

struct SlowPathCounters {
  std::atomic<uint64_t> exception_packets{0};
  std::atomic<uint64_t> forwarded{0};
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
  SlowPath(std::vector<drivers::PortInfo> ports, rte_mempool* pool, const offload::PolicyChannel& policy,
           offload::OffloadEngine& offload, const Clock& clock, SlowPathOptions opt = {},
           drivers::RxWakeup* wakeup = nullptr);
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
  nlohmann::json counters_json() const;
  // Waits until the slow path forwards under policy generation >= gen (control threads;
  // wakes a sleeping slow path). False on timeout.
  bool wait_for_policy(uint64_t gen, uint64_t timeout_ms) const;
  uint64_t policy_generation() const { return loaded_gen_.load(std::memory_order_acquire); }

  // FDB size as last seen by the slow-path thread.
  size_t fdb_size() const { return fdb_size_.load(std::memory_order_relaxed); }

 private:
  static constexpr uint16_t kBurst = 32;
  struct TxQueue {
    uint16_t n = 0;
    std::array<rte_mbuf*, kBurst * 2> pkts{};
  };

  void run();
  void refresh_policy();
  void handle(rte_mbuf* m, uint16_t in_port);
  void flood(rte_mbuf* m, uint16_t in_port, uint16_t vid, bool tagged);
  void send(rte_mbuf* m, uint16_t out_port, uint16_t vid, bool tagged);
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
  std::vector<TxQueue> tx_;                         // by ethdev port id
  std::unique_ptr<PortCounters[]> port_counters_;   // by ethdev port id
  size_t max_port_ = 0;
  SlowPathCounters counters_;
  std::atomic<size_t> fdb_size_{0};
  uint64_t next_housekeeping_ns_ = 0;

  drivers::RxWakeup* wakeup_;
  std::atomic<uint64_t> loaded_gen_{0};
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace vfs::slowpath
