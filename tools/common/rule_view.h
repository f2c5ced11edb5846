// tools/common/rule_view.h owns what vfsw-dump does with the daemon's rule list: filter it
// (by vEthernet, VM, state, group) and format it (a table, JSON, testpmd lines, or the
// table with counter deltas for --watch). Rules come from the daemon as objects with veth,
// vm, port, group, priority, match, actions, state, reason, packets and bytes; a missing or
// mistyped field shows as "-" rather than failing the dump.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vfs::tools {

struct RuleFilter {
  std::optional<int64_t> veth{};
  std::optional<std::string> vm{};
  std::optional<std::string> state{};  // hw | sw | pending | failed
  std::optional<int64_t> group{};

  bool matches(const nlohmann::json& rule) const;
};

bool is_rule_state(std::string_view s);

// The rules (a JSON array) that pass filter; anything but an array yields an empty array.
nlohmann::json filter_rules(const nlohmann::json& rules, const RuleFilter& filter);

enum class RuleFormat { table, json, watch };

// table: columns VETH GROUP PRIO STATE PACKETS BYTES MATCH ACTIONS REASON, one rule a line.
// watch: the same with +PACKETS and +BYTES after PACKETS and BYTES (with_deltas()).
std::string format_rules(const nlohmann::json& rules, RuleFormat format);

// `now` with packets_delta and bytes_delta set on each rule that `before` also has (the
// same veth, group, priority, match and actions): its counters' growth since then, or its
// counters if they went back (the rule was installed again). Rules new since `before` get
// no delta (shown as "-").
nlohmann::json with_deltas(const nlohmann::json& now, const nlohmann::json& before);

// --testpmd: each rule as the testpmd line(s) that create it on the transfer proxy port
// (offload::testpmd_text; a rule's own "testpmd" string if the daemon gives one). A rule
// that cannot be printed (unreadable match or actions, a mirror whose port the dump does
// not give) is left out and named in `errors`.
struct TestpmdLines {
  std::string text;  // one line per rule ('set sample_actions' lines before their rule)
  std::vector<std::string> errors;
};
TestpmdLines format_testpmd(const nlohmann::json& rules, uint16_t proxy_port);

}  // namespace vfs::tools
