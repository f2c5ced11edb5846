#include "tools/common/cli_text.h"

#include <algorithm>
#include <cctype>

#include <fmt/core.h>

namespace vfs::tools {
namespace {
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string string_field(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

bool ok_response(const nlohmann::json& r) {
  return r.is_object() && r.contains("ok") && r["ok"].is_boolean() && r["ok"].get<bool>() &&
         r.contains("choices") && r["choices"].is_array();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

std::vector<std::string> split_commands(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    size_t semi = text.find(';');
    std::string_view cmd = trim(text.substr(0, semi));
    if (!cmd.empty()) out.emplace_back(cmd);
    if (semi == std::string_view::npos) break;
    text.remove_prefix(semi + 1);
  }
  return out;
}

std::string render_cli_error(const nlohmann::json& response, size_t caret_indent) {
  std::string error = response.contains("error") && response["error"].is_string()
                          ? response["error"].get<std::string>()
                          : "% (the daemon gave no error text)";
  if (response.contains("error_column") && response["error_column"].is_number_integer()) {
    int64_t col = response["error_column"].get<int64_t>();
    if (col >= 0 && col < 4096)
      return std::string(caret_indent + static_cast<size_t>(col), ' ') + "^\n" + error;
  }
  return error;
}

std::string render_choices(const nlohmann::json& response, size_t caret_indent) {
  if (!ok_response(response)) return render_cli_error(response, caret_indent) + "\n";
  size_t width = 4;  // "<CR>"
  for (const auto& c : response["choices"]) width = std::max(width, string_field(c, "word").size());
  std::string out;
  for (const auto& c : response["choices"])
    out += fmt::format("  {:<{}}  {}\n", string_field(c, "word"), width, string_field(c, "help"));
  if (response.contains("can_end") && response["can_end"].is_boolean() &&
      response["can_end"].get<bool>())
    out += "  <CR>\n";
  if (out.empty()) out = "% Unrecognized command\n";
  return out;
}

TabAction tab_completion(const nlohmann::json& response, std::string_view line) {
  if (!ok_response(response)) return {};
  size_t start = line.size();
  if (response.contains("word_start") && response["word_start"].is_number_unsigned())
    start = std::min<size_t>(response["word_start"].get<size_t>(), line.size());
  std::string_view partial = line.substr(start);
  std::vector<std::string> words;
  bool placeholders = false;
  for (const auto& c : response["choices"]) {
    bool kw = c.is_object() && c.contains("keyword") && c["keyword"].is_boolean() &&
              c["keyword"].get<bool>();
    if (kw) {
      words.push_back(string_field(c, "word"));
    } else {
      placeholders = true;
    }
  }
  if (words.empty()) return {"", placeholders};
  if (words.size() == 1 && !placeholders) {
    const std::string& w = words.front();
    return {(w.size() > partial.size() ? w.substr(partial.size()) : std::string()) + " ", false};
  }
  // The longest prefix every keyword shares (case-insensitively) beyond what is typed.
  size_t common = words.front().size();
  for (const auto& w : words) {
    size_t i = 0;
    while (i < common && i < w.size() && lower(w[i]) == lower(words.front()[i])) ++i;
    common = i;
  }
  if (common > partial.size())
    return {words.front().substr(partial.size(), common - partial.size()), false};
  return {"", true};
}

}  // namespace vfs::tools
