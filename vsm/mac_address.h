// vsm/mac_address.h owns how the CLI writes MAC addresses: NX-OS dotted hex
// (`0000.1111.2222`, what running-config prints) and, on input only, the colon form
// (`00:00:11:11:22:22`) VM tooling uses.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vfs::vsm {

using MacBytes = std::array<uint8_t, 6>;

// nullopt unless text is EEEE.EEEE.EEEE or ee:ee:ee:ee:ee:ee (hex digits, any case).
std::optional<MacBytes> parse_mac(std::string_view text);

// "0000.1111.2222", lower case.
std::string format_mac(const MacBytes& mac);

}  // namespace vfs::vsm
