// tools/vfsw-dump/vfsw_dump_main.cpp: vfsw-dump, the rule-dump tool for troubleshooting
// ("why is this flow not in hardware?"). It asks vfswitchd for its rule table, filters it
// and prints it as a table (default), JSON, testpmd lines, or a table refreshed with
// counter deltas (--watch); --explain walks a packet through the table. Filtering and
// formatting live in tools/common/rule_view.h, the walk in tools/common/rule_explain.h,
// so that they are unit-tested without a daemon.
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/core.h>
#include <boost/program_options.hpp>

#include "tools/common/api_client.h"
#include "tools/common/packet_text.h"
#include "tools/common/rule_explain.h"
#include "tools/common/rule_view.h"

namespace po = boost::program_options;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr double kDefaultWatchSeconds = 2;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr const char* kUsage =
    "Usage: vfsw-dump [--socket PATH] [--veth N] [--vm NAME] [--state STATE] [--group G]\n"
    "                 [--json | --testpmd [--proxy-port P] | --watch [SECONDS] [--count N]]\n"
    "       vfsw-dump [--socket PATH] --explain N 'PACKET'\n"
    "\n"
    "Prints vfswitchd's rule table: columns VETH GROUP PRIO STATE PACKETS BYTES MATCH ACTIONS\n"
    "REASON (REASON says why a rule is not in hardware). The filters combine.\n"
    "  --json      the rules as a JSON array\n"
    "  --testpmd   each rule as the testpmd command(s) that create it ('set sample_actions'\n"
    "              lines before a rule that mirrors), on the transfer proxy port P\n"
    "  --watch     the table again every SECONDS (default 2), with +PACKETS and +BYTES: the\n"
    "              counters' growth since the previous refresh; --count N stops after N\n"
    "  --explain N 'PACKET'\n"
    "              walks PACKET from vEthernet N's port through the table, group by group:\n"
    "              the hardware rule that matches, or the miss (the slow path decides), and\n"
    "              for a rule that would match but is not in hardware its state and reason.\n"
    "              PACKET: tcp|udp ADDR:PORT > ADDR:PORT, icmp|ip ADDR > ADDR, tcp6 udp6\n"
    "              icmp6 ipv6 for IPv6 ([2001:db8::1]:80), then any of: vlan VID, from MAC,\n"
    "              to MAC, flags S|A|R|F|P|U|E|C, type N, code N, proto N, fragment.\n"
    "              from defaults to the MAC vEthernet N's group-0 rules admit, to to\n"
    "              ff:ff:ff:ff:ff:ff; tcp flags to S.\n"
    "  e.g. vfsw-dump --explain 3 'tcp 10.0.0.5:1234 > 10.0.0.9:80 to 52:54:00:00:00:09'\n";

vfs::Result<nlohmann::json> fetch_rules(vfs::tools::ApiClient& client) {
  auto resp = client.call({{"op", "dump-rules"}});
  if (!resp) return resp.error();
  const auto& r = *resp;
  if (!r["ok"].get<bool>() || !r.contains("rules") || !r["rules"].is_array()) {
    std::string why = r.contains("error") && r["error"].is_string()
                          ? r["error"].get<std::string>()
                          : "the response has no rule list";
    return vfs::make_error(EPROTO, "{}", why);
  }
  return r["rules"];
}

