#include "tools/common/rule_explain.h"

#include <algorithm>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "offload/rule_spec_parse.h"

namespace vfs::tools {
namespace {

using nlohmann::json;
using offload::ActionKind;

constexpr unsigned kMaxTables = 32;  // a walk longer than this is a jump loop

// One rule of the dump, read for the walk.
struct DumpRule {
  size_t index = 0;  // position in the dump: the tie-break among equal priorities
  int64_t veth = -1;
  std::optional<int64_t> port;
  uint32_t group = 0, priority = 0;
  std::string state, reason, match_text, actions_text;
  std::optional<offload::RuleMatch> match;  // unset: unreadable (error says why)
  offload::ActionList actions;
  std::string error;
};

std::optional<int64_t> int_of(const json& r, const char* f) {
  if (!r.contains(f)) return std::nullopt;
  const auto& v = r[f];
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  return std::nullopt;
}

std::string string_of(const json& r, const char* f) {
  return r.contains(f) && r[f].is_string() ? r[f].get<std::string>() : std::string();
}

// Rules with a group; a rule whose group or priority is unreadable cannot be placed.
std::vector<DumpRule> read_rules(const json& rules) {
  std::vector<DumpRule> out;
  if (!rules.is_array()) return out;
  for (size_t i = 0; i < rules.size(); ++i) {
    const json& j = rules[i];
    if (!j.is_object()) continue;
    const auto group = int_of(j, "group"), prio = int_of(j, "priority");
    if (!group || !prio || *group < 0 || *group > UINT32_MAX || *prio < 0 || *prio > UINT32_MAX)
      continue;
    DumpRule r;
    r.index = i;
    r.veth = int_of(j, "veth").value_or(-1);
    r.port = int_of(j, "port");
    r.group = static_cast<uint32_t>(*group);
    r.priority = static_cast<uint32_t>(*prio);
    r.state = string_of(j, "state");
    r.reason = string_of(j, "reason");
    r.match_text = string_of(j, "match");
    r.actions_text = string_of(j, "actions");
    auto m = offload::parse_match_text(r.match_text);
    auto a = offload::parse_actions_text(r.actions_text);
    if (!m) {
      r.error = m.error().message;
    } else if (!a) {
      r.error = a.error().message;
    } else {
      r.match = std::move(*m);
      r.actions = std::move(*a);
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string group_name(uint32_t g) {
  switch (g) {
    case offload::kGroupIngress:
      return "ingress";
    case offload::kGroupMacAclIn:
      return "input MAC ACL";
    case offload::kGroupAclIn:
      return "input ACL";
    case offload::kGroupQosIn:
      return "input QoS";
    case offload::kGroupL2:
      return "L2 forwarding";
    default:
      break;
  }
  if (g >= offload::kGroupEgressAcl)
    return fmt::format("output ACL of port {}", g - offload::kGroupEgressAcl);
  if (g >= offload::kGroupEgressMacAcl)
    return fmt::format("output MAC ACL of port {}", g - offload::kGroupEgressMacAcl);
  return "unnamed";
}

std::string tags_text(const offload::PacketFields& p) {
  if (p.tags.empty()) return "untagged";
  std::string out = p.tags.size() == 1 ? "VLAN " : "VLANs ";
  for (size_t i = 0; i < p.tags.size(); ++i) {
    if (i) out += ".";
    out += std::to_string(p.tags[i].tci & 0x0fff);
    if (p.tags[i].tpid != 0x8100) out += fmt::format(" (TPID 0x{:04x})", p.tags[i].tpid);
  }
  return out;
}

std::string describe(const DumpRule& r) {
  return fmt::format("priority {}, vEthernet {}, state {}\n      match   {}\n      actions {}",
                     r.priority, r.veth, r.state.empty() ? "-" : r.state, r.match_text,
                     r.actions_text);
}

std::string port_text(uint32_t p) {
  return p == offload::kUnknownMirrorPort ? std::string("a port the dump does not name")
                                          : fmt::format("port {}", p);
}

}  // namespace

Result<std::string> explain_packet(const json& rules, int64_t veth, const PacketText& packet) {
  const std::vector<DumpRule> all = read_rules(rules);

  // The vEthernet's port and source MAC, from its rules.
  std::optional<int64_t> port;
  std::optional<offload::Mac> src;
  for (const auto& r : all) {
    if (r.veth != veth) continue;
    if (!port && r.port) port = r.port;
    if (r.group == offload::kGroupIngress && r.match) {
      if (!port && r.match->in_port) port = r.match->in_port;
      if (r.match->eth_src && !r.match->eth_src_mask && (!src || r.state == "hw"))
        src = r.match->eth_src;
    }
  }
  if (!port || *port < 0 || *port > UINT16_MAX)
    return make_error(ENOENT,
                      "vEthernet {}: no rule of it in the dump names its port (is it "
                      "attached and has it sent a frame?)",
                      veth);
  offload::PacketFields p = packet.fields;
  p.in_port = static_cast<uint16_t>(*port);
  if (!packet.has_from) {
    if (!src)
      return make_error(ENOENT,
                        "vEthernet {}: its group-0 rules admit no source MAC; give "
                        "'from MAC'",
                        veth);
    p.eth_src = *src;
  }
  if (!packet.has_to) p.eth_dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

  std::string out;
  out += fmt::format("packet: {}\n", packet_summary(p));
  out +=
      fmt::format("        from {}{} to {}{}, {}, enters on port {} (vEthernet {})\n",
                  offload::mac_str(p.eth_src), packet.has_from ? "" : " (its group-0 rules)",
                  offload::mac_str(p.eth_dst), packet.has_to ? "" : " (broadcast: give 'to MAC')",
                  tags_text(p), p.in_port, veth);

  uint32_t group = offload::kGroupIngress;
  for (unsigned table = 0;; ++table) {
    if (table == kMaxTables) {
      out += fmt::format("stopped: more than {} tables (a jump loop?)\n", kMaxTables);
      break;
    }
    std::vector<const DumpRule*> here;
    for (const auto& r : all)
      if (r.group == group) here.push_back(&r);
    const auto hw =
        std::count_if(here.begin(), here.end(), [](const DumpRule* r) { return r->state == "hw"; });
    out += fmt::format("group {} ({}): {} rule{}, {} in hardware\n", group, group_name(group),
                       here.size(), here.size() == 1 ? "" : "s", hw);
    for (const DumpRule* r : here)
      if (!r->match)
        out += fmt::format("  unreadable rule (dump entry {}): {}\n", r->index, r->error);

    std::vector<const DumpRule*> hits;
    for (const DumpRule* r : here)
      if (r->match && offload::rule_matches(*r->match, p)) hits.push_back(r);
    std::stable_sort(hits.begin(), hits.end(), [](const DumpRule* a, const DumpRule* b) {
      return a->priority < b->priority;
    });
    const DumpRule* winner = nullptr;
    for (const DumpRule* r : hits) {
      if (r->state == "hw") {
        winner = r;
        break;
      }
      out += fmt::format("  would match, not in hardware: {}\n      {}: {}\n", describe(*r),
                         r->state.empty() ? "state unknown" : "state " + r->state,
                         r->reason.empty() ? "no reason given" : r->reason);
    }
    if (!winner) {
      out += "  miss: no rule in hardware matches\n";
      out += fmt::format(
          "verdict: the slow path decides (the frame goes to the representor of port {} as it "
          "entered the eSwitch, and software applies the same policy)\n",
          p.in_port);
      break;
    }
    out += fmt::format("  match: {}\n", describe(*winner));

    const std::string tags_before = tags_text(p);
    std::vector<std::string> notes, outputs;
    bool drop = false;
    std::optional<uint32_t> jump;
    for (const auto& a : winner->actions) {
      switch (a.kind) {
        case ActionKind::count:
          notes.push_back("counted");
          break;
        case ActionKind::meter:
          notes.push_back(fmt::format("policed by meter {} (red frames are dropped)", a.arg));
          break;
        case ActionKind::mirror:
          notes.push_back(fmt::format("a copy goes out of {}", port_text(a.arg)));
          break;
        case ActionKind::push_vlan:
        case ActionKind::set_vlan_vid:
        case ActionKind::pop_vlan:
          offload::apply_vlan_edit(a, p);
          break;
        case ActionKind::drop:
          drop = true;
          break;
        case ActionKind::jump:
          jump = a.arg;
          break;
        case ActionKind::port:
          outputs.push_back(fmt::format("out of port {}", a.arg));
          break;
        case ActionKind::to_slow_path:
          outputs.push_back(fmt::format("to the representor of port {} (the slow path)", a.arg));
          break;
      }
    }
    if (tags_text(p) != tags_before) notes.push_back("now " + tags_text(p));
    if (!notes.empty()) {
      std::string line;
      for (const auto& n : notes) line += (line.empty() ? "" : ", ") + n;
      out += "  -> " + line + "\n";
    }
    if (drop) {
      out += fmt::format("verdict: dropped by the NIC (group {} priority {})\n", group,
                         winner->priority);
      break;
    }
    if (!outputs.empty()) {
      std::string line;
      for (const auto& o : outputs) line += (line.empty() ? "" : " and ") + o;
      out += fmt::format("verdict: forwarded by the NIC {}, {}\n", line, tags_text(p));
      break;
    }
    if (!jump) {
      out += "verdict: the rule has no fate (no drop, output or jump)\n";
      break;
    }
    if (*jump <= group) {
      out += fmt::format("verdict: jump to group {} goes backwards (the NIC refuses such rules)\n",
                         *jump);
      break;
    }
    out += fmt::format("  -> jump to group {}\n", *jump);
    group = *jump;
  }
  return out;
}

}  // namespace vfs::tools
