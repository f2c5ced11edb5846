#include "vsm/mac_address.h"

#include <fmt/core.h>

namespace vfs::vsm {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Twelve hex digits, with sep after every group of group_len digits.
std::optional<MacBytes> parse_grouped(std::string_view text, size_t group_len, char sep) {
  const size_t groups = 12 / group_len;
  if (text.size() != 12 + groups - 1) return std::nullopt;
  MacBytes out{};
  size_t nibble = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((i + 1) % (group_len + 1) == 0) {
      if (text[i] != sep) return std::nullopt;
      continue;
    }
    int d = hex_digit(text[i]);
    if (d < 0) return std::nullopt;
    out[nibble / 2] = static_cast<uint8_t>(out[nibble / 2] | (nibble % 2 ? d : d << 4));
    ++nibble;
  }
  return out;
}

}  // namespace

std::optional<MacBytes> parse_mac(std::string_view text) {
  if (auto m = parse_grouped(text, 4, '.')) return m;
  return parse_grouped(text, 2, ':');
}

std::string format_mac(const MacBytes& m) {
  return fmt::format("{:02x}{:02x}.{:02x}{:02x}.{:02x}{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
}

}  // namespace vfs::vsm
