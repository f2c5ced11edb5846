// The rows of the command table that name vEthernets from config mode: local SPAN
// (`monitor session N` with its sources, destination and shut state) and the static
// `ip source binding A MAC vlan V interface vethernet N` that IP source guard checks.
#include <arpa/inet.h>

#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>

#include "vsm/cli_commands.h"
#include "vsm/command_rows.h"

namespace vfs::vsm {
namespace {

constexpr uint32_t kMaxWordLen = 64;

std::vector<TokenSpec> veth_path() {
  return {keyword("interface", "An interface"), keyword("vethernet", "A vEthernet"),
          number_arg("N", 1, kMaxVeth, "vEthernet number")};
}

Result<MonitorSession*> current_session(CommandContext& c) {
  auto it = c.model.monitor_sessions.find(c.session.monitor);
  if (it == c.model.monitor_sessions.end())
    return refuse("monitor session {} no longer exists", c.session.monitor);
  return &it->second;
}

Result<void> check_interface(const CommandContext& c, uint32_t n) {
  if (!c.model.interfaces.contains(n))
    return refuse("Vethernet{} does not exist (configure 'interface vethernet {}' first)", n, n);
  return ok();
}

CommandHandler on_session(
    std::function<Result<CommandOutput>(CommandContext&, MonitorSession&)> f) {
  return [f = std::move(f)](CommandContext& c) -> Result<CommandOutput> {
    auto s = current_session(c);
    if (!s) return s.error();
    return f(c, **s);
  };
}

void monitor_rows(std::vector<CommandSpec>& rows) {
  const ModeSet config = in_mode(Mode::config);
  const ModeSet mon = in_mode(Mode::config_monitor);
  const TokenSpec session_id = number_arg("ID", 1, kMaxMonitorSession, "Session 1-64");
  const TokenSpec monitor = keyword("monitor", "SPAN: copy traffic to another port");
  const TokenSpec session = keyword("session", "A SPAN session");

  rows.push_back(row(config, {monitor, session, session_id},
                     "Create a local SPAN session (or edit it); new sessions are shut",
                     [](CommandContext& c) {
                       uint32_t id = c.args[0].number;
                       if (!c.model.monitor_sessions.contains(id)) {
                         MonitorSession s;
                         s.id = id;
                         c.model.monitor_sessions[id] = s;
                       }
                       c.session.enter(Mode::config_monitor);
                       c.session.monitor = id;
                       return done();
                     }));
  rows.push_back(row(config, {keyword("no"), monitor, session, session_id}, "Delete a SPAN session",
                     [](CommandContext& c) -> Result<CommandOutput> {
                       if (c.model.monitor_sessions.erase(c.args[0].number) == 0)
                         return refuse("monitor session {} does not exist", c.args[0].number);
                       return done();
                     }));

  const TokenSpec source = keyword("source", "A port whose traffic is copied");
  for (int d = -1; d < 3; ++d) {
    auto path = veth_path();
    path.insert(path.begin(), source);
    static const char* names[] = {"rx", "tx", "both"};
    static const char* helps[] = {"Traffic from the VM", "Traffic to the VM",
                                  "Both directions (the default)"};
    if (d >= 0) path.push_back(keyword(names[d], helps[d]));
    const SpanDirection dir = d < 0 ? SpanDirection::both : static_cast<SpanDirection>(d);
    rows.push_back(
        row(mon, std::move(path), "Copy the traffic of a vEthernet",
            on_session([dir](CommandContext& c, MonitorSession& s) -> Result<CommandOutput> {
              uint32_t n = c.args[0].number;
              if (auto i = check_interface(c, n); !i) return i.error();
              if (s.destination == n)
                return refuse("Vethernet{} is the destination of monitor session {}", n, s.id);
              s.sources[n] = dir;
              return done();
            })));
  }
  {
    auto path = veth_path();
    path.insert(path.begin(), source);
    path.insert(path.begin(), keyword("no"));
    rows.push_back(
        row(mon, std::move(path), "Stop copying the traffic of a vEthernet",
            on_session([](CommandContext& c, MonitorSession& s) -> Result<CommandOutput> {
              if (s.sources.erase(c.args[0].number) == 0)
                return refuse("Vethernet{} is not a source of monitor session {}", c.args[0].number,
                              s.id);
              return done();
            })));
  }
  const TokenSpec dest = keyword("destination", "The port that receives the copies");
  {
    auto path = veth_path();
    path.insert(path.begin(), dest);
    rows.push_back(
        row(mon, std::move(path), "Send the copies to a vEthernet",
            on_session([](CommandContext& c, MonitorSession& s) -> Result<CommandOutput> {
              uint32_t n = c.args[0].number;
              if (auto i = check_interface(c, n); !i) return i.error();
              if (s.sources.contains(n))
                return refuse("Vethernet{} is a source of monitor session {}", n, s.id);
              s.destination = n;
              return done();
            })));
    path = veth_path();
    path.insert(path.begin(), dest);
    path.insert(path.begin(), keyword("no"));
    rows.push_back(
        row(mon, std::move(path), "Remove the destination",
            on_session([](CommandContext& c, MonitorSession& s) -> Result<CommandOutput> {
              if (s.destination != c.args[0].number)
                return refuse("Vethernet{} is not the destination of monitor session {}",
                              c.args[0].number, s.id);
              s.destination.reset();
              return done();
            })));
  }
  for (bool shut : {true, false}) {
    std::vector<TokenSpec> path{keyword("shut", "Stop the session")};
    if (!shut) path.insert(path.begin(), keyword("no"));
    rows.push_back(row(mon, std::move(path), shut ? "Stop the session" : "Start the session",
                       on_session([shut](CommandContext&, MonitorSession& s) {
                         s.shut = shut;
                         return done();
                       })));
  }
}

Result<IpSourceBinding> parse_binding(const CommandContext& c) {
  IpSourceBinding b;
  const std::string& ip = c.args[0].text;
  if (::inet_pton(AF_INET, ip.c_str(), b.ip.data()) != 1) {
    if (::inet_pton(AF_INET6, ip.c_str(), b.ip.data()) != 1)
      return refuse("'{}' is not an IPv4 or IPv6 address", ip);
    b.v6 = true;
  }
  auto mac = parse_mac(c.args[1].text);
  if (!mac) return refuse("'{}' is not a MAC address (EEEE.EEEE.EEEE)", c.args[1].text);
  b.mac = *mac;
  b.vlan = static_cast<uint16_t>(c.args[2].number);
  b.veth = c.args[3].number;
  return b;
}

void binding_rows(std::vector<CommandSpec>& rows) {
  const ModeSet config = in_mode(Mode::config);
  std::vector<TokenSpec> path{keyword("ip"),
                              keyword("source", "IP source guard"),
                              keyword("binding", "A static source binding"),
                              word_arg("ADDRESS", kMaxWordLen, "IPv4 or IPv6 address"),
                              word_arg("MAC", kMaxWordLen, "EEEE.EEEE.EEEE"),
                              keyword("vlan"),
                              number_arg("VLAN", 1, kMaxVlan, "VLAN ID 1-4094")};
  auto veth = veth_path();
  path.insert(path.end(), veth.begin(), veth.end());
  rows.push_back(row(config, path, "Bind a source address to a vEthernet (IP source guard)",
                     [](CommandContext& c) -> Result<CommandOutput> {
                       auto b = parse_binding(c);
                       if (!b) return b.error();
                       if (!c.model.interfaces.contains(b->veth))
                         return refuse("Vethernet{} does not exist", b->veth);
                       auto& all = c.model.source_bindings;
                       for (const auto& o : all) {
                         if (o.ip == b->ip && o.v6 == b->v6 && o.vlan == b->vlan && !(o == *b))
                           return refuse(
                               "ip source binding {} vlan {} already exists (Vethernet{}, {})",
                               c.args[0].text, b->vlan, o.veth, format_mac(o.mac));
                       }
                       auto at = std::lower_bound(all.begin(), all.end(), *b);
                       if (at == all.end() || !(*at == *b)) all.insert(at, *b);
                       return done();
                     }));
  path.insert(path.begin(), keyword("no"));
  rows.push_back(row(config, path, "Remove a static source binding",
                     [](CommandContext& c) -> Result<CommandOutput> {
                       auto b = parse_binding(c);
                       if (!b) return b.error();
                       auto& all = c.model.source_bindings;
                       auto at = std::find(all.begin(), all.end(), *b);
                       if (at == all.end())
                         return refuse("no such ip source binding: {} {} vlan {} Vethernet{}",
                                       c.args[0].text, c.args[1].text, b->vlan, b->veth);
                       all.erase(at);
                       return done();
                     }));
}

}  // namespace

std::vector<CommandSpec> monitor_command_rows() {
  std::vector<CommandSpec> rows;
  monitor_rows(rows);
  binding_rows(rows);
  return rows;
}

}  // namespace vfs::vsm
