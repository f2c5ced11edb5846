#include "tools/common/rule_view.h"

#include <algorithm>
#include <array>
#include <vector>

#include <fmt/core.h>

namespace vfs::tools {
namespace {

std::optional<int64_t> int_field(const nlohmann::json& r, const char* f) {
  if (!r.is_object() || !r.contains(f)) return std::nullopt;
  const auto& v = r[f];
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    return u > static_cast<uint64_t>(INT64_MAX) ? std::nullopt
                                                : std::optional<int64_t>(static_cast<int64_t>(u));
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  return std::nullopt;
}

std::optional<std::string> string_field(const nlohmann::json& r, const char* f) {
  if (!r.is_object() || !r.contains(f) || !r[f].is_string()) return std::nullopt;
  return r[f].get<std::string>();
}

// A table cell never breaks the table: control characters become '?'.
std::string cell(const nlohmann::json& r, const char* f) {
  if (!r.is_object() || !r.contains(f)) return "-";
  const auto& v = r[f];
  std::string s = v.is_string() ? v.get<std::string>()
                                : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.empty()) return "-";
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return s;
}

constexpr std::array<std::pair<const char*, const char*>, 9> kColumns{{
    {"VETH", "veth"},
    {"GROUP", "group"},
    {"PRIO", "priority"},
    {"STATE", "state"},
    {"PACKETS", "packets"},
    {"BYTES", "bytes"},
    {"MATCH", "match"},
    {"ACTIONS", "actions"},
    {"REASON", "reason"},
}};

std::string format_table(const nlohmann::json& rules) {
  std::vector<std::array<std::string, kColumns.size()>> rows;
  std::array<std::string, kColumns.size()> header;
  for (size_t i = 0; i < kColumns.size(); ++i) header[i] = kColumns[i].first;
  rows.push_back(header);
  if (rules.is_array()) {
    for (const auto& r : rules) {
      std::array<std::string, kColumns.size()> row;
      for (size_t i = 0; i < kColumns.size(); ++i) row[i] = cell(r, kColumns[i].second);
      rows.push_back(std::move(row));
    }
  }
  std::array<size_t, kColumns.size()> width{};
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += i + 1 < row.size() ? fmt::format("{:<{}}  ", row[i], width[i]) : row[i];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace

bool is_rule_state(std::string_view s) {
  return s == "hw" || s == "sw" || s == "pending" || s == "failed";
}

bool RuleFilter::matches(const nlohmann::json& rule) const {
  if (veth && int_field(rule, "veth") != veth) return false;
  if (group && int_field(rule, "group") != group) return false;
  if (vm && string_field(rule, "vm") != vm) return false;
  if (state && string_field(rule, "state") != state) return false;
  return true;
}

nlohmann::json filter_rules(const nlohmann::json& rules, const RuleFilter& filter) {
  nlohmann::json out = nlohmann::json::array();
  if (!rules.is_array()) return out;
  for (const auto& r : rules) {
    if (filter.matches(r)) out.push_back(r);
  }
  return out;
}

std::string format_rules(const nlohmann::json& rules, RuleFormat format) {
  switch (format) {
    case RuleFormat::json:
      return rules.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    case RuleFormat::table:
      return format_table(rules);
  }
  return {};
}

}  // namespace vfs::tools
