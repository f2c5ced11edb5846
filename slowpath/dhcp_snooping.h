// slowpath/dhcp_snooping.h owns DHCP snooping's data path: decoding the DHCPv4 messages
// the slow path sees (parse_dhcp) and the table of leases it learned from them
// (DhcpBindingTable), which IP source guard consults per packet (offload::LeaseLookup).
//
// Trust (NX-OS `ip dhcp snooping`): server messages count only from the uplink; a VM's
// server messages are dropped before they get here (offload/policy_eval.h). A DHCPACK
// binds (yiaddr, chaddr, VLAN, the client's vEthernet) for the lease time (option 51,
// 0xffffffff = infinite); a DHCPNAK for the client, its DHCPRELEASE (ciaddr) and its
// DHCPDECLINE (option 50) unbind; leases expire at their end.
//
// Both parts are allocation-free after construction and read only inside the buffers
// they are given: malformed messages (truncated, bad lengths, options that run past the
// end, no message type) are refused as such and bind nothing.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "offload/policy_eval.h"

namespace vfs::slowpath {

inline constexpr uint16_t kDhcpServerPort = 67;
inline constexpr uint16_t kDhcpClientPort = 68;
inline constexpr uint32_t kDhcpInfiniteLease = 0xffffffffu;
// Leases one vEthernet may hold (NX-OS limits bindings per interface too); an ACK past it
// is refused and counted (DhcpSnoopingCounters::table_full).
inline constexpr size_t kMaxDhcpBindingsPerPort = 16;

enum class DhcpType : uint8_t {
  none = 0,
  discover = 1,
  offer = 2,
  request = 3,
  decline = 4,
  ack = 5,
  nak = 6,
  release = 7,
  inform = 8,
};

using Ip4 = std::array<uint8_t, 4>;  // network order
using MacBytes = std::array<uint8_t, 6>;

// What snooping needs of one DHCPv4 message.
struct DhcpMessage {
  uint8_t op = 0;  // 1 BOOTREQUEST, 2 BOOTREPLY
  DhcpType type = DhcpType::none;
  Ip4 ciaddr{}, yiaddr{};
  MacBytes chaddr{};
  bool has_lease = false;
  uint32_t lease_s = 0;  // option 51
  bool has_requested_ip = false;
  Ip4 requested_ip{};  // option 50
};

enum class DhcpParse : uint8_t { ok, malformed };

// Decodes the UDP payload [p, p + len) of a BOOTP/DHCP message into *out.
DhcpParse parse_dhcp(const uint8_t* p, size_t len, DhcpMessage* out) noexcept;

// Finds the UDP payload of an IPv4 UDP frame from `from_port` to `to_port` whose IPv4
// header starts at l3_off (the frame's tags already skipped), bounded by the IP and UDP
// lengths. False when the frame is not that (or its lengths do not hold together; then
// *bad is set).
bool dhcp_payload(const uint8_t* frame, uint32_t len, uint32_t l3_off, uint16_t from_port,
                  uint16_t to_port, const uint8_t** payload, size_t* payload_len, bool* bad);

struct DhcpBinding {
  bool used = false;
  uint32_t veth = 0;  // the vEthernet the port was bound to when the lease was learned
  uint16_t vid = 0;
  MacBytes mac{};
  Ip4 ip{};
  uint32_t lease_s = 0;              // as granted; kDhcpInfiniteLease = never expires
  uint64_t expires_ns = UINT64_MAX;  // on the slow path's clock
};

// A fixed table of max_port x kMaxDhcpBindingsPerPort slots, one slice per ethdev port;
// one lease per (port, VLAN, MAC) — a later ACK for the client replaces its address.
// Single writer (the slow-path thread); lookups from the same thread.
class DhcpBindingTable final : public offload::LeaseLookup {
 public:
  explicit DhcpBindingTable(size_t max_port, size_t per_port = kMaxDhcpBindingsPerPort);

