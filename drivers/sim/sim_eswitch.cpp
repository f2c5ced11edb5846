#include "drivers/sim/sim_eswitch.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include <strings.h>

#include <rte_ethdev.h>

#include "base/log.h"
#include "drivers/sim/sim_datapath.h"
#include "drivers/sim/sim_flow_backend.h"
#include "drivers/sim/sim_flow_table.h"
#include "drivers/sim/sim_ports.h"
#include "drivers/sim/sim_vf_admin.h"
#include "drivers/sim/sim_vf_ports.h"
#include "drivers/sim/sim_wires.h"

namespace vfs::drivers {
namespace {

using sim::FlowTable;
using sim::SimFlowBackend;

class SimESwitch final : public ESwitch {
 public:
  SimESwitch(std::string name, std::unique_ptr<sim::SimPorts> ports,
             std::unique_ptr<FlowTable> table, const ESwitchOptions& opt)
      : name_(std::move(name)),
        ports_(std::move(ports)),
        table_(std::move(table)),
        backend_(table_mu_, *table_, opt),
        vfs_(opt.sim_vfs, clock_),
        vf_admin_("sim " + name_, table_mu_, vfs_),
        datapath_(*ports_, *table_, vfs_, table_mu_, opt.pool),
        has_meters_(std::none_of(
            opt.sim_unsupported.begin(), opt.sim_unsupported.end(),
            [](const std::string& n) { return strcasecmp(n.c_str(), "METER") == 0; })) {
    const auto& ps = ports_->ports();
    for (size_t i = 0; i < ps.size(); ++i) {
      PortInfo info;
      info.ethdev_port = ps[i].rep_port;
      info.role = i == 0 ? PortRole::uplink : PortRole::vf;
      info.vf_index = static_cast<int>(i) - 1;
      info.name = ps[i].rep_name;
      info.wire = ps[i].vm_dev;
      infos_.push_back(info);
    }
  }

  ~SimESwitch() override { stop(); }

  std::string_view driver_name() const override { return "sim"; }
  const std::vector<PortInfo>& ports() const override { return infos_; }
  FlowBackend& flows() override { return backend_; }

  Result<void> start() override {
    if (started_) return ok();
    if (auto r = ports_->start(); !r) return r;
    if (auto r = datapath_.start(); !r) {
      ports_->stop();
      return r;
    }
    started_ = true;
    log::info("sim", "sim {} started: uplink and {} VFs", name_, infos_.size() - 1);
    return ok();
  }

  void stop() override {
    if (!started_) return;
    datapath_.stop();
    ports_->stop();
    started_ = false;
  }

  sim::SimStats stats() const { return datapath_.stats(); }
  RxWakeup* rx_wakeup() override { return &datapath_.rx_wakeup(); }
  VfAdmin* vf_admin() override { return &vf_admin_; }
  bool has_meters() const override { return has_meters_; }

 private:
  std::string name_;
  std::unique_ptr<sim::SimPorts> ports_;
  std::mutex table_mu_;
  std::unique_ptr<FlowTable> table_;
  SimFlowBackend backend_;
  MonotonicClock clock_;
  sim::VfPorts vfs_;
  sim::SimVfAdmin vf_admin_;
  sim::Datapath datapath_;
  bool has_meters_;  // false when played as a NIC without METER (--sim-unsupported)
  std::vector<PortInfo> infos_;
  bool started_ = false;
};

Result<void> check_options(const ESwitchOptions& opt) {
  if (auto r = validate_sim_name(opt.sim_name); !r) return r;
  if (opt.sim_vfs < 0)
    return make_error(EINVAL, "sim {}: VF count {} is negative", opt.sim_name, opt.sim_vfs);
  if (!opt.pool) return make_error(EINVAL, "sim {}: no mbuf pool given", opt.sim_name);
  if (auto r = sim::check_tap_vfs(opt.sim_name, opt.sim_vfs, opt.sim_tap_vfs); !r) return r;
  if (!(opt.sim_fail_rate >= 0 && opt.sim_fail_rate <= 1))
    return make_error(EINVAL, "sim {}: sim_fail_rate {} is not in [0, 1]", opt.sim_name,
                      opt.sim_fail_rate);
  if (opt.sim_fail_rate > 0 && opt.sim_fail_errno <= 0)
    return make_error(EINVAL, "sim {}: sim_fail_errno {} is not a positive errno", opt.sim_name,
                      opt.sim_fail_errno);
  // Each port needs two ethdevs (representor and wire); DPDK has a fixed number of them.
  const unsigned needed = sim::SimPorts::ethdevs_needed(static_cast<size_t>(opt.sim_vfs) + 1);
  const unsigned in_use = rte_eth_dev_count_total();
  const unsigned free = RTE_MAX_ETHPORTS > in_use ? RTE_MAX_ETHPORTS - in_use : 0;
  if (needed > free)
    return make_error(ENOSPC,
                      "sim {}: {} VFs need {} DPDK ports but only {} of RTE_MAX_ETHPORTS={} are "
                      "free",
                      opt.sim_name, opt.sim_vfs, needed, free, RTE_MAX_ETHPORTS);
  return ok();
}

}  // namespace

Result<std::unique_ptr<ESwitch>> make_sim_eswitch(const ESwitchOptions& opt) {
  if (auto r = check_options(opt); !r) return r.error();

  // Process-local state first, so that bad options change nothing on the host.
  auto ports = sim::SimPorts::make(
      opt.sim_name, sim::wire_names(opt.sim_name, opt.sim_vfs, opt.sim_tap_vfs), opt.pool);
  if (!ports) return ports.error();
  std::vector<uint16_t> ethdevs;
  for (const sim::SimPort& p : ports.value()->ports()) ethdevs.push_back(p.rep_port);
  sim::FlowTableOptions topt;
  topt.capacity = opt.sim_capacity;
  topt.unsupported = opt.sim_unsupported;
  auto table = FlowTable::make(std::move(ethdevs), topt);
  if (!table)
    return make_error(table.error().code, "sim {}: {}", opt.sim_name, table.error().message);

  auto wires = sim::open_wires(opt.sim_name, opt.sim_vfs, opt.sim_tap_vfs);
  if (!wires) return wires.error();
  return std::unique_ptr<ESwitch>(
      new SimESwitch(opt.sim_name, std::move(ports.value()), std::move(table.value()), opt));
}

Result<std::vector<int>> parse_sim_tap_vfs(std::string_view text) {
  std::vector<int> out;
  if (text.empty()) return out;
  if (text == "all") return std::vector<int>{kSimAllVfs};
  size_t at = 0;
  while (at <= text.size()) {
    const size_t comma = std::min(text.find(',', at), text.size());
    const std::string_view item = text.substr(at, comma - at);
    int v = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || v < 0)
      return make_error(EINVAL,
                        "sim tap VFs '{}': '{}' is not a VF index (expected \"all\" or indexes "
                        "like 0,2,5)",
                        text, item);
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    at = comma + 1;
  }
  return out;
}

sim::SimStats sim_stats(const ESwitch& eswitch) {
  if (const auto* s = dynamic_cast<const SimESwitch*>(&eswitch)) return s->stats();
  return {};
}

}  // namespace vfs::drivers
