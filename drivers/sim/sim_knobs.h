// drivers/sim/sim_knobs.h owns the text forms of the sim's "smaller NIC" knobs as the
// daemon's options and config file spell them, checked before anything is opened, so a
// typo is an error naming the word rather than a sim that silently supports everything.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vfs::drivers::sim {

// ESwitchOptions::sim_unsupported from "ipv6,meter,sample": rte_flow item / action names
// as testpmd and rte_flow spell them (any case; "of_push_vlan", "represented_port").
// Blanks around names are ignored; an empty name, END / VOID or a name that is neither an
// item nor an action is EINVAL naming it. The names come back in upper case, deduplicated.
Result<std::vector<std::string>> parse_sim_unsupported(std::string_view text);

// True when `name` (any case) is an rte_flow item or action type.
bool is_flow_type_name(std::string_view name);

}  // namespace vfs::drivers::sim
