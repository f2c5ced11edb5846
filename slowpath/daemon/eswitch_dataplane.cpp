#include "slowpath/daemon/eswitch_dataplane.h"

#include <algorithm>

#include "base/log.h"
#include "slowpath/daemon/policy_snapshot_builder.h"

namespace vfs::daemon {
namespace {
constexpr uint64_t kSlowPathWaitMs = 5000;
}  // namespace

ESwitchDataplane::ESwitchDataplane(std::vector<drivers::PortInfo> ports, offload::PolicyChannel& policy,
                                   offload::OffloadEngine& offload, const slowpath::SlowPath& slow)
    : ports_(std::move(ports)), policy_(policy), offload_(offload), slow_(slow) {}

int ESwitchDataplane::vf_count() const {
  return static_cast<int>(std::count_if(ports_.begin(), ports_.end(),
                                        [](const auto& p) { return p.role == drivers::PortRole::vf; }));
}

Result<void> ESwitchDataplane::apply(const vsm::DataplaneConfig& cfg) {
  std::lock_guard<std::mutex> g(mu_);
  auto snap = build_policy_snapshot(ports_, cfg, generation_ + 1);
  if (!snap.ok()) return snap.error();
  ++generation_;
  policy_.publish(std::make_shared<const offload::PolicySnapshot>(std::move(snap.value())));
  if (!slow_.wait_for_policy(generation_, kSlowPathWaitMs))
    return make_error(ETIMEDOUT, "slow path did not take policy generation {} within {} ms", generation_,
                      kSlowPathWaitMs);
  if (auto r = offload_.resync_and_wait(); !r.ok()) return r;
  veths_ = cfg.veths;
  log::info("dataplane", "policy generation {} applied: {} vEthernet(s) bound", generation_, cfg.veths.size());
  return ok();
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
                   {"state", offload::rule_state_name(e.state)},
                   {"reason", e.reason},
                   {"packets", e.packets},
                   {"bytes", e.bytes},
                   {"refs", e.refs}});
  }
  return out;
}

nlohmann::json ESwitchDataplane::counters_json() const {
  std::vector<vsm::ResolvedVeth> veths;
  {
    std::lock_guard<std::mutex> g(mu_);
    veths = veths_;
  }
  auto rules = offload_.rules();
  auto retired = offload_.retired();
  auto rd = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  nlohmann::json per = nlohmann::json::object();
  for (const auto& v : veths) {
    auto it = std::find_if(ports_.begin(), ports_.end(), [&](const auto& p) {
      return p.role == drivers::PortRole::vf && p.vf_index == v.vf;
    });
    if (it == ports_.end()) continue;
    uint64_t hw_in_pk = 0, hw_in_by = 0, hw_out_pk = 0, hw_out_by = 0;
    for (const auto& r : rules) {
      if (r.veth != v.number) continue;
      if (r.spec.group == offload::kGroupIngress) {
        hw_in_pk += r.packets;
        hw_in_by += r.bytes;
      } else if (!r.spec.match.in_port) {
        hw_out_pk += r.packets;
        hw_out_by += r.bytes;
      }
    }
    nlohmann::json j = {{"vm", v.vm}, {"vf", v.vf}, {"hw_rule_packets", hw_in_pk + hw_out_pk}};
    if (auto rt = retired.find(v.number); rt != retired.end()) j["hw_retired_packets"] = rt->second.packets;
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
      for (size_t i = 0; i < slowpath::kDropReasonCount; ++i) drops[slowpath::kDropReasons[i].name] = rd(pc->drops[i]);
      j["sw_drops"] = drops;
    }
    per[std::to_string(v.number)] = j;
  }
  nlohmann::json sp = slow_.counters_json();
  sp["nic_errors"] = offload_.nic_errors();
  return {{"slowpath", sp}, {"veths", per}};
}

}  // namespace vfs::daemon
