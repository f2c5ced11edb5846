// The port rows of the command table beyond VLAN and filters: trunking, profile
// inheritance and max-ports (config-port-prof), and the policy settings a port-profile and
// an `interface vethernet N` share (config-port-prof and config-if): service-policy,
// port-security, ip verify source, storm-control, and the interface's access VLAN.
#include <algorithm>
#include <charconv>

#include <fmt/core.h>
#include <fmt/format.h>

#include "vsm/cli_commands.h"
#include "vsm/command_rows.h"
#include "vsm/effective_port.h"
#include "vsm/vlan_list.h"

namespace vfs::vsm {
namespace {

constexpr uint32_t kMaxProfileNameLen = 80;  // port-profile and policy-map names
constexpr uint32_t kMaxMaxPorts = 1024;      // NX-OS max-ports range
constexpr uint32_t kMaxProfileWordLen = 32;  // MAC addresses, storm levels

std::vector<TokenSpec> no(std::vector<TokenSpec> path) {
  path.insert(path.begin(), keyword("no", "Negate a command or set its default"));
  return path;
}

CommandHandler on_policy(std::function<Result<CommandOutput>(CommandContext&, PortPolicy&)> f) {
  return [f = std::move(f)](CommandContext& c) -> Result<CommandOutput> {
    auto p = current_port_policy(c);
    if (!p) return p.error();
    return f(c, **p);
  };
}

CommandOutput vlan_warning(const CommandContext& c, uint16_t vlan) {
  CommandOutput out;
  if (!c.model.vlans.contains(vlan))
    out.text = fmt::format(
        "Warning: VLAN {} is not defined; ports of {} will not forward on it until it is\n", vlan,
        port_policy_owner(c));
  return out;
}

// The trunk-allowed list an add/remove edits: what the profile has in force now.
Result<std::vector<uint16_t>> allowed_now(const CommandContext& c, const PortProfile& p) {
  auto e = effective_profile(c.model, p.name);
  if (!e) return e.error();
  return e->trunk_allowed;
}

enum class ListEdit { set, add, remove, except };

Result<CommandOutput> edit_allowed(CommandContext& c, PortProfile& p, ListEdit edit,
                                   const std::vector<uint16_t>& list) {
  std::vector<uint16_t> out;
  switch (edit) {
    case ListEdit::set:
      out = list;
      break;
    case ListEdit::except:
      std::ranges::set_difference(all_vlans(), list, std::back_inserter(out));
      break;
    case ListEdit::add:
    case ListEdit::remove: {
      auto now = allowed_now(c, p);
      if (!now) return now.error();
      if (edit == ListEdit::add)
        std::ranges::set_union(*now, list, std::back_inserter(out));
      else
        std::ranges::set_difference(*now, list, std::back_inserter(out));
      break;
    }
  }
  p.trunk_allowed = std::move(out);
  return done();
}

// "12.5" -> 1250: a percentage 0-100 with at most two decimals, in hundredths.
std::optional<uint16_t> parse_level(std::string_view s) {
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  auto digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  };
  if (whole.empty() || whole.size() > 3 || !digits(whole) || frac.size() > 2 || !digits(frac) ||
      (dot != std::string_view::npos && frac.empty()))
    return std::nullopt;
  unsigned w = 0;
  std::from_chars(whole.data(), whole.data() + whole.size(), w);
  unsigned f = 0;
  if (!frac.empty()) std::from_chars(frac.data(), frac.data() + frac.size(), f);
  if (frac.size() == 1) f *= 10;
  unsigned v = w * 100 + f;
  if (v > kMaxStormLevel) return std::nullopt;
  return static_cast<uint16_t>(v);
}

std::optional<uint16_t>& storm_slot(PortPolicy& p, int kind) {
  return kind == 0 ? p.storm_broadcast : kind == 1 ? p.storm_multicast : p.storm_unicast;
}

size_t bound_inheriting(const SwitchModel& model, const VethRegistry& registry,
                        const std::string& profile) {
  size_t n = 0;
  for (uint32_t v : model.interfaces_inheriting(profile)) {
    const VethRecord* r = registry.find(v);
    if (r && r->vf >= 0) ++n;
  }
  return n;
}

void profile_rows(std::vector<CommandSpec>& rows) {
  const ModeSet prof = in_mode(Mode::config_port_prof);
  const TokenSpec sw = keyword("switchport", "Set switching characteristics");
  const TokenSpec trunk = keyword("trunk", "Trunking parameters");
  const TokenSpec allowed = keyword("allowed", "VLANs the trunk carries");
  const TokenSpec vlan = keyword("vlan", "VLAN list");

  struct Edit {
    const char* kw;
    ListEdit edit;
    const char* help;
  };
  for (const Edit& e : {Edit{nullptr, ListEdit::set, "Carry exactly these VLANs"},
                        Edit{"add", ListEdit::add, "Carry these VLANs too"},
                        Edit{"remove", ListEdit::remove, "Stop carrying these VLANs"},
                        Edit{"except", ListEdit::except, "Carry every VLAN but these"}}) {
    std::vector<TokenSpec> path{sw, trunk, allowed, vlan};
    if (e.kw) path.push_back(keyword(e.kw, e.help));
    path.push_back(vlan_list_arg("LIST", "VLANs, e.g. 10 or 10-20,30"));
    const ListEdit edit = e.edit;
    rows.push_back(
        row(prof, std::move(path), e.help, on_profile([edit](CommandContext& c, PortProfile& p) {
              return edit_allowed(c, p, edit, c.args[0].vlans);
            })));
  }
  rows.push_back(row(prof, {sw, trunk, allowed, vlan, keyword("all", "VLANs 1-4094")},
                     "Carry every VLAN", on_profile([](CommandContext& c, PortProfile& p) {
                       return edit_allowed(c, p, ListEdit::set, all_vlans());
                     })));
  rows.push_back(row(prof, {sw, trunk, allowed, vlan, keyword("none", "No VLAN")},
                     "Carry no tagged VLAN", on_profile([](CommandContext& c, PortProfile& p) {
                       return edit_allowed(c, p, ListEdit::set, {});
                     })));
  rows.push_back(row(prof, no({sw, trunk, allowed, vlan}),
                     "Inherit the allowed VLANs (default 1-4094)",
                     on_profile([](CommandContext&, PortProfile& p) {
                       p.trunk_allowed.reset();
                       return done();
                     })));
  rows.push_back(row(prof,
                     {sw, trunk, keyword("native", "The untagged VLAN of the trunk"), vlan,
                      number_arg("VLAN", 1, kMaxVlan, "VLAN ID 1-4094")},
                     "Set the trunk's native VLAN",
                     on_profile([](CommandContext& c, PortProfile& p) {
                       p.native_vlan = static_cast<uint16_t>(c.args[0].number);
                       return Result<CommandOutput>(vlan_warning(c, *p.native_vlan));
                     })));
  rows.push_back(row(prof, no({sw, trunk, keyword("native"), vlan}),
                     "Inherit the native VLAN (default 1)",
                     on_profile([](CommandContext&, PortProfile& p) {
                       p.native_vlan.reset();
                       return done();
                     })));

  rows.push_back(row(prof,
                     {keyword("inherit", "Inherit the settings of another profile"),
                      keyword("port-profile"), word_arg("NAME", kMaxProfileNameLen)},
                     "Inherit the settings this profile does not set from port-profile NAME",
                     on_profile([](CommandContext& c, PortProfile& p) -> Result<CommandOutput> {
                       const std::string& parent = c.args[0].text;
                       auto chain = inheritance_chain(c.model, parent);
                       if (!chain) return chain.error();
                       if (std::ranges::find(*chain, p.name) != chain->end()) {
                         auto loop = std::vector<std::string>{p.name};
                         for (const auto& n : *chain) {
                           loop.push_back(n);
                           if (n == p.name) break;
                         }
                         return refuse("inherit port-profile {} would make a loop: {}", parent,
                                       fmt::join(loop, " -> "));
                       }
                       p.inherit = parent;
                       return done();
                     })));
  for (bool named : {false, true}) {
    std::vector<TokenSpec> path{keyword("inherit"), keyword("port-profile")};
    if (named) path.push_back(word_arg("NAME", kMaxProfileNameLen));
    rows.push_back(
        row(prof, no(std::move(path)), "Stop inheriting another profile",
            on_profile([named](CommandContext& c, PortProfile& p) -> Result<CommandOutput> {
              if (named && p.inherit != c.args[0].text)
                return refuse("port-profile {} does not inherit port-profile {}", p.name,
                              c.args[0].text);
              p.inherit.clear();
              return done();
            })));
  }
  rows.push_back(row(prof,
                     {keyword("max-ports", "Most vEthernets bound to this profile"),
                      number_arg("N", 1, kMaxMaxPorts, "1-1024")},
                     "Limit the vEthernets bound to this profile",
                     on_profile([](CommandContext& c, PortProfile& p) -> Result<CommandOutput> {
                       size_t bound = bound_inheriting(c.model, c.registry, p.name);
                       if (bound > c.args[0].number)
                         return refuse(
                             "port-profile {} has {} bound vEthernets, more than max-ports {}",
                             p.name, bound, c.args[0].number);
                       p.max_ports = c.args[0].number;
                       return done();
                     })));
  rows.push_back(row(prof, no({keyword("max-ports")}), "No limit on bound vEthernets",
                     on_profile([](CommandContext&, PortProfile& p) {
                       p.max_ports = 0;
                       return done();
                     })));
}

void policy_rows(std::vector<CommandSpec>& rows) {
  const ModeSet port = in_mode(Mode::config_port_prof) | in_mode(Mode::config_if);
  const ModeSet itf = in_mode(Mode::config_if);
  const TokenSpec sw = keyword("switchport", "Set switching characteristics");
  const TokenSpec ps = keyword("port-security", "Which source MACs the VM may use");

  rows.push_back(row(
      itf,
      {sw, keyword("access"), keyword("vlan"), number_arg("VLAN", 1, kMaxVlan, "VLAN ID 1-4094")},
      "Override the port-profile's access VLAN", [](CommandContext& c) -> Result<CommandOutput> {
        auto it = c.model.interfaces.find(c.session.veth);
        if (it == c.model.interfaces.end())
          return refuse("Vethernet{} no longer exists", c.session.veth);
        it->second.access_vlan = static_cast<uint16_t>(c.args[0].number);
        return vlan_warning(c, *it->second.access_vlan);
      }));
  rows.push_back(row(itf, no({sw, keyword("access"), keyword("vlan")}),
                     "Use the port-profile's access VLAN",
                     [](CommandContext& c) -> Result<CommandOutput> {
                       auto it = c.model.interfaces.find(c.session.veth);
                       if (it == c.model.interfaces.end())
                         return refuse("Vethernet{} no longer exists", c.session.veth);
                       it->second.access_vlan.reset();
                       return done();
                     }));

  for (bool in : {true, false}) {
    const char* dir = in ? "input" : "output";
    const std::string what = in ? "from the VM" : "to the VM";
    rows.push_back(row(port,
                       {keyword("service-policy", "Apply a QoS policy-map"),
                        keyword(dir, fmt::format("Traffic {}", what)),
                        word_arg("NAME", kMaxProfileNameLen, "policy-map type qos NAME")},
                       fmt::format("Police traffic {} with a policy-map", what),
                       on_policy([in](CommandContext& c, PortPolicy& p) -> Result<CommandOutput> {
                         const std::string& name = c.args[0].text;
                         if (!c.model.policy_maps.contains(name))
                           return refuse("policy-map {} does not exist", name);
                         (in ? p.policy_in : p.policy_out) = name;
                         return done();
                       })));
    rows.push_back(row(
        port, no({keyword("service-policy"), keyword(dir), word_arg("NAME", kMaxProfileNameLen)}),
        fmt::format("Stop policing traffic {}", what),
        on_policy([in, dir](CommandContext& c, PortPolicy& p) -> Result<CommandOutput> {
          std::string& slot = in ? p.policy_in : p.policy_out;
          if (slot != c.args[0].text)
            return refuse("{} has no service-policy {} {}", port_policy_owner(c), dir,
                          c.args[0].text);
          slot.clear();
          return done();
        })));
  }

  for (bool on : {true, false}) {
    std::vector<TokenSpec> path{sw, ps};
    rows.push_back(row(port, on ? path : no(path),
                       on ? "Enforce port security (source MAC checks)"
                          : "Turn port security off here (overrides an inherited setting)",
                       on_policy([on](CommandContext&, PortPolicy& p) {
                         p.port_security = on;
                         return done();
                       })));
  }
  rows.push_back(row(port,
                     {sw, ps, keyword("maximum", "Most MACs the port may use"),
                      number_arg("N", 1, kMaxPortSecurityMacs, "1-1025")},
                     "Set how many source MACs the port may use",
                     on_policy([](CommandContext& c, PortPolicy& p) -> Result<CommandOutput> {
                       if (p.port_security_macs.size() > c.args[0].number)
                         return refuse("{} has {} static port-security MACs, more than {}",
                                       port_policy_owner(c), p.port_security_macs.size(),
                                       c.args[0].number);
                       p.port_security_maximum = c.args[0].number;
                       return done();
                     })));
  rows.push_back(row(port, no({sw, ps, keyword("maximum")}), "Inherit the MAC maximum (default 1)",
                     on_policy([](CommandContext& c, PortPolicy& p) -> Result<CommandOutput> {
                       if (p.port_security_macs.size() > 1)
                         return refuse(
                             "{} has {} static port-security MACs, more than the default "
                             "maximum 1",
                             port_policy_owner(c), p.port_security_macs.size());
                       p.port_security_maximum.reset();
                       return done();
                     })));
  for (bool on : {true, false}) {
    std::vector<TokenSpec> path{sw, ps, keyword("mac-address", "A MAC the port may always use"),
                                word_arg("MAC", kMaxProfileWordLen, "EEEE.EEEE.EEEE")};
    rows.push_back(row(
        port, on ? path : no(path), on ? "Allow a static source MAC" : "Remove a static source MAC",
        on_policy([on](CommandContext& c, PortPolicy& p) -> Result<CommandOutput> {
          auto mac = parse_mac(c.args[0].text);
          if (!mac) return refuse("'{}' is not a MAC address (EEEE.EEEE.EEEE)", c.args[0].text);
          auto& macs = p.port_security_macs;
          auto at = std::ranges::lower_bound(macs, *mac);
          const bool present = at != macs.end() && *at == *mac;
          if (!on) {
            if (!present)
              return refuse("{} has no port-security mac-address {}", port_policy_owner(c),
                            format_mac(*mac));
            macs.erase(at);
            return done();
          }
          if (present) return done();
          if (macs.size() + 1 > p.port_security_maximum.value_or(1))
            return refuse(
                "{} would have {} static port-security MACs, more than its maximum {} (raise "
                "'switchport port-security maximum' first)",
                port_policy_owner(c), macs.size() + 1, p.port_security_maximum.value_or(1));
          macs.insert(at, *mac);
          return done();
        })));
  }
  for (auto [kw, mode, help] :
       {std::tuple{"protect", ViolationMode::protect, "Drop frames from other MACs silently"},
        std::tuple{"restrict", ViolationMode::restrict, "Drop and count frames from other MACs"},
        std::tuple{"shutdown", ViolationMode::shutdown, "Shut the port on a violation"}}) {
    const ViolationMode m = mode;
    rows.push_back(
        row(port,
            {sw, ps, keyword("violation", "What a frame from another MAC does"), keyword(kw, help)},
            help, on_policy([m](CommandContext&, PortPolicy& p) {
              p.port_security_violation = m;
              return done();
            })));
  }
  rows.push_back(row(port, no({sw, ps, keyword("violation")}),
                     "Inherit the violation mode (default shutdown)",
                     on_policy([](CommandContext&, PortPolicy& p) {
                       p.port_security_violation.reset();
                       return done();
                     })));

  for (bool on : {true, false}) {
    std::vector<TokenSpec> path{keyword("ip"), keyword("verify", "Check source addresses"),
                                keyword("source", "Against the IP source bindings")};
    rows.push_back(row(port, on ? path : no(path),
                       on ? "IP source guard: only bound source addresses pass"
                          : "Turn IP source guard off here (overrides an inherited setting)",
                       on_policy([on](CommandContext&, PortPolicy& p) {
                         p.ip_verify_source = on;
                         return done();
                       })));
  }

  const char* kinds[] = {"broadcast", "multicast", "unicast"};
  for (int k = 0; k < 3; ++k) {
    const TokenSpec storm = keyword("storm-control", "Limit flooded traffic");
    const TokenSpec kind = keyword(kinds[k], fmt::format("{} traffic", kinds[k]));
    const TokenSpec level = keyword("level", "Percent of the port's bandwidth");
    rows.push_back(row(
        port, {storm, kind, level, word_arg("PERCENT", kMaxProfileWordLen, "0-100.00")},
        fmt::format("Limit {} traffic to a share of the bandwidth", kinds[k]),
        on_policy([k](CommandContext& c, PortPolicy& p) -> Result<CommandOutput> {
          auto v = parse_level(c.args[0].text);
          if (!v)
            return refuse("'{}' is not a level 0-100 with at most two decimals", c.args[0].text);
          storm_slot(p, k) = *v;
          return done();
        })));
    rows.push_back(row(port, no({storm, kind, level}),
                       fmt::format("Inherit the {} storm-control level (default off)", kinds[k]),
                       on_policy([k](CommandContext&, PortPolicy& p) {
                         storm_slot(p, k).reset();
                         return done();
                       })));
  }
}

}  // namespace

