// tools/vfsw/vfsw_main.cpp: vfsw, the appliance CLI client of vfswitchd. It sends CLI
// commands (-c, or an interactive prompt) and the attach/detach verbs the libvirt hook
// uses to the daemon's local API, and prints what the daemon answers.
//
// The interactive prompt keeps its mode across lines because the daemon keeps one CLI
// session per connection ("keep_mode": true), so vfsw holds a single connection open. On
// a terminal it edits lines with libedit (history, `?`, TAB: terminal_session.h); from a
// pipe it reads plain lines.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <boost/program_options.hpp>

#include "tools/common/api_client.h"
#include "tools/common/cli_text.h"
#include "tools/vfsw/terminal_session.h"

namespace po = boost::program_options;
using vfs::tools::ApiClient;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

const char* const kUsage =
    "Usage:\n"
    "  vfsw [--socket PATH] -c \"CMD ; CMD ; ...\"   run CLI commands in order\n"
    "  vfsw [--socket PATH]                        interactive prompt; the mode is kept across\n"
    "                                              lines, exit or quit in exec mode leaves. On a\n"
    "                                              terminal: line editing, history, ? lists the\n"
    "                                              next words, TAB completes\n"
    "  vfsw [--socket PATH] attach --vf I --profile NAME --vm NAME [--vm-uuid U] [--mac M]\n"
    "                                              bind a VF to a VM vNIC, print its vEthernet "
    "number\n"
    "  vfsw [--socket PATH] detach --vf I          unbind a VF\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int fail(const std::string& msg) {
  fmt::print(stderr, "vfsw: {}\n", msg);
  return kExitFailed;
}

int run_commands(ApiClient& client, const std::vector<std::string>& commands) {
  auto resp = client.call({{"op", "cli"}, {"commands", commands}});
  if (!resp) return fail(resp.error().message);
  const auto& r = *resp;
  if (r.contains("output") && r["output"].is_string())
    fmt::print("{}", r["output"].get<std::string>());
  std::fflush(stdout);
  if (r["ok"].get<bool>()) return kExitOk;
  std::string cmd = r.contains("failed_command") && r["failed_command"].is_string()
                        ? r["failed_command"].get<std::string>()
                        : "?";
  std::string lead = "vfsw: command failed: ";
  fmt::print(stderr, "{}{}\n{}\n", lead, cmd, vfs::tools::render_cli_error(r, lead.size()));
  return kExitFailed;
}

int interactive(ApiClient& client) {
  const bool tty = ::isatty(STDIN_FILENO);
  if (tty && ::isatty(STDOUT_FILENO)) return vfs::tools::run_terminal_session(client);
  std::string prompt = "vfsw# ";
  std::string mode = "exec";
  std::string line;
  while (true) {
    if (tty) {
      fmt::print("{}", prompt);
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line)) break;
    std::string cmd = line;
    while (!cmd.empty() && (cmd.back() == ' ' || cmd.back() == '\t' || cmd.back() == '\r'))
      cmd.pop_back();
    size_t first = cmd.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    std::string word = cmd.substr(first);
    if (mode == "exec" && (word == "exit" || word == "quit" || word == "logout")) break;

    auto resp = client.call({{"op", "cli"}, {"commands", {cmd}}, {"keep_mode", true}});
    if (!resp) {
      fmt::print(stderr, "vfsw: {}\n", resp.error().message);
      auto again = ApiClient::connect(client.socket_path(), client.timeout());
      if (!again) return fail(again.error().message);
      client = std::move(*again);
      prompt = "vfsw# ";
      mode = "exec";
      fmt::print(stderr, "vfsw: reconnected; the session restarted in exec mode\n");
      continue;
    }
    const auto& r = *resp;
    if (r.contains("output") && r["output"].is_string())
      fmt::print("{}", r["output"].get<std::string>());
    std::fflush(stdout);
    if (!r["ok"].get<bool>()) {
      if (tty) {
        fmt::print(stderr, "{}\n", vfs::tools::render_cli_error(r, prompt.size()));
      } else {
        fmt::print(stderr, "{}\n{}\n", cmd, vfs::tools::render_cli_error(r, 0));
      }
    }
    if (r.contains("prompt") && r["prompt"].is_string()) prompt = r["prompt"].get<std::string>();
    if (r.contains("mode") && r["mode"].is_string()) mode = r["mode"].get<std::string>();
  }
  if (tty) fmt::print("\n");
  return kExitOk;
}

