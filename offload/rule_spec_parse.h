// offload/rule_spec_parse.h owns reading rules back from the testpmd text that
// offload/rule_spec.h prints: testpmd_text() (a whole `flow create` line and the
// `set sample_actions` lines before it), match_text() and actions_text() (the `match` and
// `actions` strings of the daemon's dump-rules JSON). parse(print(rule)) == rule for every
// RuleSpec in canonical form (below); the words testpmd accepts beyond what the printer
// writes (`flow validate`, `spec`/`mask` in any order, hex or decimal numbers) are read too.
//
// Canonical form: the printer writes some specs alike, and the parser gives one of them:
// - `tagged` is set only for a VLAN item that nothing else implies (no tpid, vid or
//   has_more_vlan);
// - an all-ones mask is read as no mask (eth_src_mask, eth_dst_mask unset);
// - a `udp` item sets ip_proto 17 when no L3 item gave one (the printer picks the L4 item
//   by ip_proto); an `icmp6` item without an L3 item sets l3 6; an L4 item with no field
//   is read as its IP protocol (ip_proto 6, 17, 1 or 58).
//
// Errors name the offending word and say what was expected there; nothing is partly parsed.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "offload/rule_spec.h"

namespace vfs::offload {

struct ParsedRule {
  uint16_t proxy_port = 0;  // the PORT of `flow create PORT`
  RuleSpec spec;
  auto operator<=>(const ParsedRule&) const = default;
};

// The mirror port of a `sample ... index N` action whose `set sample_actions N` line was
// not given (parse_actions_text without sample_ports). No ethdev id is this large.
inline constexpr uint32_t kUnknownMirrorPort = UINT32_MAX;

// Zero or more `set sample_actions N port_id id P / end` lines (`represented_port
// ethdev_port_id P` is read too), then one `flow create|validate PORT transfer group G
// priority P pattern ... / end actions ... / end` line; lines are separated by '\n'.
// Every `sample` action must name an index a set line defined.
Result<ParsedRule> parse_testpmd_rule(std::string_view text);

// What match_text() prints: "ITEM FIELDS / ... / end".
Result<RuleMatch> parse_match_text(std::string_view text);

// What actions_text() prints: "ACTION ARGS / ... / end". A mirror action (`sample ratio 1
// index N`) takes sample_ports[N] as its port, or kUnknownMirrorPort past its end.
Result<ActionList> parse_actions_text(std::string_view text,
                                      std::span<const uint16_t> sample_ports = {});

}  // namespace vfs::offload
