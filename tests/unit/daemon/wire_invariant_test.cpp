// Invariant test on the wires (issue 5): the whole switch as vfswitchd composes it — the
// sim eSwitch (veth wires, its datapath thread and rule table), the slow path, the
// offload worker, ESwitchDataplane — with the NIC refusing rules at random (injected
// failures, a small capacity), through random attach, detach, profile edits, SPAN
// sessions and MAC moves. After every step:
//  1. the offload engine's rule table equals the rules compiled from the snapshot the
//     daemon built and the MACs the model says the slow path has learned;
//  2. frames sent from every VM (and the uplink) — unicast to known and unknown MACs,
//     broadcast, multicast, ARP, IPv4 TCP/UDP/ICMP and IPv6 UDP/ICMPv6/ND for and against
//     the ACLs, spoofed sources and ND targets, DHCP(v6) server messages, tagged,
//     priority-tagged and double-tagged — appear, sniffed on every wire, only where the
//     policy sends them and as many times (SPAN copies too), byte for byte (VLAN tags as
//     the port wants); and everything the policy must deliver arrives (positive
//     controls).
// The model: offload/policy_eval.h on the daemon's snapshot, plus the slow path's
// forwarding state (FDB, port-security counts and err-disable) and the VF knobs
// (spoof check, link) the daemon sets. Each sender's frames go out in segments that end
// where the model moves a MAC or err-disables a port; the test waits for the switch to
// settle (positive controls, the slow path's learn count, the sim having read every
// frame, then a quiet period) before the next, so the order the switch saw them in is
// the order the model did.
//
// Root (veth pairs, AF_PACKET). Deterministic by seed: VFS_WIRE_SEED=N replays one.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/clock.h"
#include "base/log.h"
#include "drivers/eswitch.h"
#include "drivers/sim/sim_eswitch.h"
#include "offload/frame_layout.h"
#include "offload/offload_engine.h"
#include "offload/policy_eval.h"
#include "offload/rule_compiler.h"
#include "random_choices.h"
#include "slowpath/daemon/eswitch_dataplane.h"
#include "slowpath/daemon/policy_snapshot_builder.h"
#include "slowpath/daemon/vf_knobs.h"
#include "slowpath/eal.h"
#include "slowpath/slow_path.h"
#include "wire_sniffers.h"

using namespace vfs;
using offload::Mac;
using Steady = std::chrono::steady_clock;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr int kStepsPerRun = 10;
constexpr int kQuietMs = 40;
constexpr auto kSettle = std::chrono::seconds(20);  // a loaded CI machine under ASan
#else
constexpr int kStepsPerRun = 40;
constexpr int kQuietMs = 20;
constexpr auto kSettle = std::chrono::seconds(10);
#endif
constexpr int kRuns = 2;
constexpr int kVfs = 4;
const std::vector<uint16_t> kVlans{10, 20, 30};
const uint8_t kMagic[8] = {'v', 'f', 's', 'w', 'i', 'r', 'e', '!'};
const Mac kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const Mac kMulticast{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
const Mac kUnknown{0x02, 0x00, 0x00, 0x77, 0xff, 0xff};
using Ip4 = std::array<uint8_t, 4>;

Mac own_mac(int vf) { return {0x02, 0x00, 0x00, 0x77, 0x00, static_cast<uint8_t>(vf + 1)}; }
Ip4 vm_ip(int vf) { return {10, 9, 0, static_cast<uint8_t>(vf + 1)}; }
Mac host_mac(int k) { return {0x02, 0x00, 0x00, 0x77, 0xe0, static_cast<uint8_t>(k + 1)}; }
Ip4 host_ip(int k) { return {10, 9, 0, static_cast<uint8_t>(101 + k)}; }
const Ip4 kStrayIp{10, 9, 1, 7};
using Ip6 = std::array<uint8_t, 16>;
Ip6 ip6(uint8_t hi0, uint8_t hi1, uint8_t lo) {
  Ip6 a{};
  a[0] = hi0, a[1] = hi1, a[15] = lo;
  return a;
}
Ip6 vm_ip6(int vf) { return ip6(0x20, 0x01, static_cast<uint8_t>(vf + 1)); }  // 2001::N
Ip6 vm_ll6(int vf) { return ip6(0xfe, 0x80, static_cast<uint8_t>(vf + 1)); }  // fe80::N
Ip6 host_ip6(int k) { return ip6(0x20, 0x01, static_cast<uint8_t>(101 + k)); }
const Ip6 kStrayIp6 = ip6(0x20, 0x01, 0x99);

using test::Rng;

rte_mempool* dpdk_pool() {
  static const Result<void> eal = [] {
    slowpath::EalOptions opt;
    opt.file_prefix = "unit_daemon_" + std::to_string(::getpid());
    opt.memory_mb = 256;
    return slowpath::eal_init(opt);  // a no-op if another test of this binary started it
  }();
  REQUIRE_MESSAGE(eal.ok(), eal.error().message);
  auto pool = slowpath::packet_pool();
  REQUIRE_MESSAGE(pool.ok(), pool.error().message);
  return pool.value();
}

std::string sim_name_for(uint64_t seed, int run) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::mt19937_64 g(seed ^ (static_cast<uint64_t>(::getpid()) << 20) ^
                    static_cast<uint64_t>(Steady::now().time_since_epoch().count()));
  std::string s = "wi" + std::to_string(run);
  while (s.size() < 8) s += kChars[g() % (sizeof(kChars) - 1)];
  return s;
}

// --- frames ---------------------------------------------------------------------------

struct Tag {
  uint16_t tpid = 0x8100;
  uint16_t vid = 0;
};

enum class Kind { tcp, udp, icmp, arp, raw, dhcp_offer, udp6, icmp6, nd_ns, nd_na };

struct FrameParams {
  Mac dst{}, src{};
  std::vector<Tag> tags;
  Kind kind = Kind::raw;
  Ip4 sip{}, dip{};
  uint16_t sport = 0, dport = 0;
  uint8_t tcp_flags = 0x02;
  uint8_t icmp_type = 8;
  uint16_t arp_op = 1;
  Mac arp_sha{};
  Ip6 sip6{}, dip6{}, nd_target{};
};

class Bytes {
 public:
  void u8(uint8_t v) { b_.push_back(v); }
  void u16(uint16_t v) { u8(static_cast<uint8_t>(v >> 8)), u8(static_cast<uint8_t>(v)); }
  void u32(uint32_t v) { u16(static_cast<uint16_t>(v >> 16)), u16(static_cast<uint16_t>(v)); }
  template <size_t N>
  void put(const std::array<uint8_t, N>& a) {
    b_.insert(b_.end(), a.begin(), a.end());
  }
  void put(const uint8_t* p, size_t n) { b_.insert(b_.end(), p, p + n); }
  size_t size() const { return b_.size(); }
  std::vector<uint8_t>& bytes() { return b_; }

 private:
  std::vector<uint8_t> b_;
};

void put_marker(Bytes& b, uint32_t id) {
  b.put(kMagic, sizeof(kMagic));
  b.u32(id);
}

