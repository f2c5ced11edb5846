// The show rows of DHCP snooping: `show ip dhcp snooping binding`, NX-OS's table of the
// addresses IP source guard admits per vEthernet — leases DHCP snooping learned (the
// datapath's counters_json()["dhcp_snooping"]["bindings"]) and the static `ip source
// binding`s of the configuration — and `show ip dhcp snooping statistics`, the slow
// path's DHCP snooping counters (counters_json()["slowpath"]["dhcp_snooping"]).
#include <arpa/inet.h>

#include <fmt/core.h>

#include "vsm/cli_show.h"
#include "vsm/mac_address.h"

namespace vfs::vsm {
namespace {

using nlohmann::json;

struct BindingRow {
  std::string mac, ip, lease, type;
  uint16_t vlan = 0;
  uint32_t veth = 0;
  int64_t lease_s = -1;  // -1: infinite
};

std::string mac_colons(const MacBytes& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

// The snooped leases in a counters_json() answer; entries that do not parse are skipped.
std::vector<BindingRow> snooped(const json& all) {
  std::vector<BindingRow> out;
  if (!all.is_object() || !all.contains("dhcp_snooping") || !all["dhcp_snooping"].is_object())
    return out;
  const json& ds = all["dhcp_snooping"];
  if (!ds.contains("bindings") || !ds["bindings"].is_array()) return out;
  for (const auto& b : ds["bindings"]) {
    if (!b.is_object() || !b.contains("mac") || !b["mac"].is_string() || !b.contains("ip") ||
        !b["ip"].is_string() || !b.contains("vlan") || !b["vlan"].is_number_unsigned() ||
        !b.contains("veth") || !b["veth"].is_number_unsigned())
      continue;
    BindingRow r;
    auto mac = parse_mac(b["mac"].get<std::string>());
    r.mac = mac ? mac_colons(*mac) : b["mac"].get<std::string>();
    r.ip = b["ip"].get<std::string>();
    r.vlan = static_cast<uint16_t>(b["vlan"].get<uint64_t>());
    r.veth = static_cast<uint32_t>(b["veth"].get<uint64_t>());
    r.lease_s = b.contains("lease_s") && b["lease_s"].is_number_integer()
                    ? b["lease_s"].get<int64_t>()
                    : -1;
    r.lease = r.lease_s < 0 ? "infinite" : std::to_string(r.lease_s);
    r.type = "dhcp-snooping";
    out.push_back(std::move(r));
  }
  return out;
}

Result<CommandOutput> show_binding(CommandContext& c) {
  std::vector<BindingRow> rows;
  if (c.env) rows = snooped(c.env->counters());  // replaying a file: the static ones only
  for (const auto& b : c.model.source_bindings) {
    BindingRow r;
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(b.v6 ? AF_INET6 : AF_INET, b.ip.data(), buf, sizeof(buf));
    r.mac = mac_colons(b.mac);
    r.ip = buf;
    r.vlan = b.vlan;
    r.veth = b.veth;
    r.lease = "infinite";
    r.type = "static";
    rows.push_back(std::move(r));
  }
  CommandOutput out;
  out.text = fmt::format("{:<19}{:<17}{:<10}{:<15}{:<6}{}\n", "MacAddress", "IpAddress", "LeaseSec",
                         "Type", "VLAN", "Interface");
  out.text += fmt::format("{:<19}{:<17}{:<10}{:<15}{:<6}{}\n", "-----------------",
                          "---------------", "--------", "-------------", "----", "-------------");
  out.data = json::array();
  for (const auto& r : rows) {
    out.text += fmt::format("{:<19}{:<17}{:<10}{:<15}{:<6}{}\n", r.mac, r.ip, r.lease, r.type,
                            r.vlan, veth_name(r.veth));
    out.data.push_back({{"mac", r.mac},
                        {"ip", r.ip},
                        {"lease_s", r.lease_s},
                        {"type", r.type},
                        {"vlan", r.vlan},
                        {"interface", veth_name(r.veth)},
                        {"veth", r.veth}});
  }
  out.text += fmt::format("Total number of bindings: {}\n", rows.size());
  out.text = trim_lines(out.text);
  return out;
}

Result<CommandOutput> show_statistics(CommandContext& c) {
  auto env = need_env(c);
  if (!env) return env.error();
  json all = (*env)->counters();
  json ds = json::object();
  if (all.is_object() && all.contains("slowpath") && all["slowpath"].is_object() &&
      all["slowpath"].contains("dhcp_snooping") && all["slowpath"]["dhcp_snooping"].is_object())
    ds = all["slowpath"]["dhcp_snooping"];
  CommandOutput out;
  out.text = "DHCP snooping statistics\n" + render_counters(ds, "  ");
  out.data = ds;
  return out;
}

}  // namespace

std::vector<CommandSpec> dhcp_snooping_show_rows() {
  std::vector<CommandSpec> rows;
  rows.push_back(
      show_row({keyword("ip"), keyword("dhcp", "DHCP"), keyword("snooping", "DHCP snooping"),
                keyword("binding", "The addresses bound to vEthernets")},
               "Show the DHCP snooping and static IP source bindings", show_binding));
  rows.push_back(
      show_row({keyword("ip"), keyword("dhcp", "DHCP"), keyword("snooping", "DHCP snooping"),
                keyword("statistics", "Messages snooped, bound, ignored")},
               "Show the DHCP snooping counters", show_statistics));
  return rows;
}

}  // namespace vfs::vsm
