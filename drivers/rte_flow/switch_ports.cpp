// rte_eth_representor_info_get is experimental in DPDK 22.11.
#define ALLOW_EXPERIMENTAL_API 1

#include "drivers/rte_flow/switch_ports.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>

#include <rte_ethdev.h>

#include "base/log.h"

namespace vfs::drivers {
namespace {

constexpr uint16_t kNoDomain = RTE_ETH_DEV_SWITCH_DOMAIN_ID_INVALID;
static_assert(kNoDomain == 0xffff, "EthdevFacts::domain_id default must mean 'no domain'");

std::string names_of(const std::vector<const EthdevFacts*>& devs) {
  std::string s;
  for (const auto* d : devs) {
    if (!s.empty()) s += ", ";
    s += fmt::format("{} {}", d->port, d->name);
  }
  return s;
}

// Fills rep_type / rep_index / rep_pf from the PMD's representor ranges, if it has any.
void read_representor_info(uint16_t port, uint16_t switch_port_id, EthdevFacts& f) {
  const int n = rte_eth_representor_info_get(port, nullptr);
  if (n <= 0) return;
  const size_t size =
      sizeof(rte_eth_representor_info) + size_t(n) * sizeof(rte_eth_representor_range);
  auto buf = std::make_unique<std::max_align_t[]>(size / sizeof(std::max_align_t) + 1);
  auto* info = reinterpret_cast<rte_eth_representor_info*>(buf.get());
  std::memset(info, 0, size);
  info->nb_ranges_alloc = static_cast<uint32_t>(n);
  if (rte_eth_representor_info_get(port, info) < 0) return;
  for (uint32_t i = 0; i < info->nb_ranges && i < info->nb_ranges_alloc; ++i) {
    const rte_eth_representor_range& r = info->ranges[i];
    if (switch_port_id < r.id_base || switch_port_id > r.id_end) continue;
    const int offset = static_cast<int>(switch_port_id - r.id_base);
    switch (r.type) {
      case RTE_ETH_REPRESENTOR_VF:
        f.rep_type = RepresentorType::vf;
        f.rep_index = r.vf + offset;
        break;
      case RTE_ETH_REPRESENTOR_SF:
        f.rep_type = RepresentorType::sf;
        f.rep_index = r.sf + offset;
        break;
      case RTE_ETH_REPRESENTOR_PF:
        f.rep_type = RepresentorType::pf;
        break;
      default:
        break;
    }
    f.rep_pf = r.pf;
    return;
  }
}

}  // namespace

int vf_index_from_name(const std::string& name) {
  size_t end = name.size(), digits = end;
  while (digits > 0 && name[digits - 1] >= '0' && name[digits - 1] <= '9') --digits;
  if (digits == end || end - digits > 5 || digits < 2) return -1;
  if (name.compare(digits - 2, 2, "vf") != 0) return -1;
  return std::stoi(name.substr(digits));
}

Result<std::vector<EthdevFacts>> read_ethdev_facts() {
  std::vector<EthdevFacts> out;
  uint16_t p;
  RTE_ETH_FOREACH_DEV(p) {
    EthdevFacts f;
    f.port = p;
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    f.name = rte_eth_dev_get_name_by_port(p, name) == 0 ? name : fmt::format("port{}", p);
    rte_eth_dev_info info;
    const int rc = rte_eth_dev_info_get(p, &info);
    if (rc != 0)
      return make_error(-rc, "driver rte_flow: cannot read device info of ethdev {} ({}): {}", p,
                        f.name, std::strerror(-rc));
    f.representor = info.dev_flags && (*info.dev_flags & RTE_ETH_DEV_REPRESENTOR);
    f.domain_id = info.switch_info.domain_id;
    if (f.representor) read_representor_info(p, info.switch_info.port_id, f);
    out.push_back(std::move(f));
  }
  return out;
}

Result<std::vector<PortInfo>> choose_switch_ports(const std::vector<EthdevFacts>& devs,
                                                  const std::string& pci) {
  const std::string pf = pci.empty() ? "<PF address>" : pci;
  if (devs.empty())
    return make_error(ENODEV,
                      "driver rte_flow: EAL found no ethdev{}; pass --pci <PF address> of a NIC in "
                      "switchdev mode bound to its DPDK driver (mlx5, ice...)",
                      pci.empty() ? "" : " for " + pci);

  std::vector<const EthdevFacts*> all, in_switch, reps;
  for (const auto& d : devs) {
    all.push_back(&d);
    if (d.domain_id == kNoDomain) continue;
    in_switch.push_back(&d);
    if (d.representor) reps.push_back(&d);
  }
  if (in_switch.empty())
    return make_error(
        ENODEV,
        "driver rte_flow: none of the ethdevs EAL found ({}) belongs to an eSwitch; "
        "put the PF in switchdev mode (devlink dev eswitch set pci/{} mode switchdev) "
        "and use a PMD with representor support (mlx5, ice...)",
        names_of(all), pf);
  if (reps.empty())
    return make_error(ENODEV,
                      "driver rte_flow: no VF representor among the eSwitch ports ({}); create the "
                      "VFs (echo N > /sys/bus/pci/devices/{}/sriov_numvfs), keep switchdev mode, "
                      "and start EAL with -a {},representor=vf[0-N]",
                      names_of(in_switch), pf, pf);

  std::set<uint16_t> domains;
  for (const auto* r : reps) domains.insert(r->domain_id);
  if (domains.size() > 1)
    return make_error(EINVAL,
                      "driver rte_flow: representors belong to {} eSwitch domains ({}); vfswitchd "
                      "drives one eSwitch: pass a single PF",
                      domains.size(), names_of(reps));
  const uint16_t domain = *domains.begin();

  std::vector<const EthdevFacts*> uplinks;
  for (const auto* d : in_switch)
    if (d->domain_id == domain && !d->representor) uplinks.push_back(d);
  if (uplinks.empty())
    return make_error(ENODEV,
                      "driver rte_flow: eSwitch domain {} has representors ({}) but no PF (uplink) "
                      "port; EAL must probe the PF itself (-a {},representor=vf[0-N])",
                      domain, names_of(reps), pf);
  if (uplinks.size() > 1)
    return make_error(EINVAL,
                      "driver rte_flow: eSwitch domain {} has several non-representor ports ({}); "
                      "cannot tell which is the uplink",
                      domain, names_of(uplinks));

  std::map<int, const EthdevFacts*> vfs;
  std::set<int> pfs;
  for (const auto* r : reps) {
    if (r->rep_type == RepresentorType::sf || r->rep_type == RepresentorType::pf) {
      log::info("rte_flow", "ignoring ethdev {} ({}): a {} representor, not a VF", r->port, r->name,
                r->rep_type == RepresentorType::sf ? "SF" : "PF");
      continue;
    }
    const int vf = r->rep_type == RepresentorType::vf ? r->rep_index : vf_index_from_name(r->name);
    if (vf < 0)
      return make_error(EINVAL,
                        "driver rte_flow: cannot tell which VF representor ethdev {} ({}) stands "
                        "for: its PMD gives no representor info and its name does not end in vf<N>",
                        r->port, r->name);
    if (r->rep_pf >= 0) pfs.insert(r->rep_pf);
    auto [it, fresh] = vfs.emplace(vf, r);
    if (!fresh)
      return make_error(EINVAL,
                        "driver rte_flow: VF {} has two representors: ethdev {} ({}) and {} ({})",
                        vf, it->second->port, it->second->name, r->port, r->name);
  }
  if (pfs.size() > 1)
    return make_error(EINVAL,
                      "driver rte_flow: the VF representors hang off {} PFs ({}); vfswitchd drives "
                      "one PF: list only its VFs (representor=vf[0-N])",
                      pfs.size(), names_of(reps));
  if (vfs.empty())
    return make_error(ENODEV,
                      "driver rte_flow: no VF representor among the eSwitch ports ({}), only PF/SF "
                      "ones; start EAL with -a {},representor=vf[0-N]",
                      names_of(in_switch), pf);

  std::vector<PortInfo> ports;
  ports.push_back(PortInfo{uplinks[0]->port, PortRole::uplink, -1, uplinks[0]->name, ""});
  for (const auto& [vf, r] : vfs) ports.push_back(PortInfo{r->port, PortRole::vf, vf, r->name, ""});
  return ports;
}

}  // namespace vfs::drivers
