// vsm/vlan_list.h owns the NX-OS VLAN list syntax ("10", "10-20,30"): parsing with range
// checks, and the compact form running-config prints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vfs::vsm {

// Sorted, without duplicates; nullopt if the text is not a list of VLANs in 1..4094.
std::optional<std::vector<uint16_t>> parse_vlan_list(std::string_view text);

// {1,10,11,12,20} -> "1,10-12,20". Input must be sorted.
std::string format_vlan_list(const std::vector<uint16_t>& vlans);

}  // namespace vfs::vsm
