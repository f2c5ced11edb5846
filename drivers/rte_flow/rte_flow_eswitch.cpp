// rte_flow_pick_transfer_proxy is experimental in DPDK 22.11.
#define ALLOW_EXPERIMENTAL_API 1

#include "drivers/rte_flow/rte_flow_eswitch.h"

#include <cstring>

#include <rte_ethdev.h>
#include <rte_flow.h>

#include "base/log.h"
#include "drivers/rte_flow/rte_flow_backend.h"
#include "drivers/rte_flow/switch_ports.h"

namespace vfs::drivers {
namespace {

constexpr uint16_t kRxDesc = 512;
constexpr uint16_t kTxDesc = 512;

std::string port_name(uint16_t port) {
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  return rte_eth_dev_get_name_by_port(port, name) == 0 ? std::string(name)
                                                       : fmt::format("port{}", port);
}

Result<void> configure_port(const PortInfo& p, rte_mempool* pool) {
  const uint16_t id = p.ethdev_port;
  rte_eth_conf conf{};
  int rc = rte_eth_dev_configure(id, 1, 1, &conf);
  if (rc < 0)
    return make_error(-rc,
                      "driver rte_flow: configuring ethdev {} ({}) with 1 Rx and 1 Tx queue: {}",
                      id, p.name, std::strerror(-rc));
  uint16_t rxd = kRxDesc, txd = kTxDesc;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rxd, &txd);
  if (rc < 0)
    return make_error(-rc, "driver rte_flow: ring sizes of ethdev {} ({}): {}", id, p.name,
                      std::strerror(-rc));
  const auto socket = static_cast<unsigned>(rte_eth_dev_socket_id(id));  // -1 = SOCKET_ID_ANY
  rc = rte_eth_rx_queue_setup(id, 0, rxd, socket, nullptr, pool);
  if (rc < 0)
    return make_error(-rc, "driver rte_flow: Rx queue of ethdev {} ({}): {}", id, p.name,
                      std::strerror(-rc));
  rc = rte_eth_tx_queue_setup(id, 0, txd, socket, nullptr);
  if (rc < 0)
    return make_error(-rc, "driver rte_flow: Tx queue of ethdev {} ({}): {}", id, p.name,
                      std::strerror(-rc));
  return ok();
}

class RteFlowESwitch final : public ESwitch {
 public:
  RteFlowESwitch(std::vector<PortInfo> ports, uint16_t proxy, std::string proxy_name)
      : ports_(std::move(ports)), flows_(proxy, std::move(proxy_name)) {}
  ~RteFlowESwitch() override { stop(); }

  std::string_view driver_name() const override { return "rte_flow"; }
  const std::vector<PortInfo>& ports() const override { return ports_; }
  FlowBackend& flows() override { return flows_; }
  Result<void> start() override;
  void stop() override;

 private:
  std::vector<PortInfo> ports_;  // uplink first
  RteFlowBackend flows_;
  size_t started_ = 0;  // ports_[0 .. started_) are running
};

Result<void> RteFlowESwitch::start() {
  // Uplink first: PMDs (mlx5) start a representor, or take transfer rules, only once the
  // E-Switch manager port runs.
  for (; started_ < ports_.size(); ++started_) {
    const PortInfo& p = ports_[started_];
    int rc = rte_eth_dev_start(p.ethdev_port);
    if (rc < 0) {
      Error e = make_error(-rc, "driver rte_flow: starting ethdev {} ({}): {}", p.ethdev_port,
                           p.name, std::strerror(-rc));
      stop();
      return e;
    }
    // Frames from the wire for the VMs' MACs are not addressed to the PF; a representor,
    // by contrast, gets every frame of its VF that missed the eSwitch whatever its MAC.
    if (p.role == PortRole::uplink) {
      rc = rte_eth_promiscuous_enable(p.ethdev_port);
      if (rc != 0)
        log::warn("rte_flow", "promiscuous mode on uplink ethdev {} ({}): {}", p.ethdev_port,
                  p.name, std::strerror(-rc));
    }
  }
  return ok();
}

void RteFlowESwitch::stop() {
  if (started_ == 0) return;
  FlowStatus st = flows_.flush();
  if (!st) log::error("rte_flow", "{}", st.error().to_error().message);
  while (started_ > 0) {
    const PortInfo& p = ports_[--started_];
    int rc = rte_eth_dev_stop(p.ethdev_port);
    if (rc != 0)
      log::warn("rte_flow", "stopping ethdev {} ({}): {}", p.ethdev_port, p.name,
                std::strerror(-rc));
  }
}

}  // namespace

Result<std::unique_ptr<ESwitch>> make_rte_flow_eswitch(const ESwitchOptions& opt) {
  auto facts = read_ethdev_facts();
  if (!facts) return facts.error();
  auto chosen = choose_switch_ports(*facts, opt.pci);
  if (!chosen) return chosen.error();
  std::vector<PortInfo>& ports = *chosen;
  if (!opt.pool)
    return make_error(EINVAL, "driver rte_flow: no mbuf pool given for the representor queues");

  const PortInfo& uplink = ports.front();
  uint16_t proxy = uplink.ethdev_port;
  rte_flow_error err = poisoned_flow_error();
  int rc = rte_flow_pick_transfer_proxy(uplink.ethdev_port, &proxy, &err);
  if (rc != 0) {
    FlowError fe = flow_error_from_pmd(err, rc);
    return make_error(fe.code, "driver rte_flow: no transfer proxy for uplink ethdev {} ({}): {}",
                      uplink.ethdev_port, uplink.name, fe.to_error().message);
  }

  for (const PortInfo& p : ports) {
    auto r = configure_port(p, opt.pool);
    if (!r) return r.error();
  }
  log::info("rte_flow",
            "eSwitch of {}: uplink ethdev {} ({}), {} VF representor(s), rules on ethdev {}",
            opt.pci.empty() ? "the probed PF" : opt.pci, uplink.ethdev_port, uplink.name,
            ports.size() - 1, proxy);
  std::unique_ptr<ESwitch> sw =
      std::make_unique<RteFlowESwitch>(std::move(ports), proxy, port_name(proxy));
  return sw;
}

}  // namespace vfs::drivers