std::vector<uint8_t> build_frame(const FrameParams& f, uint32_t id) {
  Bytes b;
  b.put(f.dst);
  b.put(f.src);
  for (const Tag& t : f.tags) b.u16(t.tpid), b.u16(t.vid);
  switch (f.kind) {
    case Kind::raw:
      b.u16(0x88b5);
      put_marker(b, id);
      break;
    case Kind::arp:
      b.u16(0x0806);
      b.u16(1), b.u16(0x0800), b.u8(6), b.u8(4), b.u16(f.arp_op);
      b.put(f.arp_sha), b.put(f.sip);
      b.put(f.arp_op == 1 ? Mac{} : f.dst), b.put(f.dip);
      put_marker(b, id);
      break;
    case Kind::udp6:
    case Kind::icmp6:
    case Kind::nd_ns:
    case Kind::nd_na: {
      // No ICMPv6/UDP checksum: nothing on the path verifies it, and the hosts' stacks
      // are silenced on the wires.
      b.u16(0x86dd);
      const bool udp = f.kind == Kind::udp6;
      const bool nd = f.kind == Kind::nd_ns || f.kind == Kind::nd_na;
      const uint16_t l4_len = udp ? 8 : nd ? 24 : 8;
      b.u32(0x60000000), b.u16(static_cast<uint16_t>(l4_len + 12)), b.u8(udp ? 17 : 58),
          b.u8(nd ? 255 : 64);
      b.put(f.sip6), b.put(f.dip6);
      if (udp) {
        b.u16(f.sport), b.u16(f.dport), b.u16(static_cast<uint16_t>(8 + 12)), b.u16(0);
      } else if (nd) {
        b.u8(f.kind == Kind::nd_ns ? 135 : 136), b.u8(0), b.u16(0);
        b.u32(f.kind == Kind::nd_na ? 0x60000000 : 0);  // solicited, override
        b.put(f.nd_target);
      } else {
        b.u8(f.icmp_type), b.u8(0), b.u16(0), b.u16(0x77), b.u16(static_cast<uint16_t>(id));
      }
      put_marker(b, id);
      break;
    }
    default: {
      b.u16(0x0800);
      const size_t ip_off = b.size();
      const uint8_t proto = f.kind == Kind::tcp ? 6 : f.kind == Kind::icmp ? 1 : 17;
      const uint16_t l4_len = proto == 6 ? 20 : 8;
      const uint16_t total = static_cast<uint16_t>(20 + l4_len + 12 + 20);
      b.u8(0x45), b.u8(0), b.u16(total), b.u16(static_cast<uint16_t>(id)), b.u16(0x4000), b.u8(64),
          b.u8(proto), b.u16(0);
      b.put(f.sip), b.put(f.dip);
      uint32_t sum = 0;
      for (size_t i = 0; i < 20; i += 2)
        sum += static_cast<uint32_t>(b.bytes()[ip_off + i] << 8 | b.bytes()[ip_off + i + 1]);
      while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
      b.bytes()[ip_off + 10] = static_cast<uint8_t>(~sum >> 8);
      b.bytes()[ip_off + 11] = static_cast<uint8_t>(~sum);
      if (proto == 6) {
        b.u16(f.sport), b.u16(f.dport), b.u32(id), b.u32(f.tcp_flags & 0x10 ? 1 : 0);
        b.u8(0x50), b.u8(f.tcp_flags), b.u16(1024), b.u16(0), b.u16(0);
      } else if (proto == 17) {
        b.u16(f.sport), b.u16(f.dport), b.u16(static_cast<uint16_t>(8 + 12 + 20)), b.u16(0);
      } else {
        b.u8(f.icmp_type), b.u8(0), b.u16(0), b.u16(0x77), b.u16(static_cast<uint16_t>(id));
      }
      put_marker(b, id);
      break;
    }
  }
  while (b.size() < 72) b.u8(0);  // long enough to stay >= 60 bytes without its tags
  return std::move(b.bytes());
}

// The id of one of our frames, or -1.
int64_t frame_id(const std::vector<uint8_t>& f) {
  if (f.size() < sizeof(kMagic) + 4) return -1;
  auto it = std::search(f.begin(), f.end(), std::begin(kMagic), std::end(kMagic));
  if (it == f.end() || f.end() - it < static_cast<ptrdiff_t>(sizeof(kMagic) + 4)) return -1;
  it += sizeof(kMagic);
  return static_cast<int64_t>(uint32_t{it[0]} << 24 | uint32_t{it[1]} << 16 | uint32_t{it[2]} << 8 |
                              uint32_t{it[3]});
}

std::string hex(const std::vector<uint8_t>& f, size_t max = 80) {
  std::string s;
  for (size_t i = 0; i < f.size() && i < max; ++i) s += fmt::format("{:02x}", f[i]);
  if (f.size() > max) s += "...";
  return s;
}

std::string ip_str(const uint8_t* p) { return fmt::format("{}.{}.{}.{}", p[0], p[1], p[2], p[3]); }
std::string ip6_str(const uint8_t* p) {  // enough to tell this test's addresses apart
  return fmt::format("{:02x}{:02x}::{:02x}{:02x}", p[0], p[1], p[14], p[15]);
}

// One line a person can read: MACs, tags, and what the policy looks at.
std::string describe(const std::vector<uint8_t>& f) {
  const offload::FrameLayout l = offload::frame_layout(f.data(), static_cast<uint32_t>(f.size()));
  if (!l.eth) return "runt " + hex(f);
  Mac d, s;
  std::copy(f.begin(), f.begin() + 6, d.begin());
  std::copy(f.begin() + 6, f.begin() + 12, s.begin());
  std::string out = offload::mac_str(s) + " > " + offload::mac_str(d);
  for (size_t off = 12, i = 0; i < l.n_tags; ++i, off += 4)
    out +=
        fmt::format(" tag {:04x}/{}", offload::be16(&f[off]), offload::be16(&f[off + 2]) & 0xfff);
  out += fmt::format(" type {:04x}", l.ether_type);
  if (l.ip && !l.v6) {
    out += " " + ip_str(&f[l.l3_off + 12]) + " > " + ip_str(&f[l.l3_off + 16]);
    out += fmt::format(" proto {}", l.ip_proto);
    if (l.l4 && (l.ip_proto == 6 || l.ip_proto == 17))
      out += fmt::format(" ports {} > {}", offload::be16(&f[l.l4_off]),
                         offload::be16(&f[l.l4_off + 2]));
    if (l.l4 && l.ip_proto == 1) out += fmt::format(" icmp type {}", f[l.l4_off]);
  } else if (l.ip) {
    out += " " + ip6_str(&f[l.l3_off + 8]) + " > " + ip6_str(&f[l.l3_off + 24]);
    out += fmt::format(" next header {}", l.ip_proto);
    if (l.l4 && l.ip_proto == 17)
      out += fmt::format(" ports {} > {}", offload::be16(&f[l.l4_off]),
                         offload::be16(&f[l.l4_off + 2]));
    if (l.l4 && l.ip_proto == 58) {
      out += fmt::format(" icmp6 type {}", f[l.l4_off]);
      if ((f[l.l4_off] == 135 || f[l.l4_off] == 136) && f.size() >= l.l4_off + 24u)
        out += " target " + ip6_str(&f[l.l4_off + 8]);
    }
  } else if (l.ether_type == offload::kEtherArp && f.size() >= l.l3_off + 28u) {
    out += fmt::format(" arp op {} sender {} {} target {}", offload::be16(&f[l.l3_off + 6]),
                       ip_str(&f[l.l3_off + 14]),
                       hex({f.begin() + l.l3_off + 8, f.begin() + l.l3_off + 14}),
                       ip_str(&f[l.l3_off + 24]));
  }
  const int64_t id = frame_id(f);
  if (id >= 0) out += fmt::format(" id {}", id);
  return out;
}

// What the sim reads: the kernel takes an outer tag off for AF_PACKET and net_af_packet
// puts it back as 0x8100 (docs/sim.md, "VLAN quirks"), so an 802.1ad outer tag from a VM
// reaches the switch as 802.1Q.
std::vector<uint8_t> as_the_sim_sees(std::vector<uint8_t> f) {
  if (f.size() >= 16 && f[12] == 0x88 && f[13] == 0xa8) f[12] = 0x81, f[13] = 0x00;
  return f;
}

