#include "vsm/cli_tokens.h"

namespace vfs::vsm {
namespace {
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

Token next_token(std::string_view line, size_t& pos) {
  while (pos < line.size() && is_blank(line[pos])) ++pos;
  size_t start = pos;
  while (pos < line.size() && !is_blank(line[pos])) ++pos;
  return {line.substr(start, pos - start), start};
}

size_t end_column(std::string_view line) {
  size_t n = trim_right(line).size();
  return n == 0 ? 0 : n + 1;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  return trim_right(s);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_keyword_prefix(std::string_view tok, std::string_view kw) {
  return !tok.empty() && tok.size() <= kw.size() && iequals(tok, kw.substr(0, tok.size()));
}

std::optional<size_t> first_unprintable(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    auto c = static_cast<unsigned char>(line[i]);
    if (c != '\t' && (c < 0x20 || c > 0x7e)) return i;
  }
  return std::nullopt;
}

}  // namespace vfs::vsm
