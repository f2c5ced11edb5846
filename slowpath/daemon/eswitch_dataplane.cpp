#include "slowpath/daemon/eswitch_dataplane.h"

#include <algorithm>
#include <chrono>

#include "base/atomic_file.h"
#include "base/log.h"
#include "slowpath/daemon/policy_snapshot_builder.h"

namespace vfs::daemon {
namespace {
constexpr uint64_t kSlowPathWaitMs = 5000;
// How often the snooping thread takes the slow path's events and expires leases: a lease
// reaches the rules within this much of its DHCPACK (the slow path admits it at once).
constexpr auto kSnoopPeriod = std::chrono::milliseconds(50);
constexpr const char* kLeasesFile = "dhcp-snooping-bindings.json";

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

ESwitchDataplane::ESwitchDataplane(std::vector<drivers::PortInfo> ports,
                                   offload::PolicyChannel& policy, offload::OffloadEngine& offload,
                                   slowpath::SlowPath& slow, drivers::VfAdmin* vf_admin,
                                   bool eswitch_has_meters, std::string state_dir)
    : ports_(std::move(ports)), policy_(policy), offload_(offload), slow_(slow) {
  for (const auto& p : ports_)
    if (p.role == drivers::PortRole::uplink) proxy_port_ = p.ethdev_port;
  if (vf_admin) {
    std::vector<int> vfs;
    for (const auto& p : ports_)
      if (p.role == drivers::PortRole::vf) vfs.push_back(p.vf_index);
    knobs_.emplace(*vf_admin, eswitch_has_meters, vfs);
  }
  if (!state_dir.empty()) {
    leases_path_ = state_dir + "/" + kLeasesFile;
    // A missing file is a first start; a damaged one costs the leases, not the start.
    if (auto text = read_file(leases_path_); text.ok()) {
      auto j = nlohmann::json::parse(text.value(), nullptr, false);
      auto l = DhcpLeases::from_json(j, unix_now());
      if (l.ok()) {
        leases_ = std::move(l.value());
        log::info("dhcp-snooping", "{}: {} lease(s) still running restored", leases_path_,
                  leases_.all().size());
      } else {
        log::error("dhcp-snooping", "{}: {}; starting with no DHCP snooping bindings", leases_path_,
                   l.error().message);
      }
    }
  }
  snoop_thread_ = std::thread([this] { snoop_loop(); });
}

ESwitchDataplane::~ESwitchDataplane() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
  }
  snoop_cv_.notify_all();
  if (snoop_thread_.joinable()) snoop_thread_.join();
}

int ESwitchDataplane::vf_count() const {
  return static_cast<int>(std::count_if(
      ports_.begin(), ports_.end(), [](const auto& p) { return p.role == drivers::PortRole::vf; }));
}

Result<void> ESwitchDataplane::apply(const vsm::DataplaneConfig& cfg) {
  std::lock_guard<std::mutex> g(mu_);
  // Detached vEthernets and those that stop snooping lose their leases (the slow path
  // clears its own table when it takes the new policy).
  DhcpLeases kept = leases_;
  const std::vector<DhcpLease> gone = kept.prune(cfg, bound_veths_);
  vsm::DataplaneConfig merged = cfg;
  kept.merge_into(merged);
  auto snap = build_policy_snapshot(ports_, merged, generation_ + 1);
  if (!snap.ok()) return snap.error();
  // Bound VFs get their knobs before the slow path forwards for them, and a refusal
  // refuses the change (fail closed); VFs left unbound are reset once their rules are gone.
  if (knobs_)
    if (auto r = knobs_->apply_bound(cfg.veths); !r) return r;
  ++generation_;
  policy_.publish(std::make_shared<const offload::PolicySnapshot>(std::move(snap.value())));
  cfg_ = cfg;
  bound_veths_.clear();
  for (const auto& v : cfg.veths) bound_veths_.insert(v.number);
  if (!gone.empty()) {
    log_gone(gone, "its vEthernet was detached or no longer snoops DHCP");
    leases_ = std::move(kept);
    save_leases_locked();
  }
  if (!slow_.wait_for_policy(generation_, kSlowPathWaitMs))
    return make_error(ETIMEDOUT, "slow path did not take policy generation {} within {} ms",
                      generation_, kSlowPathWaitMs);
  if (auto r = offload_.resync_and_wait(); !r.ok()) return r;
  if (knobs_) knobs_->reset_unbound(cfg.veths);
  veths_ = cfg.veths;
  std::map<uint32_t, int> bound;
  for (const auto& v : veths_) bound[v.number] = v.vf;
  sw_counters_.rebind(bound, [&](int vf) { return read_vf(vf); });
  log::info("dataplane", "policy generation {} applied: {} vEthernet(s) bound", generation_,
            cfg.veths.size());
  return ok();
}

