// tools/common/rule_explain: vfsw-dump --explain over a canned dump. The dump is what the
// daemon's dump-rules gives for two vEthernets on VLAN 10: vEthernet 3 (port 1, MAC ..:03)
// and vEthernet 5 (port 2, MAC ..:09), with one input ACL rule the NIC refused.
#include <doctest/doctest.h>

#include <algorithm>

#include "tools/common/rule_explain.h"
#include "tools/common/rule_view.h"

using nlohmann::json;
using namespace vfs::tools;

namespace {

json rule(int veth, int port, int group, int prio, const char* match, const char* actions,
          const char* state = "hw", const char* reason = "") {
  return {{"veth", veth},       {"vm", "vm" + std::to_string(veth)},
          {"port", port},       {"group", group},
          {"priority", prio},   {"match", match},
          {"actions", actions}, {"state", state},
          {"reason", reason},   {"packets", 0},
          {"bytes", 0},         {"refs", 1}};
}

json dump() {
  return json::array({
      rule(
          3, 1, 0, 0,
          "represented_port ethdev_port_id is 1 / eth src is 52:54:00:00:00:03 has_vlan is 0 / end",
          "count / of_push_vlan ethertype 0x8100 / of_set_vlan_vid vlan_vid 10 / jump group 2 / "
          "end"),
      rule(
          5, 2, 0, 0,
          "represented_port ethdev_port_id is 2 / eth src is 52:54:00:00:00:09 has_vlan is 0 / end",
          "count / of_push_vlan ethertype 0x8100 / of_set_vlan_vid vlan_vid 10 / jump group 2 / "
          "end"),
      rule(3, 1, 2, 0,
           "represented_port ethdev_port_id is 1 / vlan vid is 10 / ipv4 proto is 1 / icmp type is "
           "8 / end",
           "count / drop / end"),
      rule(3, 1, 2, 1,
           "represented_port ethdev_port_id is 1 / vlan vid is 10 / ipv4 proto is 6 / tcp dst is "
           "80 / end",
           "count / jump group 3 / end", "sw", "ENOTSUP: sim: item type TCP not supported"),
      rule(3, 1, 2, 2,
           "represented_port ethdev_port_id is 1 / vlan vid is 10 / ipv4 proto is 17 / udp dst is "
           "53 / end",
           "count / jump group 3 / end"),
      rule(3, 1, 3, 0, "represented_port ethdev_port_id is 1 / end",
           "count / meter mtr_id 7 / jump group 4 / end"),
      rule(5, 2, 4, 0, "eth dst is 52:54:00:00:00:09 / vlan vid is 10 / end",
           "count / jump group 202 / end"),
      rule(5, 2, 202, 0, "end", "count / of_pop_vlan / represented_port ethdev_port_id 2 / end"),
      rule(5, 2, 202, 1, "garbage", "drop / end"),
  });
}

std::string explain(const std::string& packet, int64_t veth = 3, const json& rules = dump()) {
  auto p = parse_packet(packet);
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  auto r = explain_packet(rules, veth, *p);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  return *r;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("explain follows a packet through every table to its output") {
  const std::string t = explain("udp 10.0.0.5:5353 > 10.0.0.9:53 to 52:54:00:00:00:09");
  CAPTURE(t);
  CHECK(has(t, "packet: udp 10.0.0.5:5353 > 10.0.0.9:53\n"));
  // from: vEthernet 3's group-0 source MAC; it enters on vEthernet 3's port.
  CHECK(has(t,
            "from 52:54:00:00:00:03 (its group-0 rules) to 52:54:00:00:00:09, untagged, "
            "enters on port 1 (vEthernet 3)"));
  CHECK(has(t, "group 0 (ingress): 2 rules, 2 in hardware\n"));
  CHECK(has(t, "-> counted, now VLAN 10\n  -> jump to group 2\n"));
  CHECK(has(t, "group 2 (input ACL): 3 rules, 2 in hardware\n"));
  CHECK(has(t, "udp dst is 53"));
  CHECK(has(t, "policed by meter 7 (red frames are dropped)"));
  CHECK(has(t, "group 3 (input QoS)"));
  CHECK(has(t, "group 4 (L2 forwarding)"));
  CHECK(has(t, "group 202 (output ACL of port 2): 2 rules, 2 in hardware\n"));
  CHECK(has(t, "unreadable rule (dump entry 8): match: 'garbage' (word 1)"));
  CHECK(has(t, "verdict: forwarded by the NIC out of port 2, untagged\n"));
  // The refused TCP rule does not match a UDP packet: not mentioned.
  CHECK_FALSE(has(t, "not in hardware"));
}

TEST_CASE("explain shows the rule that would match but is not in hardware, and its reason") {
  const std::string t = explain("tcp 10.0.0.5:1234 > 10.0.0.9:80 to 52:54:00:00:00:09");
  CAPTURE(t);
  CHECK(has(t, "would match, not in hardware: priority 1, vEthernet 3, state sw\n"));
  CHECK(has(t, "tcp dst is 80"));
  CHECK(has(t, "state sw: ENOTSUP: sim: item type TCP not supported\n"));
  CHECK(has(t, "  miss: no rule in hardware matches\n"));
  CHECK(has(t, "verdict: the slow path decides (the frame goes to the representor of port 1"));
  CHECK_FALSE(has(t, "group 3 ("));
}

TEST_CASE("explain: drops, misses, defaults and errors") {
  std::string t = explain("icmp 10.0.0.5 > 10.0.0.9");
  CHECK(has(t, "verdict: dropped by the NIC (group 2 priority 0)\n"));
  // A source MAC the port does not own misses in group 0.
  t = explain("udp 10.0.0.5:1 > 10.0.0.9:53 from 52:54:00:00:00:66");
  CHECK(has(t, "group 0 (ingress)"));
  CHECK(has(t, "miss: no rule in hardware matches"));
  CHECK_FALSE(has(t, "group 2 ("));
  // A tagged frame misses the access port's has_vlan 0 rule.
  t = explain("udp 10.0.0.5:1 > 10.0.0.9:53 vlan 10");
  CHECK(has(t, "VLAN 10, enters on port 1"));
  CHECK(has(t, "miss: no rule in hardware matches"));
  // Without `to` the destination is the broadcast address, which no L2 rule forwards.
  t = explain("udp 10.0.0.5:1 > 10.0.0.9:53");
  CHECK(has(t, "to ff:ff:ff:ff:ff:ff (broadcast: give 'to MAC')"));
  CHECK(has(t, "group 4 (L2 forwarding): 1 rule, 1 in hardware\n  miss"));
  // vEthernet 5 in the other direction.
  t = explain("udp 10.0.0.9:53 > 10.0.0.5:1", 5);
  CHECK(has(t, "from 52:54:00:00:00:09 (its group-0 rules)"));
  CHECK(has(t, "enters on port 2 (vEthernet 5)"));

  auto p = parse_packet("udp 10.0.0.5:1 > 10.0.0.9:53");
  REQUIRE(p.ok());
  auto r = explain_packet(dump(), 9, *p);
  REQUIRE_FALSE(r.ok());
  CHECK(has(r.error().message, "vEthernet 9"));
  // No group-0 source MAC to default to.
  json only_acl = json::array({dump()[2]});
  r = explain_packet(only_acl, 3, *p);
  REQUIRE_FALSE(r.ok());
  CHECK(has(r.error().message, "give 'from MAC'"));
  // Junk in the dump never throws.
  r = explain_packet(json::array({1, "x", nullptr, json::object(), {{"veth", 3}, {"group", -1}}}),
                     3, *p);
  CHECK_FALSE(r.ok());
  CHECK_FALSE(explain_packet(json::object(), 3, *p).ok());
}

TEST_CASE("explain stops on a jump loop") {
  json loop = json::array({
      rule(1, 1, 0, 0, "eth src is 52:54:00:00:00:01 / end", "jump group 1 / end"),
      rule(1, 1, 1, 0, "end", "jump group 1 / end"),
  });
  const std::string t = explain("udp 1.1.1.1:1 > 2.2.2.2:2", 1, loop);
  CHECK(has(t, "verdict: jump to group 1 goes backwards"));
}

TEST_CASE("--testpmd lines and --watch deltas") {
  auto lines = format_testpmd(dump(), 0);
  CHECK(lines.errors.size() == 1);  // the unreadable rule
  CHECK(has(lines.errors[0], "'garbage'"));
  CHECK(
      has(lines.text,
          "flow create 0 transfer group 0 priority 0 pattern represented_port ethdev_port_id is 1 "
          "/ eth src is 52:54:00:00:00:03 has_vlan is 0 / end actions count / of_push_vlan "
          "ethertype 0x8100 / of_set_vlan_vid vlan_vid 10 / jump group 2 / end\n"));
  CHECK(has(lines.text,
            "flow create 0 transfer group 202 priority 0 pattern end actions count / "
            "of_pop_vlan / represented_port ethdev_port_id 2 / end\n"));
  CHECK(std::count(lines.text.begin(), lines.text.end(), '\n') == 8);
  CHECK(has(format_testpmd(filter_rules(dump(), {.group = 3}), 4).text,
            "flow create 4 transfer group 3 priority 0 pattern"));
  // A mirror's port is not in the match/actions strings: said, not guessed.
  auto mirror = format_testpmd(
      json::array({rule(1, 1, 2, 0, "end", "sample ratio 1 index 0 / jump group 3 / end")}), 0);
  CHECK(mirror.text.empty());
  REQUIRE(mirror.errors.size() == 1);
  CHECK(has(mirror.errors[0], "mirror"));
  // A daemon that gives the rule's own testpmd text is taken at its word.
  json own = rule(1, 1, 2, 0, "end", "sample ratio 1 index 0 / jump group 3 / end");
  own["testpmd"] =
      "set sample_actions 0 port_id id 4 / end\nflow create 0 transfer pattern end actions sample "
      "ratio 1 index 0 / jump group 3 / end";
  CHECK(format_testpmd(json::array({own}), 0).text == own["testpmd"].get<std::string>() + "\n");

  json before = dump(), now = dump();
  before[0]["packets"] = 10;
  before[0]["bytes"] = 1000;
  now[0]["packets"] = 15;
  now[0]["bytes"] = 1600;
  now[1]["packets"] = 3;      // went back from 0? no: 0 -> 3
  before[2]["packets"] = 50;  // went back: reinstalled, its count is the delta
  now[2]["packets"] = 4;
  now.push_back(rule(7, 7, 0, 0, "end", "drop / end"));  // new: no delta
  json d = with_deltas(now, before);
  CHECK(d[0]["packets_delta"] == 5);
  CHECK(d[0]["bytes_delta"] == 600);
  CHECK(d[1]["packets_delta"] == 3);
  CHECK(d[2]["packets_delta"] == 4);
  CHECK_FALSE(d[9].contains("packets_delta"));
  const std::string table = format_rules(d, RuleFormat::watch);
  CHECK(has(table.substr(0, table.find('\n')), "PACKETS  +PACKETS  BYTES  +BYTES  MATCH"));
  CHECK(with_deltas(now, json())[0].contains("packets_delta") == false);
}
