// offload/policy.h owns the datapath's view of policy: an immutable PolicySnapshot,
// indexed by representor ethdev port, that the slow path and the rule compiler read.
// It is published as a whole (never edited in place), so readers need no lock: they
// load the current snapshot once per burst.
#pragma once

#include <atomic>
#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vsm/dataplane.h"

namespace vfs::offload {

enum class PortKind : uint8_t { uplink, vf };

struct PortPolicy {
  PortKind kind = PortKind::vf;
  bool bound = false;        // a vEthernet is attached (always true for the uplink)
  bool forwarding = false;   // false = fail closed: drop everything from/to this port
  uint32_t veth = 0;         // vEthernet number, 0 for the uplink
  uint16_t access_vlan = 0;  // access ports
  std::string label;         // "vEthernet3 (vm1)" / "uplink", for logs and dumps
  // The vEthernet's whole resolved policy (mode, trunk VLANs, ACLs, policers, port
  // security, source bindings, storm control): the slow path evaluates it and the rule
  // compiler compiles it (offload/policy_eval.h states the semantics both follow).
  vsm::ResolvedVeth cfg;
  // SPAN: ethdev ports that receive a copy of what this port sends (rx on the switch) or
  // of what is sent to it (tx).
  std::vector<uint16_t> mirror_rx, mirror_tx;
  // The uplink (DHCP snooping's trusted port): some vEthernet snoops DHCP, so the rules
  // send server replies (UDP 67 -> 68) to the slow path.
  bool traps_dhcp_replies = false;

  // Whole values: the offload worker recompiles a port whenever anything of it changed.
  bool operator==(const PortPolicy&) const = default;
};

inline PortPolicy uplink_port_policy() {
  PortPolicy p;
  p.kind = PortKind::uplink;
  p.bound = p.forwarding = true;
  p.label = "uplink";
  return p;
}

// A forwarding access port in `vlan` with no other policy (tests, benches).
inline PortPolicy access_port_policy(uint32_t veth, uint16_t vlan, std::string label) {
  PortPolicy p;
  p.bound = p.forwarding = true;
  p.veth = veth;
  p.access_vlan = vlan;
  p.label = std::move(label);
  p.cfg.number = veth;
  p.cfg.access_vlan = vlan;
  p.cfg.forwarding = true;
  return p;
}

struct PolicySnapshot {
  uint64_t generation = 0;
  std::bitset<4096> vlans;        // VLANs that exist on this switch
  std::vector<PortPolicy> ports;  // indexed by ethdev port id

  const PortPolicy* port(uint16_t p) const { return p < ports.size() ? &ports[p] : nullptr; }
};

// Single-writer publication point. Readers call load() per burst; the writer replaces
// the whole snapshot.
class PolicyChannel {
 public:
  PolicyChannel() : cur_(std::make_shared<const PolicySnapshot>()) {}
  std::shared_ptr<const PolicySnapshot> load() const {
    return cur_.load(std::memory_order_acquire);
  }
  uint64_t generation() const { return gen_.load(std::memory_order_acquire); }
  void publish(std::shared_ptr<const PolicySnapshot> s) {
    uint64_t g = s->generation;
    cur_.store(std::move(s), std::memory_order_release);
    gen_.store(g, std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const PolicySnapshot>> cur_;
  std::atomic<uint64_t> gen_{0};
};

}  // namespace vfs::offload