Result<void> ESwitchDataplane::publish_locked(const vsm::DataplaneConfig& cfg) {
  vsm::DataplaneConfig merged = cfg;
  leases_.merge_into(merged);
  auto snap = build_policy_snapshot(ports_, merged, generation_ + 1);
  if (!snap.ok()) return snap.error();
  ++generation_;
  policy_.publish(std::make_shared<const offload::PolicySnapshot>(std::move(snap.value())));
  if (!slow_.wait_for_policy(generation_, kSlowPathWaitMs))
    return make_error(ETIMEDOUT, "slow path did not take policy generation {} within {} ms",
                      generation_, kSlowPathWaitMs);
  return offload_.resync_and_wait();
}

std::string ESwitchDataplane::veth_label(uint32_t veth) const {
  if (cfg_)
    for (const auto& v : cfg_->veths)
      if (v.number == veth) return fmt::format("vEthernet{} ({})", veth, v.vm);
  return fmt::format("vEthernet{}", veth);
}

void ESwitchDataplane::log_gone(const std::vector<DhcpLease>& gone, const char* why) const {
  for (const auto& l : gone)
    log::info("dhcp-snooping", "{}: binding {} {} VLAN {} removed: {}", veth_label(l.veth),
              ip4_str(l.ip), offload::mac_str(l.mac), l.vlan, why);
}

void ESwitchDataplane::save_leases_locked() {
  if (leases_path_.empty()) return;
  if (auto r = write_file_atomically(leases_path_, leases_.to_json().dump(2) + "\n"); !r.ok())
    log::error("dhcp-snooping", "cannot save the DHCP snooping bindings: {}", r.error().message);
}

bool ESwitchDataplane::take_snooping_events_locked() {
  bool changed = false, renewed = false;
  const int64_t now = unix_now();
  slowpath::DhcpBindingEvent ev;
  while (slow_.take_dhcp_event(ev)) {
    // Events of a vEthernet that left (or stopped snooping) since the slow path sent them.
    const vsm::ResolvedVeth* v = nullptr;
    if (cfg_)
      for (const auto& r : cfg_->veths)
        if (r.number == ev.veth) v = &r;
    if (ev.kind == slowpath::DhcpBindingEvent::bound && (!v || !offload::snoops_dhcp(*v))) continue;
    std::vector<DhcpLease> gone;
    const auto c = leases_.fold(ev, now, &gone);
    log_gone(gone, slowpath::dhcp_event_cause_name(ev.cause));
    if (c == DhcpLeases::Change::bindings && ev.kind == slowpath::DhcpBindingEvent::bound)
      log::info("dhcp-snooping", "{}: binding {} {} VLAN {} added by DHCPACK, lease {}",
                veth_label(ev.veth), ip4_str(ev.ip), offload::mac_str(ev.mac), ev.vid,
                ev.lease_s == slowpath::kDhcpInfiniteLease ? std::string("infinite")
                                                           : fmt::format("{} s", ev.lease_s));
    changed = changed || c == DhcpLeases::Change::bindings;
    renewed = renewed || c == DhcpLeases::Change::renewed;
  }
  const auto expired = leases_.expire(now);
  log_gone(expired, "lease expired");
  changed = changed || !expired.empty();
  if (changed || renewed) save_leases_locked();
  const uint64_t malformed = slow_.dhcp_counters().malformed.load(std::memory_order_relaxed);
  if (malformed > malformed_seen_)
    log::warn("dhcp-snooping",
              "{} malformed DHCP message(s) ignored (truncated, bad lengths or options)",
              malformed - malformed_seen_);
  malformed_seen_ = malformed;
  return changed;
}

void ESwitchDataplane::snoop_loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    snoop_cv_.wait_for(l, kSnoopPeriod, [&] { return stopping_; });
    if (stopping_) break;
    if (!take_snooping_events_locked() || !cfg_) continue;
    if (auto r = publish_locked(*cfg_); !r.ok())
      log::error("dhcp-snooping",
                 "republishing the policy with the DHCP snooping bindings failed: {}",
                 r.error().message);
  }
}

nlohmann::json ESwitchDataplane::rules_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : offload_.rules()) {
    out.push_back({{"veth", e.veth},
                   {"port", e.port},
                   {"group", e.spec.group},
                   {"priority", e.spec.priority},
                   {"match", offload::match_text(e.spec)},
                   {"actions", offload::actions_text(e.spec)},
                   {"testpmd", offload::testpmd_text(e.spec, proxy_port_)},
                   {"state", offload::rule_state_name(e.state)},
                   {"reason", e.reason},
                   {"errno", e.nic_errno},
                   {"drop_reason", e.drop_reason < offload::DropReason::count_
                                       ? offload::drop_reason_name(e.drop_reason)
                                       : ""},
                   {"acl", e.acl},
                   {"ace_seq", e.ace_seq},
                   {"chain", e.chain != offload::kNoChain ? offload::chain_name(e.chain) : ""},
                   {"packets", e.packets},
                   {"bytes", e.bytes},
                   {"refs", e.refs}});
  }
  return out;
}

