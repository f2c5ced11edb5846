#include "vsm/vlan_list.h"

#include <algorithm>
#include <charconv>

#include <fmt/core.h>

#include "vsm/model.h"

namespace vfs::vsm {
namespace {

std::optional<uint16_t> parse_vlan_id(std::string_view s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  if (v < 1 || v > kMaxVlan) return std::nullopt;
  return static_cast<uint16_t>(v);
}

}  // namespace

std::optional<std::vector<uint16_t>> parse_vlan_list(std::string_view text) {
  std::vector<uint16_t> out;
  if (text.empty()) return std::nullopt;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item =
        text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      auto v = parse_vlan_id(item);
      if (!v) return std::nullopt;
      out.push_back(*v);
    } else {
      auto lo = parse_vlan_id(item.substr(0, dash));
      auto hi = parse_vlan_id(item.substr(dash + 1));
      if (!lo || !hi || *lo > *hi) return std::nullopt;
      for (unsigned v = *lo; v <= *hi; ++v) out.push_back(static_cast<uint16_t>(v));
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string format_vlan_list(const std::vector<uint16_t>& vlans) {
  std::string out;
  for (size_t i = 0; i < vlans.size();) {
    size_t j = i;
    while (j + 1 < vlans.size() && vlans[j + 1] == vlans[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? fmt::format("{}", vlans[i]) : fmt::format("{}-{}", vlans[i], vlans[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace vfs::vsm
