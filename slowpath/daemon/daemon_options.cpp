#include "slowpath/daemon/daemon_options.h"

#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <boost/program_options.hpp>

#include "drivers/eswitch.h"
#include "drivers/sim/sim_eswitch.h"
#include "drivers/sim/sim_knobs.h"

namespace po = boost::program_options;

namespace vfs::daemon {
namespace {

po::options_description describe(DaemonOptions& o) {
  po::options_description d("vfswitchd options");
  d.add_options()("help,h", po::bool_switch(&o.help), "print this help and exit")(
      "version", po::bool_switch(&o.version), "print the version and exit")(
      "config", po::value(&o.config), "read options from FILE (same long names, `name = value`)")(
      "driver", po::value(&o.driver)->default_value(o.driver),
      "eSwitch driver: sim (software eSwitch on veth wires) or rte_flow (a NIC in switchdev mode)")(
      "sim-vfs", po::value(&o.sim_vfs)->default_value(o.sim_vfs), "sim: number of VFs (1-15)")(
      "sim-name", po::value(&o.sim_name)->default_value(o.sim_name),
      "sim: name prefix of the wires <NAME>vf<i> and <NAME>up (1-8 chars, a-z 0-9)")(
      "sim-capacity", po::value<std::string>()->default_value(std::to_string(o.sim_capacity)),
      "sim: rule table size (0 or more); past it the sim answers ENOSPC, and the rules it "
      "refused stay in software until a rule is destroyed")(
      "sim-unsupported", po::value<std::string>(),
      "sim: comma-separated rte_flow item/action names (testpmd spelling, e.g. "
      "ipv6,of_push_vlan,meter,sample) the sim refuses with ENOTSUP, as a smaller NIC")(
      "sim-insert-latency-us",
      po::value<std::string>()->default_value(std::to_string(o.sim_insert_latency_us)),
      "sim: microseconds each rule insertion takes (a slow firmware)")(
      "sim-fail-rate", po::value(&o.sim_fail_rate)->default_value(o.sim_fail_rate),
      "sim: probability (0-1) that a rule insertion fails with EBUSY (retried with back-off)")(
      "sim-tap-vfs", po::value<std::string>(),
      "sim: VFs whose wire is a tap device <NAME>vf<i> for a QEMU guest (libvirt <interface "
      "type='ethernet'><target dev='<NAME>vf<i>' managed='no'/>): 'all' or indexes like 0,2")(
      "sim-teardown", po::bool_switch(&o.sim_teardown),
      "sim: delete the wires of --sim-name/--sim-vfs and exit")(
      "pci", po::value(&o.pci), "rte_flow: PCI address of the PF (e.g. 0000:03:00.0)")(
      "representors", po::value(&o.representors)->default_value(o.representors),
      "rte_flow: representor list passed to the PMD (e.g. vf[0-3])")(
      "socket", po::value(&o.socket)->default_value(o.socket), "unix socket of the local API")(
      "state-dir", po::value(&o.state_dir)->default_value(o.state_dir),
      "directory of persistent state (vEthernet registry, startup-config)")(
      "startup-config", po::value(&o.startup_config),
      "configuration replayed at start (default: <state-dir>/startup-config if present)")(
      "foreground", po::bool_switch(&o.foreground), "do not detach; log to stderr")(
      "mac-aging", po::value(&o.mac_aging_s)->default_value(o.mac_aging_s),
      "seconds after which an idle learned MAC is forgotten")(
      "log-level", po::value(&o.log_level)->default_value(o.log_level),
      "debug, info, warn or error");
  return d;
}

Result<void> check(const DaemonOptions& o) {
  if (o.driver != "sim" && o.driver != "rte_flow")
    return make_error(EINVAL, "--driver: unknown driver '{}' (known: sim, rte_flow)", o.driver);
  if (o.sim_vfs < 1 || o.sim_vfs > 15)
    return make_error(EINVAL, "--sim-vfs: {} is out of range 1-15", o.sim_vfs);
  if (!std::regex_match(o.sim_name, std::regex("[a-z0-9]{1,8}")))
    return make_error(EINVAL, "--sim-name: '{}' must be 1-8 characters of a-z and 0-9", o.sim_name);
  if (!(o.sim_fail_rate >= 0 && o.sim_fail_rate <= 1))
    return make_error(EINVAL, "--sim-fail-rate: {} is not a probability (0-1)", o.sim_fail_rate);
  if (o.socket.empty() || o.socket.size() >= 108)
    return make_error(EINVAL, "--socket: '{}' is not a usable unix socket path", o.socket);
  if (o.state_dir.empty()) return make_error(EINVAL, "--state-dir: must not be empty");
  if (o.log_level != "debug" && o.log_level != "info" && o.log_level != "warn" &&
      o.log_level != "error")
    return make_error(EINVAL, "--log-level: '{}' is not debug, info, warn or error", o.log_level);
  return ok();
}

// A non-negative decimal that fits 32 bits (Boost would take "-1" as 4294967295).
Result<uint32_t> parse_count(const char* option, const std::string& text) {
  uint32_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return make_error(EINVAL, "--{}: '{}' is not a number from 0 to {}", option, text, UINT32_MAX);
  return v;
}

// Finds the line of a config file that mentions `option`, for error messages.
int line_of(const std::string& file, const std::string& option) {
  std::ifstream in(file);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto p = line.find_first_not_of(" \t");
    if (p != std::string::npos && line.compare(p, option.size(), option) == 0) return n;
  }
  return 0;
}

// Boost's parser accepts some things that are surely mistakes; catch them with the line.
Result<void> precheck_config_file(const std::string& file, std::istream& in) {
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto p = line.find_first_not_of(" \t\r");
    if (p == std::string::npos || line[p] == '#') continue;
    if (line[p] == '[') continue;
    if (line.find('=') == std::string::npos)
      return make_error(EINVAL, "{}:{}: expected `name = value`, got '{}'", file, n,
                        line.substr(p));
  }
  return ok();
}

}  // namespace

