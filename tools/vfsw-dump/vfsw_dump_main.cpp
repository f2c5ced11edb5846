// tools/vfsw-dump/vfsw_dump_main.cpp: vfsw-dump, the rule-dump tool for troubleshooting
// ("why is this flow not in hardware?"). It asks vfswitchd for its rule table, filters it
// and prints it as a table (default) or JSON. Filtering and formatting live in
// tools/common/rule_view.h so new filters and formats are one entry each.
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <fmt/core.h>
#include <boost/program_options.hpp>

#include "tools/common/api_client.h"
#include "tools/common/rule_view.h"

namespace po = boost::program_options;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int run(int argc, char** argv) {
  po::options_description opts("Options");
  opts.add_options()("help,h", "print this help")(
      "socket,s", po::value<std::string>()->default_value(vfs::tools::kDefaultSocket),
      "vfswitchd's API socket")("json", "print the rules as a JSON array")(
      "veth", po::value<int64_t>(), "only the rules of vEthernet N")(
      "vm", po::value<std::string>(), "only the rules of the VM's vEthernets")(
      "state", po::value<std::string>(), "only rules in STATE: hw, sw, pending or failed")(
      "group", po::value<int64_t>(), "only rules in flow group G")(
      "timeout", po::value<unsigned>()->default_value(60), "seconds to wait for the answer");
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::ostringstream s;
    s << opts;
    fmt::print(
        "Usage: vfsw-dump [--socket PATH] [--json] [--veth N] [--vm NAME] [--state STATE] "
        "[--group G]\n\nPrints vfswitchd's rule table: columns VETH GROUP PRIO STATE PACKETS "
        "BYTES MATCH ACTIONS REASON\n(REASON says why a rule is not in hardware).\n\n{}",
        s.str());
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
  auto format = vm.count("json") ? vfs::tools::RuleFormat::json : vfs::tools::RuleFormat::table;

  auto client = vfs::tools::ApiClient::connect(vm["socket"].as<std::string>(),
                                               std::chrono::seconds(vm["timeout"].as<unsigned>()));
  if (!client) {
    fmt::print(stderr, "vfsw-dump: {}\n", client.error().message);
    return kExitFailed;
  }
  auto resp = client->call({{"op", "dump-rules"}});
  if (!resp) {
    fmt::print(stderr, "vfsw-dump: {}\n", resp.error().message);
    return kExitFailed;
  }
  const auto& r = *resp;
  if (!r["ok"].get<bool>() || !r.contains("rules") || !r["rules"].is_array()) {
    std::string why = r.contains("error") && r["error"].is_string()
                          ? r["error"].get<std::string>()
                          : "the response has no rule list";
    fmt::print(stderr, "vfsw-dump: {}\n", why);
    return kExitFailed;
  }
  fmt::print("{}", vfs::tools::format_rules(vfs::tools::filter_rules(r["rules"], filter), format));
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
