// drivers/sim/sim_datapath.h owns the sim's "hardware": one thread that reads every wire,
// classifies each burst against the flow table (holding the table's mutex once per
// burst), sends frames to wires or queues them to representors, and drains what the
// slow path sends on each representor to that representor's wire.
//
// It polls under load and backs off when idle (sleeps growing to 1 ms, then 4 ms after
// ~30 ms without traffic), so an idle sim costs well under 2% of a core.
#pragma once

#include <array>
#include <atomic>
#include <mutex>
#include <thread>

#include <rte_mempool.h>

#include "base/result.h"
#include "drivers/rx_wakeup.h"
#include "drivers/sim/sim_flow_table.h"
#include "drivers/sim/sim_ports.h"
#include "drivers/sim/sim_stats.h"
#include "drivers/sim/sim_vf_ports.h"

namespace vfs::drivers::sim {

class Datapath {
 public:
  // ports must be started before start() and outlive the datapath; table_mu guards table
  // and vfs (what the VF ports enforce: drivers/sim/sim_vf_ports.h).
  Datapath(SimPorts& ports, FlowTable& table, VfPorts& vfs, std::mutex& table_mu,
           rte_mempool* pool);
  ~Datapath();
  Datapath(const Datapath&) = delete;
  Datapath& operator=(const Datapath&) = delete;

  Result<void> start();
  void stop();  // returns once the thread has exited
  SimStats stats() const;
  // Rung when an exception packet is put on a representor (drivers/rx_wakeup.h).
  RxWakeup& rx_wakeup() { return rx_wakeup_; }

 private:
  void run();

  SimPorts& ports_;
  FlowTable& table_;
  VfPorts& vfs_;
  std::mutex& table_mu_;
  rte_mempool* pool_;
  RxWakeup rx_wakeup_;
  std::atomic<bool> running_{false};
  std::thread thread_;
  // Written by the datapath thread only, read by stats().
  std::array<std::atomic<uint64_t>, static_cast<size_t>(SimCounter::count_)> counters_{};
};

}  // namespace vfs::drivers::sim