Result<DaemonOptions> parse_daemon_options(int argc, const char* const* argv) {
  DaemonOptions o;
  auto desc = describe(o);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return make_error(EINVAL, "{} (see --help)", e.what());
  }
  std::ostringstream help;
  help << "Usage: vfswitchd [options]\n\nThe vfswitch host daemon: slow path, offload engine and "
          "supervisor.\n"
          "It is ready when its --socket accepts connections.\n\n"
       << desc;
  o.help_text = help.str();
  if (o.help || o.version) return o;
  if (!o.config.empty()) {
    std::error_code ec;
    auto st = std::filesystem::status(o.config, ec);
    if (ec)
      return make_error(ec.value(), "{}: cannot read config file: {}", o.config, ec.message());
    if (!std::filesystem::is_regular_file(st))
      return make_error(EINVAL, "{}: config file is not a regular file", o.config);
    std::ifstream f(o.config);
    if (!f)
      return make_error(errno ? errno : EACCES, "{}: cannot read config file: {}", o.config,
                        std::strerror(errno ? errno : EACCES));
    if (auto pc = precheck_config_file(o.config, f); !pc.ok()) return pc.error();
    f.clear();
    f.seekg(0);
    try {
      // Command-line values win: store() keeps the first value it sees for an option.
      po::store(po::parse_config_file(f, desc, false), vm);
      po::notify(vm);
    } catch (const po::error& e) {
      std::string what = e.what();
      int line = 0;
      if (auto* ue = dynamic_cast<const po::unknown_option*>(&e))
        line = line_of(o.config, ue->get_option_name());
      if (auto* iv = dynamic_cast<const po::invalid_option_value*>(&e))
        line = line_of(o.config, iv->get_option_name());
      if (line == 0) {
        std::smatch m;
        if (std::regex_search(what, m, std::regex("'--?([a-z-]+)'")))
          line = line_of(o.config, m[1].str());
      }
      return make_error(EINVAL, "{}:{}: {}", o.config, line, what);
    }
  }
  for (auto [name, to] : {std::pair{"sim-capacity", &o.sim_capacity},
                          std::pair{"sim-insert-latency-us", &o.sim_insert_latency_us}}) {
    if (!vm.count(name)) continue;
    auto n = parse_count(name, vm[name].as<std::string>());
    if (!n) return n.error();
    *to = n.value();
  }
  if (vm.count("sim-unsupported")) {
    auto names = drivers::sim::parse_sim_unsupported(vm["sim-unsupported"].as<std::string>());
    if (!names) return make_error(EINVAL, "--sim-unsupported: {}", names.error().message);
    o.sim_unsupported = names.value();
  }
  if (vm.count("sim-tap-vfs")) {
    auto taps = drivers::parse_sim_tap_vfs(vm["sim-tap-vfs"].as<std::string>());
    if (!taps) return make_error(EINVAL, "--sim-tap-vfs: {}", taps.error().message);
    o.sim_tap_vfs = taps.value();
    for (int vf : o.sim_tap_vfs)
      if (vf != drivers::kSimAllVfs && vf >= o.sim_vfs)
        return make_error(EINVAL, "--sim-tap-vfs: VF {} is out of range (--sim-vfs {})", vf,
                          o.sim_vfs);
  }
  if (auto c = check(o); !c.ok()) return c.error();
  return o;
}

}  // namespace vfs::daemon