// The frame as it leaves on a port: tagged with vid or not.
std::vector<uint8_t> egress_bytes(std::vector<uint8_t> f, bool tagged, bool want_tag,
                                  uint16_t vid) {
  if (want_tag && !tagged) {
    const uint8_t tag[4] = {0x81, 0x00, static_cast<uint8_t>(vid >> 8), static_cast<uint8_t>(vid)};
    f.insert(f.begin() + 12, tag, tag + 4);
  } else if (want_tag) {
    f[14] = static_cast<uint8_t>((f[14] & 0xf0) | (vid >> 8));
    f[15] = static_cast<uint8_t>(vid);
  } else if (tagged) {
    f.erase(f.begin() + 12, f.begin() + 16);
  }
  return f;
}

// --- the switch, as vfswitchd composes it ---------------------------------------------

struct Switch {
  std::unique_ptr<drivers::ESwitch> esw;
  MonotonicClock clock;
  offload::PolicyChannel policy;
  std::unique_ptr<offload::OffloadEngine> engine;
  std::unique_ptr<slowpath::SlowPath> slow;
  std::unique_ptr<daemon::ESwitchDataplane> dp;

  ~Switch() {  // vfswitchd's order: API side, slow path, offload worker, eSwitch
    dp.reset();
    if (slow) slow->stop();
    if (engine) engine->stop();
    if (esw) esw->stop();
    slow.reset();
    engine.reset();
    esw.reset();
  }
};

// --- the model ------------------------------------------------------------------------

struct Sent {
  uint32_t id = 0;
  uint16_t from = 0;
  std::vector<uint8_t> bytes;
  std::string verdict;  // the model's words
  // port -> the frames it must receive (more than one with SPAN: a copy and the frame)
  std::map<uint16_t, std::vector<std::vector<uint8_t>>> must;
  std::map<uint16_t, std::vector<std::vector<uint8_t>>> left;  // must, less what arrived
  std::map<uint16_t, int> seen;                                // port -> copies received
  size_t span_copies = 0;                                      // of must
  size_t must_count() const {
    size_t n = 0;
    for (const auto& [port, v] : must) n += v.size();
    return n;
  }
  bool arrived() const {
    return std::all_of(left.begin(), left.end(), [](const auto& e) { return e.second.empty(); });
  }
  std::string step;
};

using FdbKey = std::pair<uint16_t, Mac>;

struct Model {
  vsm::DataplaneConfig cfg;
  offload::PolicySnapshot snap;
  std::map<FdbKey, uint16_t> fdb;  // what the slow path has learned: (vid, MAC) -> port
  std::set<uint16_t> errdisabled;
  uint64_t learn_events = 0;  // learned + moved, as the slow path counts them
  std::array<Mac, kVfs> vm_mac{};
  uint32_t fresh = 0;

  struct Forwarding {
    std::map<FdbKey, uint16_t> fdb;
    std::set<uint16_t> errdisabled;
    uint64_t learn_events = 0;
  };
  Forwarding forwarding() const { return {fdb, errdisabled, learn_events}; }
  void set_forwarding(Forwarding f) {
    fdb = std::move(f.fdb);
    errdisabled = std::move(f.errdisabled);
    learn_events = f.learn_events;
  }

  Mac fresh_mac() {
    ++fresh;
    return {0x02,
            0x00,
            0x00,
            0x77,
            static_cast<uint8_t>(0x10 + (fresh >> 8)),
            static_cast<uint8_t>(fresh)};
  }
  const vsm::ResolvedVeth* veth_of_vf(int vf) const {
    for (const auto& v : cfg.veths)
      if (v.vf == vf) return &v;
    return nullptr;
  }
  size_t macs_on(uint16_t port) const {
    return static_cast<size_t>(
        std::count_if(fdb.begin(), fdb.end(), [&](const auto& e) { return e.second == port; }));
  }
  // The slow path on a new policy (slowpath/slow_path.cpp refresh_policy).
  void refresh() {
    for (auto it = fdb.begin(); it != fdb.end();)
      it = offload::admits(snap, it->second, it->first.first) ? std::next(it) : fdb.erase(it);
    for (auto it = errdisabled.begin(); it != errdisabled.end();) {
      const offload::PortPolicy* pp = snap.port(*it);
      const bool keep = pp && pp->bound && pp->forwarding && pp->cfg.port_security.enabled;
      it = keep ? std::next(it) : errdisabled.erase(it);
    }
  }
};

struct Ports {
  uint16_t uplink = 0;
  std::vector<uint16_t> all;      // uplink first, then VFs
  std::map<uint16_t, int> vf_of;  // ethdev port -> VF index
  std::map<uint16_t, std::string> wire;
  std::string name(uint16_t p) const {
    auto it = vf_of.find(p);
    return it == vf_of.end() ? "uplink" : fmt::format("VF {}", it->second);
  }
};

struct Prediction {
  // The frame changes the forwarding state (a MAC learned or moved, a port err-disabled):
  // the switch must have handled every frame before it, and it, before the next.
  bool segment_ends = false;
};

// What the switch must do with frame `f` from port `from`, updating the model's
// forwarding state the way the slow path does. Fills s.must and s.verdict.
Prediction predict(Model& m, const Ports& ports, bool has_meters, uint16_t from, Sent& s) {
  Prediction pr;
  const std::vector<uint8_t> f = as_the_sim_sees(s.bytes);
  const uint8_t* p = f.data();
  const auto len = static_cast<uint32_t>(f.size());
  Mac src, dst;
  std::copy(p + 6, p + 12, src.begin());
  std::copy(p, p + 6, dst.begin());
  if (auto vf = ports.vf_of.find(from); vf != ports.vf_of.end()) {
    // The VF knobs the daemon set (slowpath/daemon/vf_knobs.h), enforced before the eSwitch.
    if (const vsm::ResolvedVeth* v = m.veth_of_vf(vf->second)) {
      const daemon::VfKnobSettings k = daemon::vf_knobs_for(*v, has_meters);
      if (k.link == drivers::VfLinkState::disable) {
        s.verdict = "dropped: VF link down";
        return pr;
      }
      if (k.spoofchk && k.mac && *k.mac != src) {
        s.verdict = "dropped: VF spoof check";
        return pr;
      }
    }
  }
  const offload::FrameLayout l = offload::frame_layout(p, len);
  const offload::IngressVerdict in = offload::evaluate_ingress(m.snap, from, l, p, len);
  const bool admitted = in.admit || in.reason == offload::DropReason::acl;
  if (admitted && m.errdisabled.count(from)) {
    s.verdict = "dropped: err-disabled";
    return pr;
  }
  if (admitted && !(src[0] & 1)) {
    const offload::PortPolicy* pp = m.snap.port(from);
    const auto here = m.fdb.find({in.vid, src});
    if (pp && pp->kind == offload::PortKind::vf && pp->cfg.port_security.enabled &&
        !(here != m.fdb.end() && here->second == from)) {
      const auto& ps = pp->cfg.port_security;
      const bool is_static =
          std::find(ps.static_macs.begin(), ps.static_macs.end(), src) != ps.static_macs.end();
      if (!is_static && m.macs_on(from) >= ps.maximum) {
        s.verdict = "dropped: port-security violation";
        if (ps.violation == vsm::ViolationMode::shutdown) {
          m.errdisabled.insert(from);
          for (auto it = m.fdb.begin(); it != m.fdb.end();)
            it = it->second == from ? m.fdb.erase(it) : std::next(it);
          s.verdict += " (err-disabled)";
          pr.segment_ends = true;
        }
        return pr;
      }
    }
    if (here == m.fdb.end()) {
      m.fdb[{in.vid, src}] = from;
      ++m.learn_events;
      pr.segment_ends = true;
    } else if (here->second != from) {
      here->second = from;
      ++m.learn_events;
      pr.segment_ends = true;
    }
  }
  if (!in.admit) {
    s.verdict = std::string("dropped on ingress: ") + offload::drop_reason_name(in.reason);
    return pr;
  }
  // A SPAN copy reaches its destination's wire unless that VF's link is down.
  auto copy_to = [&](const std::vector<uint16_t>& dests, const std::vector<uint8_t>& bytes,
                     const char* what) {
    for (uint16_t d : dests) {
      if (auto vf = ports.vf_of.find(d); vf != ports.vf_of.end())
        if (const vsm::ResolvedVeth* v = m.veth_of_vf(vf->second);
            !v || daemon::vf_knobs_for(*v, has_meters).link == drivers::VfLinkState::disable)
          continue;
      s.must[d].push_back(bytes);
      ++s.span_copies;
      s.verdict += fmt::format(", {} copy to {}", what, ports.name(d));
    }
  };
  // Every copy leaves as the port sends the frame; rx copies as it came in (policy.h).
  auto deliver = [&](uint16_t out) {
    const offload::EgressVerdict eg = offload::evaluate_egress(m.snap, out, in.vid, l, p, len);
    if (!eg.deliver) return;
    const std::vector<uint8_t> bytes = egress_bytes(f, in.tagged, !eg.untag, in.vid);
    s.must[out].push_back(bytes);
    copy_to(m.snap.ports[out].mirror_tx, bytes, "tx");
  };
  const auto known = (dst[0] & 1) ? m.fdb.end() : m.fdb.find({in.vid, dst});
  if (known == m.fdb.end()) {
    s.verdict = fmt::format("flooded in VLAN {}", in.vid);
    copy_to(m.snap.ports[from].mirror_rx, f, "rx");
    for (uint16_t out : ports.all)
      if (out != from && offload::admits(m.snap, out, in.vid)) deliver(out);
  } else if (known->second == from) {
    s.verdict = "dropped: destination on the same port";
  } else {
    s.verdict = fmt::format("to {} in VLAN {}", ports.name(known->second), in.vid);
    copy_to(m.snap.ports[from].mirror_rx, f, "rx");
    deliver(known->second);
  }
  s.left = s.must;
  return pr;
}

