#include "drivers/sim/sim_ports.h"

#include <array>

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "base/log.h"

namespace vfs::drivers::sim {
namespace {

constexpr unsigned kRingSize = 1024;  // frames queued per representor direction
constexpr uint16_t kWireDescriptors = 512;
// More than a wire's AF_PACKET ring holds (net_af_packet's 512 frames by default).
constexpr unsigned kMaxUnboundFrames = 4096;

std::string port_suffix(size_t index) {
  return index == 0 ? std::string("up") : fmt::format("vf{}", index - 1);
}

void free_ring_contents(rte_ring* r) {
  if (!r) return;
  void* m = nullptr;
  while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
}

Result<void> setup_queues(uint16_t port, rte_mempool* pool, uint16_t descriptors,
                          const std::string& what) {
  rte_eth_conf conf{};
  if (int rc = rte_eth_dev_configure(port, 1, 1, &conf); rc < 0)
    return make_error(-rc, "{}: configure: {}", what, rte_strerror(-rc));
  const int socket = rte_eth_dev_socket_id(port) >= 0 ? rte_eth_dev_socket_id(port) : 0;
  if (int rc = rte_eth_rx_queue_setup(port, 0, descriptors, socket, nullptr, pool); rc < 0)
    return make_error(-rc, "{}: rx queue: {}", what, rte_strerror(-rc));
  if (int rc = rte_eth_tx_queue_setup(port, 0, descriptors, socket, nullptr); rc < 0)
    return make_error(-rc, "{}: tx queue: {}", what, rte_strerror(-rc));
  return ok();
}

// net_af_packet opens its socket for every interface (ETH_P_ALL), sets up and maps its
// ring, and only then binds it to the wire. Frames that crossed any interface of the network
// namespace meanwhile — another wire's VM, the host — are in that ring and would be read as
// this wire's VM's, with this port's policy: after a restart under traffic, a frame of the
// other VLAN's VM got flooded into this VLAN. The bind waits for in-flight deliveries
// (synchronize_net), so once the ethdev is up everything queued before it is read here and
// dropped, with the few frames of the wire's own that came since (as if its link had come up
// a moment later); what follows is the wire's own. Returns how many were dropped.
unsigned drop_frames_queued_before_bind(uint16_t port) {
  std::array<rte_mbuf*, 32> burst{};
  unsigned dropped = 0;
  while (dropped < kMaxUnboundFrames) {
    const uint16_t n = rte_eth_rx_burst(port, 0, burst.data(), static_cast<uint16_t>(burst.size()));
    if (n == 0) break;
    rte_pktmbuf_free_bulk(burst.data(), n);
    dropped += n;
  }
  return dropped;
}

}  // namespace

Result<std::unique_ptr<SimPorts>> SimPorts::make(const std::string& sim_name,
                                                 const std::vector<Wire>& wires,
                                                 rte_mempool* pool) {
  if (!pool) return make_error(EINVAL, "sim {}: no mbuf pool given", sim_name);
  std::unique_ptr<SimPorts> self(new SimPorts(sim_name, pool));
  for (size_t i = 0; i < wires.size(); ++i) {
    const std::string suffix = port_suffix(i);
    SimPort p;
    p.wire_dev = wires[i].switch_end;
    p.vm_dev = wires[i].vm_end;
    p.wire_vdev = fmt::format("net_af_packet_{}_{}", sim_name, suffix);
    const std::string rx_name = fmt::format("{}_{}_rx", sim_name, suffix);
    const std::string tx_name = fmt::format("{}_{}_tx", sim_name, suffix);
    // One producer fills the rx ring (the sim thread), one consumer drains the tx ring.
    p.rep_rx = rte_ring_create(rx_name.c_str(), kRingSize, SOCKET_ID_ANY, RING_F_SP_ENQ);
    p.rep_tx = p.rep_rx ? rte_ring_create(tx_name.c_str(), kRingSize, SOCKET_ID_ANY, RING_F_SC_DEQ)
                        : nullptr;
    if (!p.rep_rx || !p.rep_tx) {
      const int err = rte_errno;
      rte_ring_free(p.rep_rx);
      return make_error(err, "sim {}: representor ring {}: {}", sim_name,
                        p.rep_rx ? tx_name : rx_name, rte_strerror(err));
    }
    const std::string rep = fmt::format("{}_rep_{}", sim_name, suffix);
    const int id = rte_eth_from_rings(rep.c_str(), &p.rep_rx, 1, &p.rep_tx, 1, rte_socket_id());
    if (id < 0) {
      const int err = rte_errno;
      rte_ring_free(p.rep_rx);
      rte_ring_free(p.rep_tx);
      return make_error(err, "sim {}: representor {}: {}", sim_name, rep, rte_strerror(err));
    }
    p.rep_port = static_cast<uint16_t>(id);
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    rte_eth_dev_get_name_by_port(p.rep_port, name);
    p.rep_name = name;
    self->ports_.push_back(p);  // from here the destructor cleans it up
    if (auto r = setup_queues(p.rep_port, pool, kRingSize, "sim representor " + p.rep_name); !r)
      return r.error();
  }
  return self;
}

SimPorts::~SimPorts() {
  stop();
  for (SimPort& p : ports_) destroy_representor(p);
}

Result<void> SimPorts::open_wire(SimPort& p) {
  const std::string args = fmt::format("iface={},qpairs=1", p.wire_dev);
  if (int rc = rte_vdev_init(p.wire_vdev.c_str(), args.c_str()); rc < 0)
    return make_error(-rc, "sim wire {}: cannot open it with net_af_packet: {}", p.wire_dev,
                      rte_strerror(-rc));
  uint16_t id = 0;
  if (int rc = rte_eth_dev_get_port_by_name(p.wire_vdev.c_str(), &id); rc < 0) {
    rte_vdev_uninit(p.wire_vdev.c_str());
    return make_error(-rc, "sim wire {}: no ethdev {}", p.wire_dev, p.wire_vdev);
  }
  p.wire_port = id;
  p.wire_open = true;
  const std::string what = "sim wire " + p.wire_dev;
  if (auto r = setup_queues(id, pool_, kWireDescriptors, what); !r) {
    close_wire(p);
    return r;
  }
  if (int rc = rte_eth_dev_start(id); rc < 0) {
    close_wire(p);
    return make_error(-rc, "{}: start: {}", what, rte_strerror(-rc));
  }
  // A NIC's ports take every frame; veth delivers them to AF_PACKET anyway.
  (void)rte_eth_promiscuous_enable(id);
  if (const unsigned n = drop_frames_queued_before_bind(id); n > 0)
    log::info("sim", "wire {}: dropped {} frame(s) queued before its socket was bound", p.wire_dev,
              n);
  return ok();
}

void SimPorts::close_wire(SimPort& p) {
  if (!p.wire_open) return;
  (void)rte_eth_dev_stop(p.wire_port);
  if (int rc = rte_vdev_uninit(p.wire_vdev.c_str()); rc < 0)
    log::warn("sim", "wire {}: closing {}: {}", p.wire_dev, p.wire_vdev, rte_strerror(-rc));
  p.wire_open = false;
}

void SimPorts::destroy_representor(SimPort& p) {
  if (!p.rep_name.empty()) {
    (void)rte_eth_dev_stop(p.rep_port);
    // rte_eth_from_rings made a vdev; uninit closes and releases the ethdev too.
    if (int rc = rte_vdev_uninit(p.rep_name.c_str()); rc < 0)
      log::warn("sim", "representor {}: {}", p.rep_name, rte_strerror(-rc));
    p.rep_name.clear();
  }
  free_ring_contents(p.rep_rx);
  free_ring_contents(p.rep_tx);
  rte_ring_free(p.rep_rx);
  rte_ring_free(p.rep_tx);
  p.rep_rx = p.rep_tx = nullptr;
}

Result<void> SimPorts::start() {
  if (started_) return ok();
  for (SimPort& p : ports_) {
    if (auto r = open_wire(p); !r) {
      for (SimPort& q : ports_) close_wire(q);
      return r;
    }
  }
  for (size_t i = 0; i < ports_.size(); ++i) {
    if (int rc = rte_eth_dev_start(ports_[i].rep_port); rc < 0) {
      for (size_t j = 0; j < i; ++j) (void)rte_eth_dev_stop(ports_[j].rep_port);
      for (SimPort& q : ports_) close_wire(q);
      return make_error(-rc, "sim representor {}: start: {}", ports_[i].rep_name,
                        rte_strerror(-rc));
    }
  }
  started_ = true;
  return ok();
}

void SimPorts::stop() {
  if (!started_) return;
  for (SimPort& p : ports_) {
    (void)rte_eth_dev_stop(p.rep_port);
    close_wire(p);
    free_ring_contents(p.rep_rx);
    free_ring_contents(p.rep_tx);
  }
  started_ = false;
}

}  // namespace vfs::drivers::sim