SwPortCounts ESwitchDataplane::read_vf(int vf) const {
  SwPortCounts c;
  auto it = std::find_if(ports_.begin(), ports_.end(), [&](const auto& p) {
    return p.role == drivers::PortRole::vf && p.vf_index == vf;
  });
  if (it == ports_.end()) return c;
  const auto* pc = slow_.port_counters(it->ethdev_port);
  if (!pc) return c;
  auto rd = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  c.rx = {rd(pc->rx_packets), rd(pc->rx_bytes)};
  c.tx = {rd(pc->tx_packets), rd(pc->tx_bytes)};
  for (size_t i = 0; i < c.drops.size() && i < pc->drops.size(); ++i) c.drops[i] = rd(pc->drops[i]);
  for (size_t d = 0; d < 2; ++d) {
    auto& p = c.police[d];
    p.conform_packets = rd(pc->police_conform_packets[d]);
    p.conform_bytes = rd(pc->police_conform_bytes[d]);
    p.violate_packets = rd(pc->police_violate_packets[d]);
    p.violate_bytes = rd(pc->police_violate_bytes[d]);
    p.present = p.conform_packets + p.violate_packets > 0;
  }
  return c;
}

// The counters contract (docs/architecture.md "Counters"): per vEthernet, hardware
// (offload::HwCounters, live + retired) merged with the slow path's counts of the ports it
// was bound to; every number only grows.
nlohmann::json ESwitchDataplane::counters_json() const {
  const offload::HwCounters hw = offload_.hw_counters();
  const offload::HwCounters retired = offload_.retired_counters();
  auto rules = offload_.rules();
  auto rd = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  std::lock_guard<std::mutex> g(mu_);
  nlohmann::json per = nlohmann::json::object();
  for (const auto& v : veths_) {
    auto it = std::find_if(ports_.begin(), ports_.end(), [&](const auto& p) {
      return p.role == drivers::PortRole::vf && p.vf_index == v.vf;
    });
    if (it == ports_.end()) continue;
    auto h = hw.veths.find(v.number);
    const offload::VethHwCounters none;
    nlohmann::json j =
        veth_counters_json(v, h != hw.veths.end() ? h->second : none,
                           sw_counters_.total(v.number, [&](int vf) { return read_vf(vf); }));
    // The raw views: live rules' COUNT and the slow path's own per-port counters.
    uint64_t hw_in_pk = 0, hw_in_by = 0, hw_out_pk = 0, hw_out_by = 0;
    for (const auto& r : rules) {
      if (r.veth != v.number) continue;
      if (r.counts_rx) {
        hw_in_pk += r.packets;
        hw_in_by += r.bytes;
      } else if (!r.tx_veths.empty()) {
        hw_out_pk += r.packets;
        hw_out_by += r.bytes;
      }
    }
    j["hw_rule_packets"] = hw_in_pk + hw_out_pk;
    if (auto rt = retired.veths.find(v.number); rt != retired.veths.end())
      j["hw_retired_packets"] = rt->second.rx.packets + rt->second.tx.packets;
    j["hw_ingress_packets"] = hw_in_pk;
    j["hw_ingress_bytes"] = hw_in_by;
    j["hw_egress_packets"] = hw_out_pk;
    j["hw_egress_bytes"] = hw_out_by;
    if (const auto* pc = slow_.port_counters(it->ethdev_port)) {
      j["sw_rx_packets"] = rd(pc->rx_packets);
      j["sw_rx_bytes"] = rd(pc->rx_bytes);
      j["sw_tx_packets"] = rd(pc->tx_packets);
      j["sw_tx_bytes"] = rd(pc->tx_bytes);
      nlohmann::json drops = nlohmann::json::object();
      for (size_t i = 0; i < slowpath::kDropReasonCount; ++i)
        drops[slowpath::kDropReasons[i].name] = rd(pc->drops[i]);
      j["sw_drops"] = drops;
    }
    per[std::to_string(v.number)] = j;
  }
  nlohmann::json sp = slow_.counters_json();
  sp["nic_errors"] = offload_.nic_errors();
  // Per-entry matches: the NIC's rule counts plus the slow path's own.
  auto counted = hw.acl_entries;
  const nlohmann::json sw_acl = slow_.acl_entries_json();
  for (auto acl = sw_acl.begin(); acl != sw_acl.end(); ++acl)
    for (auto seq = acl->begin(); seq != acl->end(); ++seq)
      counted[acl.key()][static_cast<uint32_t>(std::stoul(seq.key()))] += seq->get<uint64_t>();
  nlohmann::json leases = nlohmann::json::array();
  const int64_t now = unix_now();
  for (const auto& l : leases_.all()) {
    std::string vm;
    for (const auto& v : veths_)
      if (v.number == l.veth) vm = v.vm;
    leases.push_back({{"veth", l.veth},
                      {"vm", vm},
                      {"mac", offload::mac_str(l.mac)},
                      {"ip", ip4_str(l.ip)},
                      {"vlan", l.vlan},
                      {"lease_s", l.infinite() ? -1 : std::max<int64_t>(0, l.expires_unix - now)},
                      {"type", "dhcp-snooping"}});
  }
  return {{"slowpath", sp},
          {"veths", per},
          {"acl_entries", acl_entries_json(veths_, counted)},
          {"dhcp_snooping", {{"bindings", leases}}}};
}

}  // namespace vfs::daemon
