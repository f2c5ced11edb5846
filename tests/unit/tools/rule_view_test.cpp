// tools/common/rule_view: vfsw-dump's filters and formats.
#include <doctest/doctest.h>

#include "tools/common/rule_view.h"

using nlohmann::json;
using namespace vfs::tools;

namespace {
json sample() {
  return json::array({
      {{"veth", 1},
       {"vm", "vm1"},
       {"group", 0},
       {"priority", 1},
       {"match", "eth src 52:54:00:00:00:01"},
       {"actions", "jump 1"},
       {"state", "hw"},
       {"reason", ""},
       {"packets", 10},
       {"bytes", 1000}},
      {{"veth", 1},
       {"vm", "vm1"},
       {"group", 2},
       {"priority", 0},
       {"match", "eth dst 52:54:00:00:00:02"},
       {"actions", "port 3"},
       {"state", "failed"},
       {"reason", "ENOSPC: table full"},
       {"packets", 0},
       {"bytes", 0}},
      {{"veth", 2},
       {"vm", "vm2"},
       {"group", 2},
       {"priority", 0},
       {"match", "any"},
       {"actions", "drop"},
       {"state", "sw"},
       {"reason", "ENOTSUP"},
       {"packets", 4},
       {"bytes", 256}},
  });
}
}  // namespace

TEST_CASE("filters select by vEthernet, VM, state and group") {
  CHECK(filter_rules(sample(), {}).size() == 3);
  CHECK(filter_rules(sample(), {.veth = 1}).size() == 2);
  CHECK(filter_rules(sample(), {.vm = "vm2"}).size() == 1);
  CHECK(filter_rules(sample(), {.state = "failed"})[0]["reason"] == "ENOSPC: table full");
  CHECK(filter_rules(sample(), {.group = 2}).size() == 2);
  CHECK(filter_rules(sample(), {.veth = 1, .group = 2}).size() == 1);
  CHECK(filter_rules(sample(), {.veth = 9}).empty());
  CHECK(filter_rules(json::object(), {}).empty());
  // mistyped fields never match a filter on them, and never throw
  CHECK(filter_rules(json::array({{{"veth", "1"}}, 7, nullptr}), {.veth = 1}).empty());
  CHECK(is_rule_state("pending"));
  CHECK_FALSE(is_rule_state("HW"));
}

TEST_CASE("the table has the documented columns, aligned") {
  std::string t = format_rules(sample(), RuleFormat::table);
  CHECK(t ==
        "VETH  GROUP  PRIO  STATE   PACKETS  BYTES  MATCH                      ACTIONS  REASON\n"
        "1     0      1     hw      10       1000   eth src 52:54:00:00:00:01  jump 1   -\n"
        "1     2      0     failed  0        0      eth dst 52:54:00:00:00:02  port 3   ENOSPC: "
        "table full\n"
        "2     2      0     sw      4        256    any                        drop     ENOTSUP\n");
  // missing fields show as '-', control characters cannot break lines
  t = format_rules(json::array({{{"veth", 3}, {"match", "a\nb"}}}), RuleFormat::table);
  CHECK(t.find("3     -      -     -      -        -      a?b    -        -\n") !=
        std::string::npos);
  CHECK(format_rules(json::array(), RuleFormat::table) ==
        "VETH  GROUP  PRIO  STATE  PACKETS  BYTES  MATCH  ACTIONS  REASON\n");
}

TEST_CASE("json output is the rules array") {
  auto j = json::parse(format_rules(sample(), RuleFormat::json));
  CHECK(j == sample());
}