Result<PortPolicy*> current_port_policy(CommandContext& c) {
  if (c.session.mode == Mode::config_if) {
    auto it = c.model.interfaces.find(c.session.veth);
    if (it == c.model.interfaces.end())
      return refuse("Vethernet{} no longer exists", c.session.veth);
    return static_cast<PortPolicy*>(&it->second);
  }
  auto it = c.model.profiles.find(c.session.profile);
  if (it == c.model.profiles.end())
    return refuse("port-profile {} no longer exists", c.session.profile);
  return static_cast<PortPolicy*>(&it->second);
}

std::string port_policy_owner(const CommandContext& c) {
  if (c.session.mode == Mode::config_if) return fmt::format("Vethernet{}", c.session.veth);
  return "port-profile " + c.session.profile;
}

Result<void> check_max_ports(const SwitchModel& model, const VethRegistry& registry,
                             const std::string& profile, uint32_t veth) {
  auto p = model.profiles.find(profile);
  if (p == model.profiles.end() || p->second.max_ports == 0) return ok();
  std::vector<std::string> bound;
  for (uint32_t v : model.interfaces_inheriting(profile)) {
    const VethRecord* r = registry.find(v);
    if (v != veth && r && r->vf >= 0) bound.push_back(fmt::format("Vethernet{}", v));
  }
  if (bound.size() + 1 > p->second.max_ports)
    return make_error(EBUSY, "port-profile {} has reached its max-ports {} (bound: {})", profile,
                      p->second.max_ports, fmt::join(bound, ", "));
  return ok();
}

std::vector<CommandSpec> profile_command_rows() {
  std::vector<CommandSpec> rows;
  profile_rows(rows);
  policy_rows(rows);
  return rows;
}

}  // namespace vfs::vsm
