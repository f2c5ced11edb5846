#include "drivers/sim/sim_knobs.h"

#include <strings.h>

#include <algorithm>
#include <cctype>

#include "drivers/sim/sim_flow_table.h"

namespace vfs::drivers::sim {
namespace {
// Item and action types are small dense enums; private (negative) types have no name.
constexpr int kTypeScan = 1024;

bool same(const std::string& a, const std::string& b) {
  return strcasecmp(a.c_str(), b.c_str()) == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}
}  // namespace

bool is_flow_type_name(std::string_view name) {
  const std::string want(name);
  for (int t = 0; t < kTypeScan; ++t) {
    if (same(flow_item_name(static_cast<rte_flow_item_type>(t)), want)) return true;
    if (same(flow_action_name(static_cast<rte_flow_action_type>(t)), want)) return true;
  }
  return false;
}

Result<std::vector<std::string>> parse_sim_unsupported(std::string_view text) {
  std::vector<std::string> out;
  if (trim(text).empty()) return out;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t comma = std::min(text.find(',', at), text.size());
    const std::string_view word = trim(text.substr(at, comma - at));
    at = comma + 1;
    if (word.empty())
      return make_error(
          EINVAL, "'{}': empty name in the list (expected names like ipv6,meter,sample)", text);
    std::string name(word);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (name == "END" || name == "VOID")
      return make_error(
          EINVAL, "'{}': END and VOID are part of every rule and cannot be unsupported", word);
    if (!is_flow_type_name(name))
      return make_error(EINVAL,
                        "'{}' is not an rte_flow item or action name (testpmd spelling, e.g. ipv6, "
                        "vlan, of_push_vlan, meter, sample, represented_port)",
                        word);
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  }
  return out;
}

}  // namespace vfs::drivers::sim
