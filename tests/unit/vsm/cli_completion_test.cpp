// `?` help and TAB completion from the command table, and the API's complete request.
#include <doctest/doctest.h>

#include <algorithm>

#include "vsm/api_session.h"
#include "vsm/cli_commands.h"
#include "vsm/cli_completion.h"
#include "vsm/vsm_test_support.h"

using namespace vfs::vsm;
using vfs::vsm::testing::TestSwitch;

namespace {

std::vector<std::string> words(const Completion& c) {
  std::vector<std::string> out;
  for (const auto& ch : c.choices) out.push_back(ch.word);
  return out;
}

bool has(const Completion& c, const std::string& w) {
  auto ws = words(c);
  return std::find(ws.begin(), ws.end(), w) != ws.end();
}

const CompletionChoice* find(const Completion& c, const std::string& w) {
  for (const auto& ch : c.choices)
    if (ch.word == w) return &ch;
  return nullptr;
}

}  // namespace

TEST_CASE("the next words of a line, with their help") {
  auto c = complete_line(command_table(), "", Mode::exec);
  CHECK_FALSE(c.failure);
  CHECK(c.word_start == 0);
  CHECK(has(c, "configure"));
  CHECK(has(c, "show"));
  CHECK(has(c, "checkpoint"));
  CHECK_FALSE(has(c, "vlan"));  // a config command
  CHECK(find(c, "show")->help == "Show running system information");
  CHECK_FALSE(c.can_end);

  c = complete_line(command_table(), "conf", Mode::exec);
  CHECK(words(c) == std::vector<std::string>{"configure"});
  CHECK(c.word_start == 0);
  c = complete_line(command_table(), "conf ", Mode::exec);
  CHECK(words(c) == std::vector<std::string>{"terminal"});
  CHECK(c.word_start == 5);
  c = complete_line(command_table(), "conf t ", Mode::exec);
  CHECK(c.choices.empty());
  CHECK(c.can_end);

  c = complete_line(command_table(), "sh int ", Mode::exec);
  CHECK(has(c, "brief"));
  CHECK(has(c, "virtual"));
  CHECK(has(c, "vethernet"));
  CHECK(find(c, "brief")->help == "Show the status of every vEthernet interface");
  c = complete_line(command_table(), "show interface vethernet ", Mode::exec);
  REQUIRE(c.choices.size() == 1);
  CHECK(c.choices[0].word == "<1-1048575>");
  CHECK_FALSE(c.choices[0].keyword);
  c = complete_line(command_table(), "show interface vethernet 3 ", Mode::exec);
  CHECK(has(c, "counters"));
  CHECK(has(c, "|"));
  CHECK(c.can_end);
}

TEST_CASE("sub-modes offer their own words, their parents' and exec's") {
  auto c = complete_line(command_table(), "", Mode::config);
  CHECK(has(c, "vlan"));
  CHECK(has(c, "port-profile"));
  CHECK(has(c, "end"));
  CHECK(has(c, "show"));  // exec commands run from every mode
  c = complete_line(command_table(), "sw", Mode::config_port_prof);
  CHECK(words(c) == std::vector<std::string>{"switchport"});
  c = complete_line(command_table(), "switchport mode ", Mode::config_port_prof);
  CHECK(has(c, "access"));
  CHECK(has(c, "trunk"));
  c = complete_line(command_table(), "description ", Mode::config_port_prof);
  CHECK(c.choices.size() == 1);
  CHECK_FALSE(c.choices[0].keyword);
  c = complete_line(command_table(), "description a b c ", Mode::config_port_prof);
  CHECK(c.can_end);
  CHECK(c.choices.empty());
}