  enum class BindOutcome : uint8_t { added, refreshed, replaced, full, bad_port };
  // Binds (or renews) the client's lease; on `replaced`, *old holds the lease it ended.
  BindOutcome bind(uint16_t port, uint32_t veth, uint16_t vid, const MacBytes& mac, const Ip4& ip,
                   uint32_t lease_s, uint64_t now_ns, DhcpBinding* old);
  // Removes the client's lease (of address ip, or any when ip is null); true and *gone
  // when there was one.
  bool unbind(uint16_t port, uint16_t vid, const MacBytes& mac, const Ip4* ip, DhcpBinding* gone);
  // Calls f(port, binding) for each lease ended by now_ns, then frees it.
  template <class F>
  size_t expire(uint64_t now_ns, F&& f) {
    size_t n = 0;
    for (size_t i = 0; i < slots_.size(); ++i) {
      DhcpBinding& b = slots_[i];
      if (!b.used || b.expires_ns > now_ns) continue;
      f(static_cast<uint16_t>(i / per_port_), b);
      b.used = false;
      --size_;
      ++n;
    }
    return n;
  }
  // Frees every lease of port, calling f(port, binding) for each.
  template <class F>
  size_t clear_port(uint16_t port, F&& f) {
    if (port >= max_port_) return 0;
    size_t n = 0;
    for (size_t i = 0; i < per_port_; ++i) {
      DhcpBinding& b = slots_[port * per_port_ + i];
      if (!b.used) continue;
      f(port, b);
      b.used = false;
      --size_;
      ++n;
    }
    return n;
  }

  bool leased(uint16_t port, uint16_t vid, const uint8_t* mac, const uint8_t* ip4) const override;
  size_t size() const { return size_; }
  size_t on_port(uint16_t port) const;
  // True when every lease of port was learned for vEthernet veth.
  bool port_holds_only(uint16_t port, uint32_t veth) const;
  size_t per_port() const { return per_port_; }

 private:
  DhcpBinding* find(uint16_t port, uint16_t vid, const uint8_t* mac);
  size_t max_port_;
  size_t per_port_;
  std::vector<DhcpBinding> slots_;
  size_t size_ = 0;
};

// Slow path -> control plane, through an SPSC ring: what DHCP snooping learned or forgot.
struct DhcpBindingEvent {
  enum Kind : uint8_t { bound, unbound } kind = bound;
  enum Cause : uint8_t { ack, nak, release, decline, expired, port_cleared, replaced } cause = ack;
  uint32_t veth = 0;
  uint16_t port = 0;
  uint16_t vid = 0;
  MacBytes mac{};
  Ip4 ip{};
  bool any_ip = false;   // unbound: every address of the client (a NAK names none)
  uint32_t lease_s = 0;  // bound: the lease granted (kDhcpInfiniteLease = infinite)
};

const char* dhcp_event_cause_name(DhcpBindingEvent::Cause c);

// Written only by the slow-path thread; read by anyone (relaxed).
struct DhcpSnoopingCounters {
  std::atomic<uint64_t> server_messages{0};  // snooped from the uplink
  std::atomic<uint64_t> client_messages{0};  // snooped from vEthernets
  std::atomic<uint64_t> acks{0};
  std::atomic<uint64_t> naks{0};
  std::atomic<uint64_t> releases{0};
  std::atomic<uint64_t> declines{0};
  std::atomic<uint64_t> bound{0};
  std::atomic<uint64_t> unbound{0};
  std::atomic<uint64_t> expired{0};
  std::atomic<uint64_t> malformed{0};
  std::atomic<uint64_t> unknown_client{0};   // an ACK for a MAC on no snooping vEthernet
  std::atomic<uint64_t> chaddr_mismatch{0};  // a client message whose chaddr is not its source
  std::atomic<uint64_t> table_full{0};
  std::atomic<uint64_t> event_ring_full{0};
};

}  // namespace vfs::slowpath
