// drivers/sim/sim_ports.h owns the sim's DPDK ports. Per sim port (0 = uplink, 1 + i =
// VF i): a representor, which is a ring ethdev (rte_eth_from_rings) whose rx ring the
// sim fills with exception frames and whose tx ring the sim drains to the wire; and the
// wire's switch end opened as a net_af_packet ethdev.
//
// Representors exist from make() to destruction, so their ethdev ids are stable. Wire
// ethdevs exist between start() and stop(): net_af_packet closes its socket on stop and
// cannot be restarted, and while closed the kernel drops what the VM sends, like a link
// that is down.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "base/result.h"
#include "drivers/sim/sim_wires.h"

namespace vfs::drivers::sim {

struct SimPort {
  std::string rep_name;        // representor ethdev name
  uint16_t rep_port = 0;       // representor ethdev id
  rte_ring* rep_rx = nullptr;  // sim -> slow path
  rte_ring* rep_tx = nullptr;  // slow path -> sim
  std::string wire_dev;        // switch end of the wire
  std::string vm_dev;          // VM end of the wire
  std::string wire_vdev;       // net_af_packet vdev name
  uint16_t wire_port = 0;      // valid while wire_open
  bool wire_open = false;
};

class SimPorts {
 public:
  // How many ethdevs make() and start() need for `wires` wires.
  static unsigned ethdevs_needed(size_t wires) { return static_cast<unsigned>(2 * wires); }

  static Result<std::unique_ptr<SimPorts>> make(const std::string& sim_name,
                                                const std::vector<Wire>& wires, rte_mempool* pool);
  ~SimPorts();
  SimPorts(const SimPorts&) = delete;
  SimPorts& operator=(const SimPorts&) = delete;

  // Opens the wire ethdevs and starts the representors. On failure, nothing is started.
  Result<void> start();
  // Stops the representors and closes the wire ethdevs. Frames left in the representor
  // rings are freed.
  void stop();

  std::vector<SimPort>& ports() { return ports_; }
  const std::vector<SimPort>& ports() const { return ports_; }

 private:
  SimPorts(std::string sim_name, rte_mempool* pool) : sim_name_(std::move(sim_name)), pool_(pool) {}
  Result<void> open_wire(SimPort& p);
  void close_wire(SimPort& p);
  void destroy_representor(SimPort& p);

  std::string sim_name_;
  rte_mempool* pool_;
  std::vector<SimPort> ports_;
  bool started_ = false;
};

}  // namespace vfs::drivers::sim