TEST_CASE("pipes complete too") {
  auto c = complete_line(command_table(), "show vlan brief | ", Mode::exec);
  CHECK(words(c) ==
        std::vector<std::string>{"begin", "count", "exclude", "include", "json", "no-more"});
  c = complete_line(command_table(), "show vlan brief | in", Mode::exec);
  CHECK(words(c) == std::vector<std::string>{"include"});
  c = complete_line(command_table(), "show vlan brief | include ", Mode::exec);
  CHECK(words(c) == std::vector<std::string>{"RE"});
  c = complete_line(command_table(), "show vlan brief | include web ", Mode::exec);
  CHECK(words(c) == std::vector<std::string>{"|"});
  CHECK(c.can_end);
}

TEST_CASE("a line that does not parse gets the caret, not choices") {
  auto c = complete_line(command_table(), "show vlna ", Mode::exec);
  REQUIRE(c.failure);
  CHECK(c.failure->message == "Invalid command at '^' marker.");
  CHECK(c.failure->column == 5);
  CHECK(c.choices.empty());
  c = complete_line(command_table(), "sh int v ", Mode::exec);
  REQUIRE(c.failure);
  CHECK(c.failure->message == "Ambiguous command at '^' marker.");
  c = complete_line(command_table(), "show interface vethernet 0 ", Mode::exec);
  REQUIRE(c.failure);
  CHECK(c.failure->column == 25);
  c = complete_line(command_table(), "xyz", Mode::exec);  // only the word being typed is wrong
  CHECK_FALSE(c.failure);
  CHECK(c.choices.empty());
}

TEST_CASE("every keyword the completion offers is one the matcher accepts") {
  // Walk two levels from each mode: completing with any offered keyword parses further.
  for (Mode m : {Mode::exec, Mode::config, Mode::config_port_prof, Mode::config_if}) {
    for (const auto& first : complete_line(command_table(), "", m).choices) {
      if (!first.keyword) continue;
      auto next = complete_line(command_table(), first.word + " ", m);
      INFO(first.word);
      CHECK_FALSE(next.failure);
      CHECK((next.can_end || !next.choices.empty()));
    }
  }
}

TEST_CASE("the API's complete request") {
  TestSwitch sw;
  ApiSession api(*sw.supervisor, Caller{0, "root"});
  auto r = nlohmann::json::parse(api.handle(R"({"op":"complete","line":"conf"})"));
  CHECK(r["ok"] == true);
  CHECK(r["word_start"] == 0);
  REQUIRE(r["choices"].size() == 1);
  CHECK(r["choices"][0]["word"] == "configure");
  CHECK(r["choices"][0]["keyword"] == true);
  CHECK(r["choices"][0]["help"] == "Enter configuration mode");

  // The connection's mode by default, after a cli request kept it.
  api.handle(R"({"op":"cli","commands":["conf t"],"keep_mode":true})");
  r = nlohmann::json::parse(api.handle(R"({"op":"complete","line":"vl"})"));
  CHECK(r["choices"][0]["word"] == "vlan");
  r = nlohmann::json::parse(api.handle(R"({"op":"complete","line":"vl","mode":"exec"})"));
  CHECK(r["choices"].empty());

  r = nlohmann::json::parse(api.handle(R"({"op":"complete","line":"show vlna "})"));
  CHECK(r["ok"] == false);
  CHECK(r["error"] == "% Invalid command at '^' marker.");
  CHECK(r["error_column"] == 5);
  r = nlohmann::json::parse(api.handle(R"({"op":"complete","line":"x","mode":"nope"})"));
  CHECK(r["error"] == "'mode' in complete request: unknown mode 'nope'");
  r = nlohmann::json::parse(api.handle(R"({"op":"complete"})"));
  CHECK(r["error"] == "complete request has no 'line' field");
  r = nlohmann::json::parse(api.handle(R"({"op":"complete","line":1})"));
  CHECK(r["ok"] == false);

  ApiSession stranger(*sw.supervisor, Caller{4321, "nobody"});
  r = nlohmann::json::parse(stranger.handle(R"({"op":"complete","line":""})"));
  CHECK(r["ok"] == false);
}
