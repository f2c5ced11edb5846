// tools/common/rule_view.h owns what vfsw-dump does with the daemon's rule list: filter it
// (by vEthernet, VM, state, group) and format it (a table, or JSON). Rules come from the
// daemon as objects with veth, vm, group, priority, match, actions, state, reason, packets
// and bytes; a missing or mistyped field shows as "-" rather than failing the dump.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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

enum class RuleFormat { table, json };

// table: columns VETH GROUP PRIO STATE PACKETS BYTES MATCH ACTIONS REASON, one rule a line.
std::string format_rules(const nlohmann::json& rules, RuleFormat format);

}  // namespace vfs::tools