// --- random configuration ---------------------------------------------------------------

// Ends the ACL, with probability p, in an entry 100 permitting everything.
void maybe_permit_any(Rng& r, double p, vsm::ResolvedAcl& acl) {
  if (!r.chance(p)) return;
  vsm::ResolvedAce any;
  any.seq = 100;
  any.permit = true;
  acl.entries.push_back(any);
}

vsm::AddressMatch host(const Ip4& ip) {
  vsm::AddressMatch a;
  std::copy(ip.begin(), ip.end(), a.addr.begin());
  std::fill(a.mask.begin(), a.mask.begin() + 4, 0xff);
  return a;
}

vsm::AddressMatch random_address(Rng& r) {
  switch (r.below(4)) {
    case 0:
      return {};
    case 1: {
      vsm::AddressMatch a = host({10, 9, 0, 0});
      a.mask[3] = 0;
      return a;
    }
    default:
      return host(
          r.pick(std::vector<Ip4>{vm_ip(0), vm_ip(1), vm_ip(2), vm_ip(3), host_ip(0), kStrayIp}));
  }
}

vsm::ResolvedAcl random_ip_acl(Rng& r, const std::string& name) {
  vsm::ResolvedAcl acl;
  acl.name = name;
  acl.family = vsm::AclFamily::ipv4;
  const size_t n = 1 + r.below(4);
  for (size_t i = 0; i < n; ++i) {
    vsm::ResolvedAce e;
    e.seq = static_cast<uint32_t>(10 * (i + 1));
    e.permit = r.chance(0.5);
    e.protocol = r.pick(std::vector<int>{-1, 6, 17, 1});
    e.src = random_address(r);
    e.dst = random_address(r);
    if ((e.protocol == 6 || e.protocol == 17) && r.chance(0.7)) {
      if (r.chance(0.7)) {
        e.dst_port.op = vsm::PortMatch::Op::eq;
        e.dst_port.lo = r.pick(std::vector<uint16_t>{80, 443, 53, 5000});
      } else {
        e.dst_port.op = vsm::PortMatch::Op::range;
        e.dst_port.lo = 1000;
        e.dst_port.hi = 2000;
      }
    }
    if (e.protocol == 1 && r.chance(0.5)) e.icmp_type = 8;
    acl.entries.push_back(e);
  }
  maybe_permit_any(r, 0.6, acl);  // most ACLs end in a permit, so that traffic flows
  return acl;
}

vsm::AddressMatch host6(const Ip6& ip) {
  vsm::AddressMatch a;
  a.addr = ip;
  a.mask.fill(0xff);
  return a;
}

vsm::ResolvedAcl random_ip6_acl(Rng& r, const std::string& name) {
  vsm::ResolvedAcl acl;
  acl.name = name;
  acl.family = vsm::AclFamily::ipv6;
  for (size_t i = 0, n = 1 + r.below(3); i < n; ++i) {
    vsm::ResolvedAce e;
    e.seq = static_cast<uint32_t>(10 * (i + 1));
    e.permit = r.chance(0.5);
    e.protocol = r.pick(std::vector<int>{-1, 17, 58});
    auto addr = [&]() -> vsm::AddressMatch {
      switch (r.below(4)) {
        case 0:
          return {};
        case 1: {  // 2001::/64
          vsm::AddressMatch a = host6(ip6(0x20, 0x01, 0));
          std::fill(a.mask.begin() + 8, a.mask.end(), 0);
          return a;
        }
        default:
          return host6(r.pick(std::vector<Ip6>{vm_ip6(0), vm_ip6(1), vm_ip6(2), vm_ip6(3),
                                               host_ip6(0), vm_ll6(1)}));
      }
    };
    e.src = addr();
    e.dst = addr();
    if (e.protocol == 17 && r.chance(0.6)) {
      e.dst_port.op = vsm::PortMatch::Op::eq;
      e.dst_port.lo = r.pick(std::vector<uint16_t>{53, 5000});
    }
    if (e.protocol == 58 && r.chance(0.5)) e.icmp_type = r.pick(std::vector<int>{128, 135, 136});
    acl.entries.push_back(e);
  }
  maybe_permit_any(r, 0.6, acl);
  return acl;
}

