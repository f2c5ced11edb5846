// slowpath/mac_address.h owns the 6-byte Ethernet address helpers the slow path and its
// tools share: group/broadcast tests, and text in and out ("52:54:00:12:34:56"; parsing
// also accepts "52-54-00-12-34-56" and NX-OS "5254.0012.3456").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vfs::slowpath {

inline constexpr size_t kMacLen = 6;

// Group bit set: multicast, which includes broadcast.
inline bool is_multicast(const uint8_t mac[kMacLen]) { return (mac[0] & 0x01) != 0; }

inline bool is_broadcast(const uint8_t mac[kMacLen]) {
  return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

inline bool is_zero_mac(const uint8_t mac[kMacLen]) {
  return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0;
}

// Lower-case, colon-separated: "52:54:00:12:34:56".
std::string mac_to_string(const uint8_t* mac);

// Exactly one of "aa:bb:cc:dd:ee:ff", "aa-bb-cc-dd-ee-ff" or "aabb.ccdd.eeff" (hex digits
// in either case, nothing around them). On failure returns false and leaves out unchanged.
bool parse_mac(std::string_view text, uint8_t out[kMacLen]);

}  // namespace vfs::slowpath
