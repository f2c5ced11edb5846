// The QoS rows of the command table: `policy-map type qos NAME`, its `class class-default`
// and that class's `police` action. Profiles and interfaces apply policy-maps with
// `service-policy` (cli_profile_commands.cpp).
#include <fmt/core.h>
#include <fmt/format.h>

#include "vsm/cli_commands.h"
#include "vsm/command_rows.h"

namespace vfs::vsm {
namespace {

constexpr uint32_t kMaxPolicyNameLen = 40;  // NX-OS policy-map names
constexpr uint32_t kMaxRate = 4294967295u;

Result<PolicyMap*> current_policy_map(CommandContext& c) {
  auto it = c.model.policy_maps.find(c.session.policy_map);
  if (it == c.model.policy_maps.end())
    return refuse("policy-map {} no longer exists", c.session.policy_map);
  return &it->second;
}

const char* rate_help(RateUnit u) {
  switch (u) {
    case RateUnit::bps:
      return "Bits per second (the default)";
    case RateUnit::kbps:
      return "Kilobits per second";
    case RateUnit::mbps:
      return "Megabits per second";
    case RateUnit::gbps:
      return "Gigabits per second";
  }
  return "";
}

const char* burst_help(BurstUnit u) {
  switch (u) {
    case BurstUnit::bytes:
      return "Bytes (the default)";
    case BurstUnit::kbytes:
      return "Kilobytes (1024 bytes)";
    case BurstUnit::mbytes:
      return "Megabytes (1024 kilobytes)";
    case BurstUnit::ms:
      return "Milliseconds of traffic at the CIR";
  }
  return "";
}

// One row per spelling: police cir N [UNIT] [bc N [UNIT]] conform transmit violate drop.
void police_rows(std::vector<CommandSpec>& rows) {
  const ModeSet cls = in_mode(Mode::config_pmap_class);
  const std::vector<TokenSpec> tail{
      keyword("conform", "Action on conforming traffic"), keyword("transmit", "Send it"),
      keyword("violate", "Action on violating traffic"), keyword("drop", "Drop it")};
  for (int cu = -1; cu < 4; ++cu) {
    for (int bu = -2; bu < 4; ++bu) {  // -2: no bc; -1: bc without unit
      std::vector<TokenSpec> path{keyword("police", "Police traffic (single-rate, two-colour)"),
                                  keyword("cir", "Committed information rate"),
                                  number_arg("RATE", 1, kMaxRate, "1-4294967295")};
      if (cu >= 0) {
        auto u = static_cast<RateUnit>(cu);
        path.push_back(keyword(std::string(rate_unit_name(u)), rate_help(u)));
      }
      if (bu >= -1) {
        path.push_back(keyword("bc", "Committed burst"));
        path.push_back(number_arg("BURST", 1, kMaxRate, "1-4294967295"));
      }
      if (bu >= 0) {
        auto u = static_cast<BurstUnit>(bu);
        path.push_back(keyword(std::string(burst_unit_name(u)), burst_help(u)));
      }
      path.insert(path.end(), tail.begin(), tail.end());
      rows.push_back(
          row(cls, std::move(path),
              "Police the class: CIR with an optional burst (default: 200 ms at the CIR)",
              [cu, bu](CommandContext& c) -> Result<CommandOutput> {
                auto pm = current_policy_map(c);
                if (!pm) return pm.error();
                PoliceAction p;
                p.cir = c.args[0].number;
                if (cu >= 0) p.cir_unit = static_cast<RateUnit>(cu);
                if (bu >= -1) p.bc = c.args[1].number;
                if (bu >= 0) p.bc_unit = static_cast<BurstUnit>(bu);
                if (auto r = resolve_policer((*pm)->name, p); !r) return r.error();
                (*pm)->police = p;
                return done();
              }));
    }
  }
  rows.push_back(row(cls, {keyword("no"), keyword("police")}, "Stop policing the class",
                     [](CommandContext& c) -> Result<CommandOutput> {
                       auto pm = current_policy_map(c);
                       if (!pm) return pm.error();
                       (*pm)->police.reset();
                       return done();
                     }));
}

}  // namespace

std::vector<CommandSpec> qos_command_rows() {
  const ModeSet config = in_mode(Mode::config);
  const ModeSet pmap = in_mode(Mode::config_pmap) | in_mode(Mode::config_pmap_class);
  std::vector<CommandSpec> rows;
  const std::vector<TokenSpec> head{keyword("policy-map", "Configure a policy-map"),
                                    keyword("type", "Policy-map type"),
                                    keyword("qos", "Quality of service")};

  auto enter = head;
  enter.push_back(word_arg("NAME", kMaxPolicyNameLen));
  rows.push_back(row(config, enter, "Create a QoS policy-map (or edit it)", [](CommandContext& c) {
    const std::string& name = c.args[0].text;
    if (!c.model.policy_maps.contains(name)) {
      PolicyMap pm;
      pm.name = name;
      c.model.policy_maps[name] = pm;
    }
    c.session.enter(Mode::config_pmap);
    c.session.policy_map = name;
    return done();
  }));
  auto del = enter;
  del.insert(del.begin(), keyword("no"));
  rows.push_back(row(config, del, "Delete a policy-map nothing uses",
                     [](CommandContext& c) -> Result<CommandOutput> {
                       const std::string& name = c.args[0].text;
                       if (!c.model.policy_maps.contains(name))
                         return refuse("policy-map {} does not exist", name);
                       auto users = c.model.users_of_policy_map(name);
                       if (!users.empty())
                         return refuse("policy-map {} is in use by {}", name,
                                       fmt::join(users, ", "));
                       c.model.policy_maps.erase(name);
                       return done();
                     }));

  const TokenSpec cls = keyword("class", "A traffic class of the policy-map");
  const TokenSpec dflt = keyword("class-default", "All traffic");
  rows.push_back(row(pmap, {cls, dflt}, "Configure the actions on all traffic",
                     [](CommandContext& c) -> Result<CommandOutput> {
                       auto pm = current_policy_map(c);
                       if (!pm) return pm.error();
                       (*pm)->class_default = true;
                       c.session.leave_to(Mode::config_pmap);
                       c.session.mode = Mode::config_pmap_class;
                       return done();
                     }));
  rows.push_back(row(pmap, {keyword("no"), cls, dflt}, "Remove class-default and its actions",
                     [](CommandContext& c) -> Result<CommandOutput> {
                       auto pm = current_policy_map(c);
                       if (!pm) return pm.error();
                       (*pm)->class_default = false;
                       (*pm)->police.reset();
                       c.session.leave_to(Mode::config_pmap);
                       return done();
                     }));
  police_rows(rows);
  return rows;
}

}  // namespace vfs::vsm