vsm::ResolvedAcl random_mac_acl(Rng& r, const std::string& name) {
  vsm::ResolvedAcl acl;
  acl.name = name;
  acl.family = vsm::AclFamily::mac;
  const Mac all{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  for (size_t i = 0, n = 1 + r.below(2); i < n; ++i) {
    vsm::ResolvedAce e;
    e.seq = static_cast<uint32_t>(10 * (i + 1));
    e.permit = r.chance(0.3);
    switch (r.below(3)) {
      case 0:
        e.src_mac = own_mac(static_cast<int>(r.below(kVfs)));
        e.src_mac_mask = all;
        break;
      case 1:
        e.dst_mac = own_mac(static_cast<int>(r.below(kVfs)));
        e.dst_mac_mask = all;
        break;
      default:
        e.ethertype = r.pick(std::vector<int>{0x88b5, 0x0806, 0x0800});
        break;
    }
    acl.entries.push_back(e);
  }
  maybe_permit_any(r, 0.8, acl);
  return acl;
}

void random_port_security(Rng& r, vsm::ResolvedVeth& v, int vf) {
  v.port_security = {};
  v.port_security.enabled = true;
  v.port_security.maximum = static_cast<uint32_t>(1 + r.below(2));
  v.port_security.violation = static_cast<vsm::ViolationMode>(r.below(3));
  if (r.chance(0.3)) v.port_security.static_macs.push_back(own_mac(vf));
}

void random_source_guard(Rng& r, vsm::ResolvedVeth& v, int vf) {
  v.ip_verify_source = true;
  v.source_bindings.clear();
  vsm::SourceBinding b;
  const Ip4 ip = vm_ip(vf);
  std::copy(ip.begin(), ip.end(), b.ip.begin());
  b.mac = own_mac(vf);
  b.vlan = v.access_vlan;
  v.source_bindings.push_back(b);
  if (r.chance(0.3)) {
    std::copy(kStrayIp.begin(), kStrayIp.end(), b.ip.begin());
    v.source_bindings.push_back(b);
  }
  if (r.chance(0.7)) {
    b.ip = vm_ip6(vf);
    b.v6 = true;
    v.source_bindings.push_back(b);
  }
}

void random_vlan(Rng& r, vsm::ResolvedVeth& v) {
  v.trunk_allowed.clear();
  v.native_vlan.reset();
  v.mode = r.chance(0.25) ? vsm::SwitchportMode::trunk : vsm::SwitchportMode::access;
  v.access_vlan = r.pick(std::vector<uint16_t>{10, 10, 20, 30});
  if (v.mode == vsm::SwitchportMode::trunk) {
    v.trunk_allowed =
        r.chance(0.5) ? std::vector<uint16_t>{10, 20} : std::vector<uint16_t>{10, 20, 30};
    if (r.chance(0.5)) v.native_vlan = r.pick(std::vector<uint16_t>{10, 30});
    v.ip_verify_source = false;  // an access-port feature
    v.source_bindings.clear();
  } else if (v.ip_verify_source) {
    for (auto& b : v.source_bindings) b.vlan = v.access_vlan;
  }
}

vsm::ResolvedVeth random_veth(Rng& r, int vf, int& acl_counter) {
  vsm::ResolvedVeth v;
  v.number = static_cast<uint32_t>(10 + vf);
  v.vf = vf;
  v.vm = fmt::format("vm{}", vf);
  v.mac = r.chance(0.5) ? offload::mac_str(own_mac(vf)) : "";
  v.profile = fmt::format("p{}", acl_counter);
  v.forwarding = !r.chance(0.08);
  v.reason = v.forwarding ? "" : "shutdown";
  random_vlan(r, v);
  auto name = [&] { return fmt::format("a{}", acl_counter++); };
  if (r.chance(0.5)) v.ip_acl_in = random_ip_acl(r, name());
  if (r.chance(0.4)) v.ip_acl_out = random_ip_acl(r, name());
  if (r.chance(0.25)) v.mac_acl_in = random_mac_acl(r, name());
  if (r.chance(0.2)) v.mac_acl_out = random_mac_acl(r, name());
  if (r.chance(0.3)) v.ipv6_acl_in = random_ip6_acl(r, name());
  if (r.chance(0.25)) v.ipv6_acl_out = random_ip6_acl(r, name());
  if (r.chance(0.35)) random_port_security(r, v, vf);
  if (v.mode == vsm::SwitchportMode::access && r.chance(0.35)) random_source_guard(r, v, vf);
  return v;
}

// Edits one setting of a profile; returns what changed.
std::string random_edit(Rng& r, vsm::ResolvedVeth& v, int& acl_counter) {
  auto name = [&] { return fmt::format("a{}", acl_counter++); };
  enum Family { ip, mac, ip6 };
  auto toggle_acl = [&](std::optional<vsm::ResolvedAcl>& slot, Family fam, const char* what) {
    if (slot && r.chance(0.4)) {
      slot.reset();
      return fmt::format("no {}", what);
    }
    slot = fam == mac   ? random_mac_acl(r, name())
           : fam == ip6 ? random_ip6_acl(r, name())
                        : random_ip_acl(r, name());
    return fmt::format("{} {}", what, slot->name);
  };
  switch (r.below(9)) {
    case 0:
      return toggle_acl(v.ip_acl_in, ip, "ip access-group in");
    case 1:
      return toggle_acl(v.ip_acl_out, ip, "ip access-group out");
    case 2:
      return toggle_acl(r.chance(0.5) ? v.mac_acl_in : v.mac_acl_out, mac, "mac access-group");
    case 8:
      return r.chance(0.5) ? toggle_acl(v.ipv6_acl_in, ip6, "ipv6 traffic-filter in")
                           : toggle_acl(v.ipv6_acl_out, ip6, "ipv6 traffic-filter out");
    case 3:
      random_vlan(r, v);
      return fmt::format("switchport {} vlan {}",
                         v.mode == vsm::SwitchportMode::trunk ? "trunk" : "access", v.access_vlan);
    case 4:
      if (v.port_security.enabled) {
        v.port_security = {};
        return "no port-security";
      }
      random_port_security(r, v, v.vf);
      return fmt::format("port-security maximum {} violation {}", v.port_security.maximum,
                         static_cast<int>(v.port_security.violation));
    case 5:
      if (v.ip_verify_source || v.mode == vsm::SwitchportMode::trunk) {
        v.ip_verify_source = false;
        v.source_bindings.clear();
        return "no ip verify source";
      }
      random_source_guard(r, v, v.vf);
      return "ip verify source";
    case 6:
      v.forwarding = !v.forwarding;
      v.reason = v.forwarding ? "" : "shutdown";
      return v.forwarding ? "no shutdown" : "shutdown";
    default: {  // one entry of an ACL changes
      std::optional<vsm::ResolvedAcl>* acl = v.ip_acl_in    ? &v.ip_acl_in
                                             : v.ip_acl_out ? &v.ip_acl_out
                                                            : nullptr;
      if (!acl) return toggle_acl(v.ip_acl_in, ip, "ip access-group in");
      vsm::ResolvedAcl edited = **acl;
      edited.name = name();  // an edited ACL is another policy object
      auto& e = edited.entries[r.below(edited.entries.size())];
      e.permit = !e.permit;
      *acl = edited;
      return fmt::format("ACL entry {} now {}", e.seq, e.permit ? "permit" : "deny");
    }
  }
}

// Local SPAN: one session from some of the bound vEthernets to another, or none.
std::string random_span(Rng& r, vsm::DataplaneConfig& cfg) {
  std::vector<uint32_t> bound;
  for (const auto& v : cfg.veths) bound.push_back(v.number);
  if (bound.size() < 2 || (!cfg.monitor_sessions.empty() && r.chance(0.3))) {
    cfg.monitor_sessions.clear();
    return "no monitor session 1";
  }
  vsm::ResolvedMonitorSession ms;
  ms.id = 1;
  ms.destination = r.pick(bound);
  for (uint32_t n : bound) {
    if (n == *ms.destination) continue;
    if (r.chance(0.5)) ms.rx_sources.push_back(n);
    if (r.chance(0.5)) ms.tx_sources.push_back(n);
  }
  ms.shut = r.chance(0.1);
  cfg.monitor_sessions = {ms};
  return fmt::format("monitor session 1{}: rx {} tx {} -> vEthernet{}", ms.shut ? " (shut)" : "",
                     fmt::join(ms.rx_sources, ","), fmt::join(ms.tx_sources, ","), *ms.destination);
}

// --- traffic --------------------------------------------------------------------------

// A batch from one sender: mostly what its configuration expects, with oddities.
std::vector<FrameParams> random_batch(Rng& r, const Model& m, const Ports& ports, uint16_t from) {
  const bool uplink = from == ports.uplink;
  const int vf = uplink ? -1 : ports.vf_of.at(from);
  const vsm::ResolvedVeth* v = uplink ? nullptr : m.veth_of_vf(vf);
  std::vector<Mac> dsts{kBroadcast, kMulticast, kUnknown, host_mac(0), host_mac(1)};
  for (int i = 0; i < kVfs; ++i)
    if (i != vf)
      dsts.push_back(m.vm_mac[static_cast<size_t>(i)]),
          dsts.push_back(m.vm_mac[static_cast<size_t>(i)]);
  std::vector<Ip4> ips{vm_ip(0), vm_ip(1), vm_ip(2), vm_ip(3), host_ip(0), host_ip(1)};
  auto native_tags = [&](FrameParams& f) {
    if (uplink) {
      f.tags = {{0x8100, r.pick(kVlans)}};
    } else if (v && v->mode == vsm::SwitchportMode::trunk) {
      const bool untagged = v->native_vlan && r.chance(0.4);
      if (!untagged) f.tags = {{0x8100, r.pick(v->trunk_allowed)}};
    }
  };
  std::vector<FrameParams> out;
  const size_t n = 10 + r.below(4);
  for (size_t i = 0; i < n; ++i) {
    FrameParams f;
    f.dst = r.pick(dsts);
    f.src = uplink ? host_mac(static_cast<int>(r.below(2))) : m.vm_mac[static_cast<size_t>(vf)];
    f.sip = uplink ? host_ip(static_cast<int>(r.below(2))) : vm_ip(vf);
    if (r.chance(0.1)) f.src = r.chance(0.5) ? m.vm_mac[r.below(kVfs)] : kUnknown;  // spoofed MAC
    if (r.chance(0.1))
      f.sip = r.pick(std::vector<Ip4>{kStrayIp, vm_ip(static_cast<int>(r.below(kVfs)))});
    f.dip = r.pick(ips);
    f.sip6 = uplink          ? host_ip6(static_cast<int>(r.below(2)))
             : r.chance(0.2) ? vm_ll6(vf)
                             : vm_ip6(vf);
    if (r.chance(0.1))
      f.sip6 = r.pick(std::vector<Ip6>{kStrayIp6, vm_ip6(static_cast<int>(r.below(kVfs)))});
    f.dip6 = r.pick(std::vector<Ip6>{vm_ip6(0), vm_ip6(1), vm_ip6(2), vm_ip6(3), host_ip6(0),
                                     vm_ll6(static_cast<int>(r.below(kVfs)))});
    native_tags(f);
    if (r.chance(0.2)) {  // VLAN oddities
      switch (r.below(5)) {
        case 0:
          f.tags = {{0x8100, 0}};  // priority tag
          break;
        case 1:
          f.tags = {{0x8100, r.pick(kVlans)}};
          break;
        case 2:
          f.tags = {{0x88a8, r.pick(kVlans)}, {0x8100, r.pick(kVlans)}};
          break;
        case 3:
          f.tags = {{0x8100, r.pick(kVlans)}, {0x8100, r.pick(kVlans)}};
          break;
        default:
          f.tags.clear();
          break;
      }
    }
    switch (r.below(uplink ? 8 : 9)) {
      case 0:
        f.kind = Kind::tcp;
        f.sport = static_cast<uint16_t>(30000 + r.below(1000));
        f.dport = r.pick(std::vector<uint16_t>{80, 443, 22, 1500});
        f.tcp_flags = r.chance(0.5) ? 0x02 : 0x10;
        break;
      case 1:
        f.kind = Kind::udp;
        f.sport = static_cast<uint16_t>(30000 + r.below(1000));
        f.dport = r.pick(std::vector<uint16_t>{53, 5000, 1200});
        break;
      case 2:
        f.kind = Kind::icmp;
        f.icmp_type = r.chance(0.7) ? 8 : 0;
        break;
      case 3:
        f.kind = Kind::arp;
        f.arp_op = r.chance(0.7) ? 1 : 2;
        if (f.arp_op == 1) f.dst = kBroadcast;
        f.arp_sha = r.chance(0.85) ? f.src : m.vm_mac[r.below(kVfs)];
        break;
      case 4:
        f.kind = Kind::raw;
        break;
      case 5:
        f.kind = Kind::udp6;
        f.sport = static_cast<uint16_t>(30000 + r.below(1000));
        f.dport = r.pick(std::vector<uint16_t>{53, 5000, 547});
        if (!uplink && r.chance(0.15)) f.sport = 547, f.dport = 546;  // a DHCPv6 server reply
        break;
      case 6:
        f.kind = Kind::icmp6;
        f.icmp_type = r.chance(0.7) ? 128 : 129;
        break;
      case 7:  // neighbor discovery: a solicitation, or an advertisement of some target
        f.kind = r.chance(0.4) ? Kind::nd_ns : Kind::nd_na;
        f.nd_target =
            r.chance(0.7)
                ? f.sip6
                : r.pick(std::vector<Ip6>{kStrayIp6, vm_ip6(0), vm_ip6(1), vm_ll6(2), Ip6{}});
        if (f.kind == Kind::nd_ns) f.dst = {0x33, 0x33, 0xff, 0x00, 0x00, f.nd_target[15]};
        break;
      default:  // a DHCP server message from a VM
        f.kind = Kind::dhcp_offer;
        f.dst = kBroadcast;
        f.sport = 67;
        f.dport = 68;
        f.dip = {255, 255, 255, 255};
        break;
    }
    out.push_back(f);
  }
  // Last, a positive control: a broadcast from the sender's own address.
  FrameParams c;
  c.dst = kBroadcast;
  c.src = uplink ? host_mac(0) : m.vm_mac[static_cast<size_t>(vf)];
  native_tags(c);
  c.kind = Kind::raw;
  out.push_back(c);
  return out;
}

// --- the test's bookkeeping -------------------------------------------------------------

class WireCheck {
 public:
  WireCheck(Switch& sw, Model& m, Ports& ports,
            std::vector<std::unique_ptr<test::WireSniffer>>& sniffers,
            std::map<uint16_t, test::WireSniffer*>& sniffer_of)
      : sw_(sw), m_(m), ports_(ports), sniffers_(sniffers), sniffer_of_(sniffer_of) {
    for (auto& s : sniffers_) all_.push_back(s.get());
  }

  uint32_t next_id() { return next_id_++; }
  size_t violations() const { return violations_; }
  size_t must_total = 0, must_seen = 0, checked = 0, foreign = 0, sent_total = 0, span_total = 0;
  std::string step;

  // The rule table, vfsw-dump style.
  std::string rule_dump() const {
    std::string out;
    for (const auto& e : sw_.engine->rules())
      out += fmt::format("  {:<7} veth {:<3} group {:<3} prio {:<3} {} -> {}{}\n",
                         offload::rule_state_name(e.state), e.veth, e.spec.group, e.spec.priority,
                         offload::match_text(e.spec), offload::actions_text(e.spec),
                         e.reason.empty() ? "" : "  (" + e.reason + ")");
    return out;
  }

  std::string model_dump() const {
    std::string out = "  FDB:";
    for (const auto& [k, port] : m_.fdb)
      out += fmt::format(" {}/{}@{}", offload::mac_str(k.second), k.first, ports_.name(port));
    out += "\n  err-disabled:";
    for (uint16_t p : m_.errdisabled) out += " " + ports_.name(p);
    return out + "\n";
  }

  // The frames of a segment in the order sent, with the model's verdicts.
  std::string segment_dump(const std::vector<uint32_t>& segment) const {
    std::string out;
    for (uint32_t id : segment) {
      const Sent& s = sent_.at(id);
      std::string seen;
      for (const auto& [port, n] : s.seen) seen += " " + ports_.name(port);
      out += fmt::format("  {}  [model: {}] [seen:{}]\n", describe(s.bytes), s.verdict, seen);
    }
    return out;
  }

  // Check 1: the rule table is what the snapshot and the learned MACs compile to.
  void check_rules(const std::string& when) {
    sw_.engine->drain();
    std::vector<offload::CompiledRule> rules;
    for (uint16_t p = 0; p < m_.snap.ports.size(); ++p)
      offload::compile_port_rules(m_.snap, p, rules);
    for (const auto& [k, port] : m_.fdb)
      offload::compile_learned_mac(m_.snap, {k.first, k.second, port}, rules);
    std::vector<offload::RuleSpec> want;
    for (auto& r : rules) want.push_back(r.spec);
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    std::vector<offload::RuleSpec> have;
    for (const auto& e : sw_.engine->rules()) {
      have.push_back(e.spec);
      not_in_hw_ += e.state != offload::RuleState::hw;
    }
    std::sort(have.begin(), have.end());
    if (have == want) return;
    std::string diff;
    std::vector<offload::RuleSpec> missing, extra;
    std::set_difference(want.begin(), want.end(), have.begin(), have.end(),
                        std::back_inserter(missing));
    std::set_difference(have.begin(), have.end(), want.begin(), want.end(),
                        std::back_inserter(extra));
    for (const auto& s : missing)
      diff += "  missing: " + offload::match_text(s) + " -> " + offload::actions_text(s) + "\n";
    for (const auto& s : extra)
      diff += "  extra:   " + offload::match_text(s) + " -> " + offload::actions_text(s) + "\n";
    FAIL_CHECK(step, ", ", when, ": the rule table differs from the compiled desired state\n", diff,
               "model:\n", model_dump(), "rule table:\n", rule_dump());
    ++violations_;
  }
  uint64_t not_in_hw() const { return not_in_hw_; }

  // Sends one sender's batch in segments and checks what appeared on every wire.
  void run_sender(Rng& r, uint16_t from, bool has_meters) {
    std::vector<FrameParams> batch = random_batch(r, m_, ports_, from);
    std::vector<uint32_t> segment;
    for (size_t i = 0; i < batch.size(); ++i) {
      Sent s;
      s.id = next_id();
      s.from = from;
      s.bytes = build_frame(batch[i], s.id);
      s.step = step;
      Model::Forwarding before = m_.forwarding();
      const Prediction pr = predict(m_, ports_, has_meters, from, s);
      if (pr.segment_ends && !segment.empty()) {
        // A frame that changes the forwarding state goes alone: the switch may handle the
        // frames of a segment in another order than sent (a rule's output and a miss
        // reach the slow path by different queues).
        Model::Forwarding after = m_.forwarding();
        m_.set_forwarding(std::move(before));
        settle(segment);
        segment.clear();
        m_.set_forwarding(std::move(after));
      }
      REQUIRE_MESSAGE(sniffer_of_.at(from)->send(s.bytes), "cannot send on ",
                      sniffer_of_.at(from)->dev());
      ++sent_total;
      must_total += s.must_count();
      span_total += s.span_copies;
      segment.push_back(s.id);
      sent_.emplace(s.id, std::move(s));
      if (pr.segment_ends || i + 1 == batch.size()) {
        settle(segment);
        segment.clear();
      }
    }
  }

 private:
  void take(uint16_t port, const std::vector<uint8_t>& f) {
    const int64_t id = frame_id(f);
    auto it = id < 0 ? sent_.end() : sent_.find(static_cast<uint32_t>(id));
    if (it == sent_.end()) {
      ++foreign;  // the host's own chatter, or not ours
      return;
    }
    ++checked;
    Sent& s = it->second;
    ++s.seen[port];
    auto want = s.must.find(port);
    std::string why;
    if (want == s.must.end()) {
      why = "appeared on a wire the policy does not send it to";
    } else if (auto& left = s.left[port]; std::find(left.begin(), left.end(), f) != left.end()) {
      left.erase(std::find(left.begin(), left.end(), f));
      ++must_seen;
    } else if (std::find(want->second.begin(), want->second.end(), f) != want->second.end()) {
      why = fmt::format("appeared more often on the wire than the {} copies the policy sends",
                        want->second.size());
    } else {
      why = "arrived altered (VLAN tag?): expected " + describe(want->second.front()) + "\n    " +
            hex(want->second.front(), 200);
    }
    if (why.empty()) return;
    ++violations_;
    if (violations_ > 5) return;  // the first few tell the story
    FAIL_CHECK(s.step, ": frame ", describe(s.bytes), " sent from ", ports_.name(s.from),
               " (model: ", s.verdict, ") ", why, "\n  on wire ", sniffer_of_.at(port)->dev(), " (",
               ports_.name(port), "): ", describe(f), "\n  sent     ", hex(s.bytes, 200),
               "\n  received ", hex(f, 200), "\nmodel:\n", model_dump(), "rule table:\n",
               rule_dump());
  }

  void drain_all() {
    for (auto& [port, sn] : sniffer_of_)
      sn->drain([&](const std::vector<uint8_t>& f) { take(port, f); });
  }

  // Waits until the switch has done all it will with the segment: every frame it must
  // deliver arrived, the slow path learned what the model did, the sim read every frame;
  // then a quiet period on every wire. Then the offload worker catches up.
  void settle(const std::vector<uint32_t>& segment) {
    expected_wire_rx_ += segment.size();
    const auto deadline = Steady::now() + kSettle;
    auto all_arrived = [&] {
      for (uint32_t id : segment)
        if (!sent_.at(id).arrived()) return false;
      return true;
    };
    auto slow_learned = [&] {
      const auto& c = sw_.slow->counters();
      return c.learned.load() + c.moved.load() - learn_base_;
    };
    auto errdisabled_agree = [&] {
      for (uint16_t p : ports_.all)
        if (sw_.slow->errdisabled(p) != (m_.errdisabled.count(p) > 0)) return false;
      return true;
    };
    auto read_all = [&] {
      return drivers::sim_stats(*sw_.esw)[drivers::sim::SimCounter::wire_rx] >= expected_wire_rx_;
    };
    for (;;) {
      drain_all();
      if (all_arrived() && slow_learned() == m_.learn_events && errdisabled_agree() && read_all())
        break;
      if (Steady::now() >= deadline) break;
      test::wait_readable(all_, 2);  // counters have no event to wait on: look again soon
    }
    while (Steady::now() < deadline && test::wait_readable(all_, kQuietMs)) drain_all();
    sw_.engine->drain();
    if (slow_learned() != m_.learn_events || !errdisabled_agree()) {
      ++violations_;
      FAIL_CHECK(step, ": the slow path's learning differs from the model: ", slow_learned(),
                 " learn/move events, model ", m_.learn_events, "; slow path fdb size ",
                 sw_.slow->fdb_size(), "\nmodel:\n", model_dump(), "rule table:\n", rule_dump());
      // Take the switch's count so that one disagreement is reported once.
      learn_base_ += slow_learned() - m_.learn_events;
    }
    for (uint32_t id : segment) {
      const Sent& s = sent_.at(id);
      for (const auto& [port, left] : s.left) {
        if (left.empty()) continue;
        ++missing_;
        if (missing_ <= 5)
          FAIL_CHECK(s.step, ": frame ", describe(s.bytes), " from ", ports_.name(s.from),
                     " (model: ", s.verdict, ") never reached ", ports_.name(port), " (",
                     left.size(), " of ", s.must.at(port).size(), " copies missing; ",
                     sniffer_of_.at(port)->dev(), ")\nits segment:\n", segment_dump(segment),
                     "model:\n", model_dump(), "rule table:\n", rule_dump());
      }
    }
  }

  Switch& sw_;
  Model& m_;
  Ports& ports_;
  std::vector<std::unique_ptr<test::WireSniffer>>& sniffers_;
  std::map<uint16_t, test::WireSniffer*>& sniffer_of_;
  std::vector<test::WireSniffer*> all_;
  std::map<uint32_t, Sent> sent_;
  uint32_t next_id_ = 1;
  uint64_t expected_wire_rx_ = 0;
  uint64_t learn_base_ = 0;
  uint64_t not_in_hw_ = 0;
  size_t violations_ = 0;
  size_t missing_ = 0;
};

struct RunTotals {
  size_t steps = 0, sent = 0, checked = 0, must = 0, must_seen = 0, foreign = 0, span = 0;
  uint64_t not_in_hw = 0, nic_errors = 0;
};

void run_once(uint64_t seed, int run, RunTotals& totals) {
  Rng r(seed * 7919 + static_cast<uint64_t>(run));
  const std::string name = sim_name_for(seed, run);
  test::SimWireGuard guard(name, kVfs);  // before the switch: wires go after the ports
  INFO("run ", run, ", sim ", name);

  drivers::ESwitchOptions eo;
  eo.sim_vfs = kVfs;
  eo.sim_name = name;
  eo.pool = dpdk_pool();
  eo.sim_capacity = run == 0 ? 40 : 65536;   // run 0: too small for everything (ENOSPC)
  eo.sim_fail_rate = run == 0 ? 0.05 : 0.2;  // injected refusals, retried with back-off
  eo.sim_fail_errno = run == 0 ? EBUSY : ETIMEDOUT;
  auto esw = drivers::make_sim_eswitch(eo);
  REQUIRE_MESSAGE(esw.ok(), esw.error().message);

  Switch sw;
  sw.esw = std::move(esw.value());
  Ports ports;
  std::vector<std::unique_ptr<test::WireSniffer>> sniffers;
  std::map<uint16_t, test::WireSniffer*> sniffer_of;
  for (const auto& p : sw.esw->ports()) {
    ports.all.push_back(p.ethdev_port);
    if (p.role == drivers::PortRole::uplink)
      ports.uplink = p.ethdev_port;
    else
      ports.vf_of[p.ethdev_port] = p.vf_index;
    test::silence_host_on(p.wire);
    sniffers.push_back(std::make_unique<test::WireSniffer>(p.wire));
    sniffer_of[p.ethdev_port] = sniffers.back().get();
  }
  REQUIRE(ports.vf_of.size() == kVfs);

  sw.engine = std::make_unique<offload::OffloadEngine>(sw.esw->flows(), sw.clock, sw.policy);
  REQUIRE(sw.engine->start().ok());
  slowpath::SlowPathOptions so;
  so.mac_aging_ns = 3600'000'000'000ULL;  // nothing ages during the test
  sw.slow = std::make_unique<slowpath::SlowPath>(sw.esw->ports(), eo.pool, sw.policy, *sw.engine,
                                                 sw.clock, so, sw.esw->rx_wakeup());
  REQUIRE(sw.esw->start().ok());
  sw.slow->start();
  const bool has_meters = sw.esw->has_meters();
  sw.dp = std::make_unique<daemon::ESwitchDataplane>(sw.esw->ports(), sw.policy, *sw.engine,
                                                     *sw.slow, sw.esw->vf_admin(), has_meters);

  Model m;
  m.cfg.vlans = kVlans;
  for (int i = 0; i < kVfs; ++i) m.vm_mac[static_cast<size_t>(i)] = own_mac(i);
  WireCheck wc(sw, m, ports, sniffers, sniffer_of);
  int acl_counter = 0;
  uint64_t gen = 0;

  auto apply = [&] {
    std::sort(m.cfg.veths.begin(), m.cfg.veths.end(),
              [](const auto& a, const auto& b) { return a.number < b.number; });
    auto applied = sw.dp->apply(m.cfg);
    REQUIRE_MESSAGE(applied.ok(), wc.step, ": apply: ", applied.error().message);
    auto snap = daemon::build_policy_snapshot(sw.esw->ports(), m.cfg, ++gen);
    REQUIRE(snap.ok());
    m.snap = std::move(snap.value());
    m.refresh();
  };

  // Start with every VF attached.
  for (int i = 0; i < kVfs; ++i) m.cfg.veths.push_back(random_veth(r, i, acl_counter));
  std::string span = "no SPAN";
  if (run == 0 || r.chance(0.5)) span = random_span(r, m.cfg);  // run 0 starts mirroring
  wc.step = fmt::format("run {} step 0 (attach all, {})", run, span);
  apply();
  for (int step = 0; step <= kStepsPerRun; ++step) {
    if (step > 0) {
      std::vector<int> bound, free;
      for (int i = 0; i < kVfs; ++i) (m.veth_of_vf(i) ? bound : free).push_back(i);
      std::string what;
      switch (r.below(6)) {
        case 0:  // attach
          if (!free.empty()) {
            const int vf = r.pick(free);
            m.cfg.veths.push_back(random_veth(r, vf, acl_counter));
            what = fmt::format("attach VF {}", vf);
            break;
          }
          [[fallthrough]];
        case 1:  // detach
          if (!bound.empty() && r.chance(0.7)) {
            const int vf = r.pick(bound);
            std::erase_if(m.cfg.veths, [&](const auto& v) { return v.vf == vf; });
            what = fmt::format("detach VF {}", vf);
            break;
          }
          [[fallthrough]];
        case 2:
        case 3:  // profile edit
          if (!bound.empty()) {
            const int vf = r.pick(bound);
            auto& v = *std::find_if(m.cfg.veths.begin(), m.cfg.veths.end(),
                                    [&](const auto& x) { return x.vf == vf; });
            what = fmt::format("edit VF {}: {}", vf, random_edit(r, v, acl_counter));
            break;
          }
          [[fallthrough]];
        case 4:
          if (bound.size() >= 2) {
            what = random_span(r, m.cfg);
            break;
          }
          [[fallthrough]];
        default: {  // MAC move: a VM takes a new MAC, or another VM's (which takes a new one)
          const auto vf = static_cast<size_t>(r.below(kVfs));
          if (r.chance(0.5)) {
            const auto other = static_cast<size_t>(r.below(kVfs));
            if (other != vf) {
              m.vm_mac[vf] = m.vm_mac[other];
              m.vm_mac[other] = m.fresh_mac();
              what = fmt::format("MAC move: VF {} now uses {}, VF {} a new MAC", vf,
                                 offload::mac_str(m.vm_mac[vf]), other);
              break;
            }
          }
          m.vm_mac[vf] = m.fresh_mac();
          what = fmt::format("MAC move: VF {} now uses {}", vf, offload::mac_str(m.vm_mac[vf]));
          break;
        }
      }
      wc.step = fmt::format("run {} step {} ({})", run, step, what);
      apply();
    }
    wc.check_rules("after the change");
    std::vector<uint16_t> order = ports.all;
    std::shuffle(order.begin(), order.end(), r.g);
    for (uint16_t from : order) wc.run_sender(r, from, has_meters);
    wc.check_rules("after the traffic");
    ++totals.steps;
    REQUIRE_MESSAGE(wc.violations() == 0, "stopping at the first step with violations (seed ", seed,
                    ")");
  }
  totals.sent += wc.sent_total;
  totals.checked += wc.checked;
  totals.must += wc.must_total;
  totals.span += wc.span_total;
  totals.must_seen += wc.must_seen;
  totals.foreign += wc.foreign;
  totals.not_in_hw += wc.not_in_hw();
  totals.nic_errors += sw.engine->nic_errors();
}

}  // namespace

