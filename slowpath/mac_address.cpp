#include "slowpath/mac_address.h"

#include <cstring>

namespace vfs::slowpath {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads 2*n hex digits from s into out[0..n).
bool read_hex_bytes(std::string_view s, uint8_t* out, size_t n) {
  if (s.size() != 2 * n) return false;
  for (size_t i = 0; i < n; ++i) {
    int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

bool parse_separated(std::string_view s, char sep, uint8_t* out) {
  // "aa?bb?cc?dd?ee?ff": 17 characters, separators at 2, 5, 8, 11, 14.
  if (s.size() != 17) return false;
  for (size_t i = 0; i < kMacLen; ++i) {
    if (i > 0 && s[3 * i - 1] != sep) return false;
    if (!read_hex_bytes(s.substr(3 * i, 2), out + i, 1)) return false;
  }
  return true;
}

bool parse_dotted(std::string_view s, uint8_t* out) {
  // "aabb.ccdd.eeff": 14 characters, dots at 4 and 9.
  if (s.size() != 14 || s[4] != '.' || s[9] != '.') return false;
  for (size_t i = 0; i < 3; ++i)
    if (!read_hex_bytes(s.substr(5 * i, 4), out + 2 * i, 2)) return false;
  return true;
}

}  // namespace

std::string mac_to_string(const uint8_t* mac) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(17, ':');
  for (size_t i = 0; i < kMacLen; ++i) {
    s[3 * i] = kDigits[mac[i] >> 4];
    s[3 * i + 1] = kDigits[mac[i] & 0x0f];
  }
  return s;
}

bool parse_mac(std::string_view text, uint8_t out[kMacLen]) {
  uint8_t tmp[kMacLen];
  bool ok = false;
  if (text.size() == 17)
    ok = parse_separated(text, text[2] == '-' ? '-' : ':', tmp);
  else if (text.size() == 14)
    ok = parse_dotted(text, tmp);
  if (ok) std::memcpy(out, tmp, kMacLen);
  return ok;
}

}  // namespace vfs::slowpath
