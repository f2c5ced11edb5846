// tools/common/rule_explain.h owns `vfsw-dump --explain N 'PACKET'`: it walks a packet
// from vEthernet N's port through the rules of a dump (the daemon's dump-rules JSON), the
// way the NIC would: group 0 first, in each group the hardware rule (state hw) that
// matches with the lowest priority, its VLAN edits, then its jump, output or drop. Rules
// in any other state are not in the NIC: when one would have matched (ahead of the
// hardware rule, or where nothing in hardware matched) the walk shows its state and the
// NIC's reason. A miss ends the walk: the slow path decides under the same policy.
//
// The vEthernet's port is the `port` of its rules; `from` defaults to the source MAC its
// group-0 rules admit; `to` defaults to the broadcast address. Side-effect free.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "tools/common/packet_text.h"

namespace vfs::tools {

// The walk as text, one step a line. Errors: no rule of vEthernet N in the dump, or no
// source MAC to use.
Result<std::string> explain_packet(const nlohmann::json& rules, int64_t veth,
                                   const PacketText& packet);

}  // namespace vfs::tools