TEST_CASE(
    "wire invariant: after every attach, detach, edit and MAC move, under NIC failures, rules = "
    "desired and no wire carries a frame the policy denies") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: needs root (veth wires, AF_PACKET)");
    return;
  }
  uint64_t seed = 0x5eed0005;
  if (const char* s = std::getenv("VFS_WIRE_SEED")) seed = std::strtoull(s, nullptr, 0);
  INFO("seed ", seed, " (VFS_WIRE_SEED=", seed, " replays it)");
  log::set_level(log::Level::error);
  RunTotals t;
  const auto t0 = Steady::now();
  for (int run = 0; run < kRuns; ++run) run_once(seed, run, t);
  log::set_level(log::Level::info);
  const auto secs = std::chrono::duration<double>(Steady::now() - t0).count();
  MESSAGE(fmt::format(
      "{} steps in {:.1f} s: {} frames sent, {} received and checked, {} of {} required "
      "deliveries seen ({} of them SPAN copies), {} foreign frames; {} rule-steps not in hw, {} "
      "NIC refusals",
      t.steps, secs, t.sent, t.checked, t.must_seen, t.must, t.span, t.foreign, t.not_in_hw,
      t.nic_errors));
  CHECK(t.must_seen == t.must);
  CHECK(t.must_seen > 200);  // traffic flowed: a switch that forwards nothing fails
  CHECK(t.span > 0);         // SPAN copies were due (and, by the first check, all arrived)
  CHECK(t.not_in_hw > 20);   // the injected failures and the small table did bite
}
