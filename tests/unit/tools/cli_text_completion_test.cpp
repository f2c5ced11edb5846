// tools/common/cli_text: the `?` list and what TAB inserts, from "complete" responses.
#include <doctest/doctest.h>

#include "tools/common/cli_text.h"

using nlohmann::json;
using vfs::tools::render_choices;
using vfs::tools::tab_completion;

namespace {

json response(size_t word_start, json choices, bool can_end = false) {
  return {{"ok", true}, {"word_start", word_start}, {"can_end", can_end}, {"choices", choices}};
}

json kw(const char* w, const char* help) {
  return {{"word", w}, {"help", help}, {"keyword", true}};
}
json arg(const char* w, const char* help) {
  return {{"word", w}, {"help", help}, {"keyword", false}};
}

}  // namespace

TEST_CASE("the ? list pads the words to one column and ends with <CR> when complete") {
  auto r = response(5, {kw("brief", "Show VLANs"), arg("<1-4094>", "VLAN ID")}, true);
  CHECK(render_choices(r, 6) ==
        "  brief     Show VLANs\n"
        "  <1-4094>  VLAN ID\n"
        "  <CR>\n");
  CHECK(render_choices(response(0, json::array()), 0) == "% Unrecognized command\n");
  json bad{{"ok", false}, {"error", "% Invalid command at '^' marker."}, {"error_column", 5}};
  CHECK(render_choices(bad, 6) == "           ^\n% Invalid command at '^' marker.\n");
}

TEST_CASE("TAB: the rest of a unique keyword, a shared prefix, or the list") {
  auto a = tab_completion(response(0, {kw("configure", "")}), "conf");
  CHECK(a.insert == "igure ");
  CHECK_FALSE(a.list);
  a = tab_completion(response(5, {kw("terminal", "")}), "CONF T");  // case as typed is kept
  CHECK(a.insert == "erminal ");
  a = tab_completion(response(0, {kw("vethernet", ""), kw("virtual", "")}), "v");
  CHECK(a.insert.empty());
  CHECK(a.list);
  a = tab_completion(response(0, {kw("port-profile", ""), kw("port-channel", "")}), "po");
  CHECK(a.insert == "rt-");
  a = tab_completion(response(4, {arg("NAME", "")}), "vlan ");
  CHECK(a.insert.empty());
  CHECK(a.list);
  a = tab_completion(response(7, {kw("vlan", "")}), "switch vlan");  // already whole
  CHECK(a.insert == " ");
  a = tab_completion(response(0, json::array()), "xyz");
  CHECK(a.insert.empty());
  CHECK_FALSE(a.list);
  a = tab_completion(json{{"ok", false}, {"error", "x"}}, "x");
  CHECK(a.insert.empty());
  // A malformed response does not throw or read past the line.
  a = tab_completion(json{{"ok", true}, {"word_start", 99}, {"choices", {kw("ab", "")}}}, "a");
  CHECK(a.insert == "ab ");
}
