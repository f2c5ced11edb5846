// offload/offload_engine.h owns the offload worker thread: it turns the slow path's
// learning decisions and the published policy into rules on the NIC, so that the poll
// loop never waits for a rule insertion. The slow path talks to it through lock-free
// rings only (post / take_activity); control threads call resync_and_wait after
// publishing a new policy snapshot and read copies of the rule table for dumps.
//
// The worker sleeps in the kernel on a doorbell (drivers/rx_wakeup.h: arm, re-check the
// rings and requests, sleep) that post() rings only when the worker is armed, so a learned
// MAC wakes it at once without a syscall per post while it is busy; it also wakes every
// OffloadOptions::idle_wake_ms for counter polls and refused rules' retries.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "base/spsc_ring.h"
#include "drivers/flow_backend.h"
#include "drivers/rx_wakeup.h"
#include "offload/desired_state.h"
#include "offload/policy.h"
#include "offload/rule_compiler.h"
#include "offload/rule_table.h"

namespace vfs::offload {

// Slow path -> worker.
struct FdbEvent {
  enum Kind : uint8_t { learned, removed } kind = learned;
  LearnedMac entry;
};

// Worker -> slow path: hardware forwarded frames from this source MAC since last poll,
// so the slow path must not age it out even though it no longer sees its frames.
struct MacActivity {
  uint16_t vid = 0;
  Mac mac{};
};

struct OffloadOptions {
  uint64_t counter_poll_ns = 1'000'000'000ULL;
  size_t ring_size = 4096;
  uint64_t resync_timeout_ms = 30'000;
  // The worker's longest sleep when nothing rings its doorbell: how late a counter poll
  // or a refused rule's retry can be.
  uint64_t idle_wake_ms = 100;
};

class OffloadEngine {
 public:
  OffloadEngine(drivers::FlowBackend& nic, const Clock& clock, const PolicyChannel& policy,
                OffloadOptions opt = {});
  ~OffloadEngine();
  OffloadEngine(const OffloadEngine&) = delete;
  OffloadEngine& operator=(const OffloadEngine&) = delete;

  // Flushes whatever the NIC holds (a previous run's rules are stale by definition) and
  // starts the worker.
  Result<void> start();
  void stop();

  // --- slow-path thread only; never blocks ---
  bool post(const FdbEvent& ev);
  bool take_activity(MacActivity& out) { return activity_.pop(out); }

  // --- control threads ---
  // Waits until the worker has compiled the currently published policy into the NIC.
  Result<void> resync_and_wait();
  // Waits until every event posted so far has been handled (tests, dumps after traffic).
  void drain();
  std::vector<RuleEntry> rules() const;
  std::vector<MeterEntry> meters() const;
  // What the NIC counted, live plus retired (offload/hw_counters.h): never goes back.
  HwCounters hw_counters() const;
  // Only what rules and meters that no longer exist counted.
  HwCounters retired_counters() const;
  uint64_t nic_errors() const;
  // Whether the worker is armed to sleep on its doorbell (tests: a post now must wake it).
  bool worker_armed() const { return doorbell_.armed(); }

 private:
  void run();
  bool has_work_locked() const;
  void handle(const FdbEvent& ev, const PolicySnapshot& policy);

  drivers::FlowBackend& nic_;
  const Clock& clock_;
  const PolicyChannel& policy_;
  OffloadOptions opt_;

  SpscRing<FdbEvent> events_;
  SpscRing<MacActivity> activity_;

  mutable std::mutex mu_;            // guards table_ and the worker's state below against readers
  drivers::RxWakeup doorbell_;       // wakes the worker
  std::condition_variable done_cv_;  // wakes waiters
  bool running_ = false;
  uint64_t resync_requested_ = 0;
  uint64_t resync_done_ = 0;
  std::atomic<uint64_t> posted_count_{0};
  uint64_t handled_count_ = 0;
  RuleTable table_;
  DesiredState desired_;  // what table_ holds for each port and learned MAC
  std::thread worker_;
};

}  // namespace vfs::offload
