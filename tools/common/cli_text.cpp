#include "tools/common/cli_text.h"

namespace vfs::tools {
namespace {
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

}  // namespace vfs::tools
