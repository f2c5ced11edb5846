#include "tools/common/rule_view.h"

#include <algorithm>
#include <array>
#include <map>
#include <vector>

#include <fmt/core.h>

#include "offload/rule_spec_parse.h"

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

std::optional<std::string> optional_string_field(const nlohmann::json& r, const char* f) {
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

using Column = std::pair<const char*, const char*>;  // header, rule field

constexpr std::array<Column, 9> kColumns{{
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

constexpr std::array<Column, 11> kWatchColumns{{
    {"VETH", "veth"},
    {"GROUP", "group"},
    {"PRIO", "priority"},
    {"STATE", "state"},
    {"PACKETS", "packets"},
    {"+PACKETS", "packets_delta"},
    {"BYTES", "bytes"},
    {"+BYTES", "bytes_delta"},
    {"MATCH", "match"},
    {"ACTIONS", "actions"},
    {"REASON", "reason"},
}};

template <size_t N>
std::string format_table(const nlohmann::json& rules, const std::array<Column, N>& columns) {
  std::vector<std::array<std::string, N>> rows;
  std::array<std::string, N> header;
  for (size_t i = 0; i < N; ++i) header[i] = columns[i].first;
  rows.push_back(header);
  if (rules.is_array()) {
    for (const auto& r : rules) {
      std::array<std::string, N> row;
      for (size_t i = 0; i < N; ++i) row[i] = cell(r, columns[i].second);
      rows.push_back(std::move(row));
    }
  }
  std::array<size_t, N> width{};
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
  if (vm && optional_string_field(rule, "vm") != vm) return false;
  if (state && optional_string_field(rule, "state") != state) return false;
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
      return format_table(rules, kColumns);
    case RuleFormat::watch:
      return format_table(rules, kWatchColumns);
  }
  return {};
}

nlohmann::json with_deltas(const nlohmann::json& now, const nlohmann::json& before) {
  auto key = [](const nlohmann::json& r) {
    nlohmann::json k = nlohmann::json::array();
    for (const char* f : {"veth", "group", "priority", "match", "actions"})
      k.push_back(r.is_object() && r.contains(f) ? r[f] : nlohmann::json());
    return k.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  std::map<std::string, const nlohmann::json*> old;
  if (before.is_array())
    for (const auto& r : before) old.emplace(key(r), &r);
  nlohmann::json out = filter_rules(now, {});
  for (auto& r : out) {
    if (!r.is_object()) continue;
    auto it = old.find(key(r));
    if (it == old.end()) continue;
    for (const char* f : {"packets", "bytes"}) {
      auto n = int_field(r, f), b = int_field(*it->second, f);
      if (!n || !b) continue;
      r[std::string(f) + "_delta"] = *n >= *b ? *n - *b : *n;
    }
  }
  return out;
}

TestpmdLines format_testpmd(const nlohmann::json& rules, uint16_t proxy_port) {
  TestpmdLines out;
  if (!rules.is_array()) return out;
  for (const auto& r : rules) {
    const std::string who = fmt::format("rule of vEthernet {} in group {} priority {}",
                                        cell(r, "veth"), cell(r, "group"), cell(r, "priority"));
    if (auto own = optional_string_field(r, "testpmd")) {
      out.text += *own + "\n";
      continue;
    }
    const auto group = int_field(r, "group"), prio = int_field(r, "priority");
    if (!group || !prio || *group < 0 || *group > UINT32_MAX || *prio < 0 || *prio > UINT32_MAX) {
      out.errors.push_back(who + ": no group or priority");
      continue;
    }
    offload::RuleSpec spec;
    spec.group = static_cast<uint32_t>(*group);
    spec.priority = static_cast<uint32_t>(*prio);
    auto m = offload::parse_match_text(optional_string_field(r, "match").value_or(""));
    if (!m) {
      out.errors.push_back(who + ": " + m.error().message);
      continue;
    }
    auto a = offload::parse_actions_text(optional_string_field(r, "actions").value_or(""));
    if (!a) {
      out.errors.push_back(who + ": " + a.error().message);
      continue;
    }
    spec.match = std::move(*m);
    spec.actions = std::move(*a);
    if (std::any_of(spec.actions.begin(), spec.actions.end(), [](const offload::RuleAction& x) {
          return x.arg == offload::kUnknownMirrorPort && x.kind == offload::ActionKind::mirror;
        })) {
      out.errors.push_back(who +
                           ": its sample (mirror) actions need their ports, which the dump "
                           "does not give");
      continue;
    }
    out.text += offload::testpmd_text(spec, proxy_port) + "\n";
  }
  return out;
}

}  // namespace vfs::tools
