#include "slowpath/daemon/veth_counters.h"

#include <string>

#include "offload/acl_match.h"

namespace vfs::daemon {
namespace {

uint64_t minus(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

SwPortCounts since(const SwPortCounts& now, const SwPortCounts& base) {
  SwPortCounts d;
  d.rx = {minus(now.rx.packets, base.rx.packets), minus(now.rx.bytes, base.rx.bytes)};
  d.tx = {minus(now.tx.packets, base.tx.packets), minus(now.tx.bytes, base.tx.bytes)};
  for (size_t i = 0; i < d.drops.size(); ++i) d.drops[i] = minus(now.drops[i], base.drops[i]);
  for (size_t i = 0; i < d.police.size(); ++i) {
    const auto &n = now.police[i], &b = base.police[i];
    d.police[i] = {n.present, minus(n.conform_packets, b.conform_packets),
                   minus(n.conform_bytes, b.conform_bytes),
                   minus(n.violate_packets, b.violate_packets),
                   minus(n.violate_bytes, b.violate_bytes)};
  }
  return d;
}

void add(SwPortCounts& to, const SwPortCounts& d) {
  to.rx.add(d.rx);
  to.tx.add(d.tx);
  for (size_t i = 0; i < to.drops.size(); ++i) to.drops[i] += d.drops[i];
  for (size_t i = 0; i < to.police.size(); ++i) to.police[i].merge(d.police[i]);
}

nlohmann::json police_json(const offload::PoliceTotals& p) {
  return {{"conform_packets", p.conform_packets},
          {"conform_bytes", p.conform_bytes},
          {"violate_packets", p.violate_packets},
          {"violate_bytes", p.violate_bytes}};
}

}  // namespace

void SwCountersByVeth::rebind(const std::map<uint32_t, int>& bound, const ReadPort& read) {
  for (auto it = bound_.begin(); it != bound_.end();) {
    auto now = bound.find(it->first);
    if (now != bound.end() && now->second == it->second.vf) {
      ++it;
      continue;
    }
    add(retired_[it->first], since(read(it->second.vf), it->second.base));
    it = bound_.erase(it);
  }
  for (const auto& [veth, vf] : bound)
    if (!bound_.count(veth)) bound_[veth] = Binding{vf, read(vf)};
}

SwPortCounts SwCountersByVeth::total(uint32_t veth, const ReadPort& read) const {
  SwPortCounts out;
  if (auto r = retired_.find(veth); r != retired_.end()) out = r->second;
  if (auto b = bound_.find(veth); b != bound_.end())
    add(out, since(read(b->second.vf), b->second.base));
  return out;
}

nlohmann::json veth_counters_json(const vsm::ResolvedVeth& v, const offload::VethHwCounters& hw,
                                  const SwPortCounts& sw) {
  nlohmann::json j = {{"vm", v.vm},
                      {"vf", v.vf},
                      {"rx_packets", hw.rx.packets + sw.rx.packets},
                      {"rx_bytes", hw.rx.bytes + sw.rx.bytes},
                      {"tx_packets", hw.tx.packets + sw.tx.packets},
                      {"tx_bytes", hw.tx.bytes + sw.tx.bytes}};
  nlohmann::json drops = nlohmann::json::object();
  for (size_t i = 0; i < offload::kDropReasonCount; ++i)
    drops[offload::kDropReasons[i].name] = hw.drops[i] + sw.drops[i];
  j["drops"] = drops;
  nlohmann::json police = nlohmann::json::object();
  offload::PoliceTotals in = hw.police_in, out = hw.police_out;
  in.merge(sw.police[0]);
  out.merge(sw.police[1]);
  if (v.police_in || in.present) police["input"] = police_json(in);
  if (v.police_out || out.present) police["output"] = police_json(out);
  if (!police.empty()) j["police"] = police;
  return j;
}

nlohmann::json acl_entries_json(
    const std::vector<vsm::ResolvedVeth>& veths,
    const std::map<std::string, std::map<uint32_t, uint64_t>>& counted) {
  std::map<std::string, std::map<uint32_t, uint64_t>> all = counted;
  for (const auto& v : veths) {
    for (const auto* acl : {&v.ip_acl_in, &v.ip_acl_out, &v.ipv6_acl_in, &v.ipv6_acl_out,
                            &v.mac_acl_in, &v.mac_acl_out}) {
      if (!*acl) continue;
      auto& seqs = all[offload::acl_key(**acl)];
      for (const auto& ace : (*acl)->entries) seqs.try_emplace(ace.seq, 0);
      seqs.try_emplace(0, 0);
    }
  }
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [acl, seqs] : all) {
    nlohmann::json s = nlohmann::json::object();
    for (const auto& [seq, packets] : seqs) s[std::to_string(seq)] = packets;
    out[acl] = s;
  }
  return out;
}

}  // namespace vfs::daemon