std::string clock_text() {
  const std::time_t t = std::time(nullptr);
  char buf[32] = {};
  std::tm tm{};
  localtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

int run(int argc, char** argv) {
  po::options_description opts("Options");
  opts.add_options()("help,h", "print this help")(
      "socket,s", po::value<std::string>()->default_value(vfs::tools::kDefaultSocket),
      "vfswitchd's API socket")("json", "print the rules as a JSON array")(
      "testpmd", "print each rule as testpmd commands")(
      "proxy-port", po::value<unsigned>()->default_value(0),
      "--testpmd: the transfer proxy ethdev port the rules are created on")(
      "watch", po::value<double>()->implicit_value(kDefaultWatchSeconds),
      "refresh the table every SECONDS with counter deltas")("count", po::value<unsigned>(),
                                                             "--watch: stop after N refreshes")(
      "explain", po::value<int64_t>(), "walk PACKET from vEthernet N through the rules")(
      "packet", po::value<std::string>(), "the PACKET of --explain")(
      "veth", po::value<int64_t>(), "only the rules of vEthernet N")(
      "vm", po::value<std::string>(), "only the rules of the VM's vEthernets")(
      "state", po::value<std::string>(), "only rules in STATE: hw, sw, pending or failed")(
      "group", po::value<int64_t>(), "only rules in flow group G")(
      "timeout", po::value<unsigned>()->default_value(60), "seconds to wait for the answer");
  po::positional_options_description positional;
  positional.add("packet", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(opts).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::ostringstream s;
    s << opts;
    fmt::print("{}\n{}", kUsage, s.str());
    return kExitOk;
  }

  vfs::tools::RuleFilter filter;
  if (vm.count("veth")) filter.veth = vm["veth"].as<int64_t>();
  if (vm.count("group")) filter.group = vm["group"].as<int64_t>();
  if (vm.count("vm")) filter.vm = vm["vm"].as<std::string>();
  if (vm.count("state")) {
    filter.state = vm["state"].as<std::string>();
    if (!vfs::tools::is_rule_state(*filter.state))
      throw UsageError("--state must be hw, sw, pending or failed, not '" + *filter.state + "'");
  }
  const bool filtered = filter.veth || filter.group || filter.vm || filter.state;
  const int modes = static_cast<int>(vm.count("json") + vm.count("testpmd") + vm.count("watch") +
                                     vm.count("explain"));
  if (modes > 1) throw UsageError("--json, --testpmd, --watch and --explain exclude each other");
  if (vm.count("packet") && !vm.count("explain"))
    throw UsageError("unexpected argument '" + vm["packet"].as<std::string>() +
                     "' (a PACKET goes with --explain N)");
  if (vm.count("count") && !vm.count("watch")) throw UsageError("--count goes with --watch");
  if (!vm["proxy-port"].defaulted() && !vm.count("testpmd"))
    throw UsageError("--proxy-port goes with --testpmd");
  if (vm["proxy-port"].as<unsigned>() > UINT16_MAX)
    throw UsageError("--proxy-port must be an ethdev port id (0 to 65535)");

  // The packet is checked before the daemon is asked anything.
  std::optional<vfs::tools::PacketText> packet;
  if (vm.count("explain")) {
    if (filtered) throw UsageError("--explain walks the whole rule table: it takes no filter");
    if (!vm.count("packet"))
      throw UsageError("--explain N needs a PACKET, e.g. 'tcp 10.0.0.5:1234 > 10.0.0.9:80'");
    auto p = vfs::tools::parse_packet(vm["packet"].as<std::string>());
    if (!p) throw UsageError(p.error().message);
    packet = std::move(*p);
  }
  double watch_s = 0;
  if (vm.count("watch")) {
    watch_s = vm["watch"].as<double>();
    if (!(watch_s >= 0.1 && watch_s <= 86400))
      throw UsageError("--watch SECONDS must be from 0.1 to 86400");
  }
  if (vm.count("count") && vm["count"].as<unsigned>() == 0)
    throw UsageError("--count must be at least 1");

  auto client = vfs::tools::ApiClient::connect(vm["socket"].as<std::string>(),
                                               std::chrono::seconds(vm["timeout"].as<unsigned>()));
  if (!client) {
    fmt::print(stderr, "vfsw-dump: {}\n", client.error().message);
    return kExitFailed;
  }

  if (vm.count("watch")) {
    const unsigned count = vm.count("count") ? vm["count"].as<unsigned>() : 0;
    const bool tty = isatty(STDOUT_FILENO) == 1;
    nlohmann::json before;
    for (unsigned i = 0; count == 0 || i < count; ++i) {
      if (i > 0) std::this_thread::sleep_for(std::chrono::duration<double>(watch_s));
      auto rules = fetch_rules(*client);
      if (!rules) {
        fmt::print(stderr, "vfsw-dump: {}\n", rules.error().message);
        return kExitFailed;
      }
      auto view = vfs::tools::filter_rules(vfs::tools::with_deltas(*rules, before), filter);
      if (tty)
        fmt::print("\033[H\033[2J");
      else if (i > 0)
        fmt::print("\n");
      fmt::print("vfsw-dump: refresh {} at {}, every {}s (+ columns: since the previous)\n", i + 1,
                 clock_text(), watch_s);
      fmt::print("{}", vfs::tools::format_rules(view, vfs::tools::RuleFormat::watch));
      std::fflush(stdout);
      before = std::move(*rules);
    }
    return kExitOk;
  }

  auto rules = fetch_rules(*client);
  if (!rules) {
    fmt::print(stderr, "vfsw-dump: {}\n", rules.error().message);
    return kExitFailed;
  }
  if (packet) {
    auto text = vfs::tools::explain_packet(*rules, vm["explain"].as<int64_t>(), *packet);
    if (!text) {
      fmt::print(stderr, "vfsw-dump: {}\n", text.error().message);
      return kExitFailed;
    }
    fmt::print("{}", *text);
    return kExitOk;
  }
  const auto view = vfs::tools::filter_rules(*rules, filter);
  if (vm.count("testpmd")) {
    auto lines =
        vfs::tools::format_testpmd(view, static_cast<uint16_t>(vm["proxy-port"].as<unsigned>()));
    fmt::print("{}", lines.text);
    for (const auto& e : lines.errors) fmt::print(stderr, "vfsw-dump: {}\n", e);
    return lines.errors.empty() ? kExitOk : kExitFailed;
  }
  auto format = vm.count("json") ? vfs::tools::RuleFormat::json : vfs::tools::RuleFormat::table;
  fmt::print("{}", vfs::tools::format_rules(view, format));
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    fmt::print(stderr, "vfsw-dump: {}\nTry 'vfsw-dump --help'.\n", e.what());
  } catch (const po::error& e) {
    fmt::print(stderr, "vfsw-dump: {}\nTry 'vfsw-dump --help'.\n", e.what());
  }
  return kExitUsage;
}