// attach/detach options become the API request before anything is sent.
nlohmann::json attach_request(const std::vector<std::string>& args) {
  po::options_description opts("attach options");
  opts.add_options()("vf", po::value<int>()->required(), "VF index")(
      "profile", po::value<std::string>()->required(), "port-profile to inherit")(
      "vm", po::value<std::string>()->required(), "VM name")(
      "vm-uuid", po::value<std::string>()->default_value(""), "VM UUID")(
      "mac", po::value<std::string>()->default_value(""), "vNIC MAC address");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  po::notify(vm);
  return {{"op", "attach"},
          {"vf", vm["vf"].as<int>()},
          {"profile", vm["profile"].as<std::string>()},
          {"vm", vm["vm"].as<std::string>()},
          {"vm_uuid", vm["vm-uuid"].as<std::string>()},
          {"mac", vm["mac"].as<std::string>()}};
}

nlohmann::json detach_request(const std::vector<std::string>& args) {
  po::options_description opts("detach options");
  opts.add_options()("vf", po::value<int>()->required(), "VF index");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  po::notify(vm);
  return {{"op", "detach"}, {"vf", vm["vf"].as<int>()}};
}

int run_verb(ApiClient& client, const std::string& verb, const nlohmann::json& req) {
  auto resp = client.call(req);
  if (!resp) return fail(resp.error().message);
  const auto& r = *resp;
  if (!r["ok"].get<bool>()) {
    std::string why = r.contains("error") && r["error"].is_string() ? r["error"].get<std::string>()
                                                                    : "(no reason given)";
    return fail(verb + " failed: " + why);
  }
  if (verb == "attach") {
    if (!r.contains("veth") || !r["veth"].is_number_integer() || r["veth"].get<int64_t>() < 1)
      return fail("attach: the daemon returned no vEthernet number");
    fmt::print("{}\n", r["veth"].get<int64_t>());
  }
  return kExitOk;
}

int run(int argc, char** argv) {
  po::options_description visible("Options");
  visible.add_options()("help,h", "print this help")(
      "socket,s", po::value<std::string>()->default_value(vfs::tools::kDefaultSocket),
      "vfswitchd's API socket")("command,c", po::value<std::string>(),
                                "commands separated by ';', run in order from exec mode")(
      "timeout", po::value<unsigned>()->default_value(60), "seconds to wait for each answer");
  po::options_description hidden;
  hidden.add_options()("verb", po::value<std::string>())("verb-args",
                                                         po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description pos;
  pos.add("verb", 1).add("verb-args", -1);

  auto parsed =
      po::command_line_parser(argc, argv).options(all).positional(pos).allow_unregistered().run();
  po::variables_map vm;
  po::store(parsed, vm);
  po::notify(vm);
  if (vm.count("help")) {
    fmt::print("{}\n{}\n", kUsage, [&] {
      std::ostringstream s;
      s << visible;
      return s.str();
    }());
    fmt::print(
        "attach options:\n  --vf I            VF index on this host\n  --profile NAME    "
        "port-profile "
        "(must be 'state enabled')\n  --vm NAME         VM name\n  --vm-uuid U       VM UUID "
        "(optional; identifies the VM if given)\n  --mac M           vNIC MAC (optional; keeps the "
        "vEthernet number if the VF changes)\n\ndetach options:\n  --vf I            VF index\n");
    return kExitOk;
  }

  auto rest = po::collect_unrecognized(parsed.options, po::include_positional);
  std::string verb = vm.count("verb") ? vm["verb"].as<std::string>() : "";
  if (!verb.empty()) {
    if (rest.empty() || rest.front() != verb)
      throw UsageError("unknown option '" + (rest.empty() ? verb : rest.front()) + "'");
    rest.erase(rest.begin());
    if (verb != "attach" && verb != "detach")
      throw UsageError("unknown verb '" + verb + "' (expected attach or detach)");
    if (vm.count("command")) throw UsageError("-c cannot be combined with " + verb);
  } else if (!rest.empty()) {
    throw UsageError("unknown option '" + rest.front() + "'");
  }

  std::vector<std::string> commands;
  if (vm.count("command")) {
    commands = vfs::tools::split_commands(vm["command"].as<std::string>());
    if (commands.empty()) throw UsageError("-c needs at least one command");
  }
  nlohmann::json verb_req;
  if (verb == "attach") verb_req = attach_request(rest);
  if (verb == "detach") verb_req = detach_request(rest);

  auto client = ApiClient::connect(vm["socket"].as<std::string>(),
                                   std::chrono::seconds(vm["timeout"].as<unsigned>()));
  if (!client) return fail(client.error().message);
  if (!verb.empty()) return run_verb(*client, verb, verb_req);
  if (!commands.empty()) return run_commands(*client, commands);
  return interactive(*client);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    fmt::print(stderr, "vfsw: {}\nTry 'vfsw --help'.\n", e.what());
  } catch (const po::error& e) {
    fmt::print(stderr, "vfsw: {}\nTry 'vfsw --help'.\n", e.what());
  }
  return kExitUsage;
}
