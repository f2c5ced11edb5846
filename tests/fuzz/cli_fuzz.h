// tests/fuzz/cli_fuzz.h owns the CLI fuzzer shared by the libFuzzer target
// (tests/fuzz/cli_fuzz.cpp) and the bounded doctest run in unit_vsm
// (tests/unit/vsm/cli_fuzz_test.cpp): lines built from the command table — random words
// for each token, then mutated (tokens dropped, repeated, truncated, bytes flipped) — run
// through a Supervisor on a FakeDataplane. Checked after every line: a failing line leaves
// the model, the session and the applied datapath configuration as they were; and now and
// then the running-config replays to the same model.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "vsm/config_replay.h"
#include "vsm/fake_dataplane.h"
#include "vsm/running_config.h"
#include "vsm/supervisor.h"

namespace vfs::vsm::fuzz {

class CliFuzzer {
 public:
  explicit CliFuzzer(const std::string& state_dir)
      : dataplane_(8), supervisor_(dataplane_, SupervisorOptions{state_dir, {}}) {}

  Result<void> start() { return supervisor_.restore(); }

  // Runs one line; the broken invariant if there is one.
  std::optional<std::string> run(std::string_view line) {
    const SwitchModel before = supervisor_.model();
    const CliSession session_before = session_;
    const int applied = dataplane_.applied();
    CliOutcome r = supervisor_.execute(session_, line);
    if (r.ok) return std::nullopt;
    if (!(supervisor_.model() == before)) return "a failing line changed the model";
    if (session_.mode != session_before.mode || session_.profile != session_before.profile ||
        session_.acl != session_before.acl || session_.veth != session_before.veth ||
        session_.vlans != session_before.vlans ||
        session_.policy_map != session_before.policy_map ||
        session_.monitor != session_before.monitor)
      return "a failing line changed the session";
    if (dataplane_.applied() != applied) return "a failing line reached the datapath";
    if (r.failure.message.empty()) return "a failing line gave no reason";
    return std::nullopt;
  }

  // The running-config must replay to the current model.
  std::optional<std::string> check_round_trip() const {
    const SwitchModel m = supervisor_.model();
    const std::string text = render_running_config(m);
    auto back = replay_config(SwitchModel{}, supervisor_.registry(), text, "running-config");
    if (!back) return "running-config does not replay: " + back.error().message;
    if (!(*back == m)) return "running-config replays to another model:\n" + text;
    return std::nullopt;
  }

  void reset_session() { session_ = CliSession{}; }

 private:
  testing::FakeDataplane dataplane_;
  Supervisor supervisor_;
  CliSession session_;
};

// Lines from the command table, mutated.
class LineGenerator {
 public:
  explicit LineGenerator(uint64_t seed) : rng_(seed) {}

  std::string line() {
    auto table = command_table();
    const CommandSpec& row = table[pick(table.size())];
    std::vector<std::string> toks;
    for (const auto& t : row.path) toks.push_back(token(t));
    if (row.is_show && chance(10))
      toks.push_back(pick_of({"| json", "| count", "| include a", "| begin [", "| exclude x"}));
    if (chance(4)) mutate(toks);
    std::string s;
    for (const auto& t : toks) {
      if (!s.empty()) s += chance(20) ? "\t" : " ";
      s += t;
    }
    if (chance(30)) s.insert(pick(s.size() + 1), 1, static_cast<char>(pick(256)));
    return s;
  }

  bool chance(size_t one_in) { return pick(one_in) == 0; }
  size_t pick(size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }

 private:
  std::string pick_of(std::initializer_list<const char*> xs) {
    return *(xs.begin() + static_cast<long>(pick(xs.size())));
  }

  std::string token(const TokenSpec& t) {
    switch (t.kind) {
      case TokenSpec::Kind::keyword:
        if (chance(3)) return t.name.substr(0, 1 + pick(t.name.size()));
        return t.name;
      case TokenSpec::Kind::number:
        if (chance(8)) return pick_of({"0", "4294967296", "-1", "99999999999", "x"});
        if (chance(2)) return std::to_string(t.min + pick(std::min<size_t>(t.max - t.min + 1, 30)));
        return std::to_string(t.min + pick(size_t{t.max} - t.min + 1));
      case TokenSpec::Kind::vlan_list:
        return pick_of({"1", "10", "10-20,30", "4094", "4095", "5-3", "2,,3", "10-4094", "20"});
      case TokenSpec::Kind::word:
        return pick_of({"web",
                        "db",
                        "a",
                        "web-in",
                        "v6",
                        "alice",
                        "bob",
                        "root",
                        "Bad$",
                        "x|y",
                        std::string(100, 'n').c_str(),
                        "slow",
                        "macs",
                        "0000.1111.2222",
                        "52:54:00:ab:cd:01",
                        "0000.1111",
                        "10.0.0.5",
                        "2001:db8::5",
                        "10.50",
                        "100",
                        "100.001",
                        "7.5",
                        "-1"});
      case TokenSpec::Kind::text:
        return pick_of({"tcp any any eq 80", "ip 10.0.0.0/8 host 10.1.1.1", "udp any range 1 2 any",
                        "icmp any any 8 0", "ipv6 2001:db8::/32 any", "tcp any any established",
                        "ip 10.0.0.0 0.0.0.255 any", "tcp any any range 9 1", "hello world",
                        "47 any any", "ip any", "icmp any any 300", "any any",
                        "host 0000.1111.2222 any 0x0806", "0060.3e00.0000 0000.00ff.ffff any arp",
                        "any host 0000.1111 any", "any any 0x05ff", "any any ipv6"});
    }
    return "?";
  }

  void mutate(std::vector<std::string>& toks) {
    if (toks.empty()) return;
    switch (pick(5)) {
      case 0:
        toks.erase(toks.begin() + static_cast<long>(pick(toks.size())));
        break;
      case 1:
        toks.insert(toks.begin() + static_cast<long>(pick(toks.size() + 1)),
                    toks[pick(toks.size())]);
        break;
      case 2:
        toks.resize(pick(toks.size()) + 1);
        break;
      case 3: {
        std::string& t = toks[pick(toks.size())];
        if (!t.empty()) t[pick(t.size())] = static_cast<char>(0x20 + pick(0x5f));
        break;
      }
      default:
        toks.insert(toks.begin(), "no");
        break;
    }
  }

  std::mt19937_64 rng_;
};

}  // namespace vfs::vsm::fuzz
