// offload/rule_spec_parse: testpmd text back to RuleSpecs. The property: for random
// RuleSpecs in canonical form over every field and action, parse(print(rule)) == rule and
// print(parse(print(rule))) == print(rule); and malformed text is an error naming the word.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "offload/rule_spec_parse.h"

using namespace vfs::offload;

namespace {

class RandomRules {
 public:
  explicit RandomRules(uint32_t seed) : rng_(seed) {}

  RuleSpec next() {
    RuleSpec r;
    r.group = coin() ? u32() : pick(0, 110);
    r.priority = coin() ? u32() : pick(0, 10);
    RuleMatch& m = r.match;
    if (coin()) m.in_port = u16();
    if (coin()) {
      m.eth_src = mac();
      if (coin()) m.eth_src_mask = partial_mac();
    }
    if (coin()) {
      m.eth_dst = mac();
      if (coin()) m.eth_dst_mask = partial_mac();
    }
    switch (pick(0, 2)) {
      case 0:
        m.has_vlan = true;
        break;
      case 1:
        m.has_vlan = false;
        break;
      default:
        break;
    }
    if (m.has_vlan != false && coin()) {
      if (coin()) m.vlan_vid = static_cast<uint16_t>(pick(0, 4095));
      if (pick(0, 2) == 0) m.tpid = coin() ? uint16_t{0x88a8} : u16();
      if (pick(0, 2) == 0) m.more_vlan = coin();
      m.tagged = !m.vlan_vid && !m.tpid && !m.more_vlan;
    }
    if (coin()) m.ether_type = u16();
    m.l3 = std::array<uint8_t, 3>{0, 4, 6}[pick(0, 2)];
    if (m.l3) {
      if (coin()) m.ip_src = ip(m.l3);
      if (coin()) m.ip_dst = ip(m.l3);
    }
    enum { none, tcp, udp, icmp } l4 = static_cast<decltype(none)>(pick(0, 3));
    switch (l4) {
      case none:
        if (m.l3 && coin()) m.ip_proto = static_cast<uint8_t>(pick(0, 255));
        break;
      case tcp:
        if (m.l3 && coin()) m.ip_proto = 6;
        do {
          if (coin()) m.l4_src = u16_match();
          if (coin()) m.l4_dst = u16_match();
          if (coin())
            m.tcp_flags =
                U8Match{static_cast<uint8_t>(pick(0, 255)), static_cast<uint8_t>(pick(0, 255))};
        } while (!m.has_l4());
        break;
      case udp:
        m.ip_proto = 17;
        do {
          if (coin()) m.l4_src = u16_match();
          if (coin()) m.l4_dst = u16_match();
        } while (!m.has_l4());
        break;
      case icmp:
        if (m.l3 && coin()) m.ip_proto = m.l3 == 6 ? 58 : 1;
        do {
          if (coin()) m.icmp_type = static_cast<uint8_t>(pick(0, 255));
          if (coin()) m.icmp_code = static_cast<uint8_t>(pick(0, 255));
        } while (!m.has_l4());
        break;
    }
    const int n = pick(0, 8);
    for (int i = 0; i < n; ++i) r.actions.push_back(action());
    return r;
  }

  RuleAction action() {
    switch (static_cast<ActionKind>(pick(0, 9))) {
      case ActionKind::count:
        return act_count();
      case ActionKind::drop:
        return act_drop();
      case ActionKind::jump:
        return act_jump(coin() ? u32() : pick(0, 110));
      case ActionKind::port:
        return act_port(u16());
      case ActionKind::push_vlan:
        return act_push_vlan(coin() ? 0x8100 : u16());
      case ActionKind::set_vlan_vid:
        return act_set_vid(static_cast<uint16_t>(pick(0, 4095)));
      case ActionKind::pop_vlan:
        return act_pop_vlan();
      case ActionKind::meter:
        return act_meter(u32());
      case ActionKind::mirror:
        return act_mirror(u16());
      case ActionKind::to_slow_path:
        return act_to_slow_path(u16());
    }
    return act_count();
  }

  uint16_t u16() { return static_cast<uint16_t>(pick(0, 0xffff)); }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool coin() { return pick(0, 1) == 1; }
  uint32_t u32() { return std::uniform_int_distribution<uint32_t>()(rng_); }
  Mac mac() {
    Mac m;
    for (auto& b : m) b = static_cast<uint8_t>(pick(0, 255));
    return m;
  }
  Mac partial_mac() {  // never all ones: that one prints as no mask
    Mac m = mac();
    m[static_cast<size_t>(pick(0, 5))] = static_cast<uint8_t>(pick(0, 0xfe));
    return m;
  }
  IpMatch ip(uint8_t l3) {
    IpMatch m;
    const int n = l3 == 6 ? 16 : 4;
    const bool full = coin();
    for (int i = 0; i < n; ++i) {
      m.addr[static_cast<size_t>(i)] = static_cast<uint8_t>(pick(0, 255));
      m.mask[static_cast<size_t>(i)] = full ? 0xff : static_cast<uint8_t>(pick(0, 255));
    }
    return m;
  }
  U16Match u16_match() { return {u16(), coin() ? uint16_t{0xffff} : u16()}; }

  std::mt19937 rng_;
};

std::vector<uint16_t> mirror_ports(const RuleSpec& r) {
  std::vector<uint16_t> out;
  for (const auto& a : r.actions)
    if (a.kind == ActionKind::mirror) out.push_back(static_cast<uint16_t>(a.arg));
  return out;
}

// The parse must fail, and its message must quote `word`.
void check_error(const std::string& text, const std::string& word) {
  CAPTURE(text);
  auto r = parse_testpmd_rule(text);
  REQUIRE_FALSE(r.ok());
  CAPTURE(r.error().message);
  CHECK(r.error().code == EINVAL);
  CHECK(r.error().message.find("'" + word + "'") != std::string::npos);
}

const std::string kHead = "flow create 0 transfer group 1 priority 2 pattern ";

}  // namespace

TEST_CASE("testpmd text parses back to the same rule, over thousands of random rules") {
  RandomRules gen(20261125);
  std::array<int, 10> seen_actions{};
  int with_masks = 0, with_l4 = 0, with_tpid = 0;
  for (int i = 0; i < 5000; ++i) {
    const RuleSpec spec = gen.next();
    const uint16_t proxy = gen.u16();
    const std::string text = testpmd_text(spec, proxy);
    CAPTURE(text);
    auto parsed = parse_testpmd_rule(text);
    REQUIRE_MESSAGE(parsed.ok(), parsed.error().message);
    CHECK(parsed->proxy_port == proxy);
    REQUIRE(parsed->spec == spec);
    CHECK(testpmd_text(parsed->spec, parsed->proxy_port) == text);

    // The dump's separate match and actions strings.
    auto m = parse_match_text(match_text(spec));
    REQUIRE_MESSAGE(m.ok(), m.error().message);
    CHECK(*m == spec.match);
    const auto ports = mirror_ports(spec);
    auto a = parse_actions_text(actions_text(spec), ports);
    REQUIRE_MESSAGE(a.ok(), a.error().message);
    CHECK(*a == spec.actions);
    // Without the sample lines, a mirror's port is unknown, the rest the same.
    auto b = parse_actions_text(actions_text(spec));
    REQUIRE(b.ok());
    REQUIRE(b->size() == spec.actions.size());
    for (size_t k = 0; k < b->size(); ++k) {
      const bool mirror = spec.actions[k].kind == ActionKind::mirror;
      CHECK((*b)[k].arg == (mirror ? kUnknownMirrorPort : spec.actions[k].arg));
    }

    for (const auto& act : spec.actions) ++seen_actions[static_cast<size_t>(act.kind)];
    with_masks += spec.match.eth_src_mask.has_value();
    with_l4 += spec.match.has_l4();
    with_tpid += spec.match.tpid && spec.match.more_vlan;
  }
  for (int n : seen_actions) CHECK(n > 100);  // every ActionKind was exercised
  CHECK(with_masks > 500);
  CHECK(with_l4 > 2000);
  CHECK(with_tpid > 50);
}

TEST_CASE("the rules the compiler writes parse back, with testpmd's spellings") {
  auto r = parse_testpmd_rule(
      "flow create 0 transfer group 0 priority 0 pattern represented_port ethdev_port_id is 1 / "
      "eth src is 02:00:00:00:00:0a has_vlan is 0 / end actions count / of_push_vlan ethertype "
      "0x8100 / of_set_vlan_vid vlan_vid 10 / jump group 1 / end");
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->spec.match.in_port == 1);
  CHECK(r->spec.match.eth_src == Mac{2, 0, 0, 0, 0, 0x0a});
  CHECK(r->spec.match.has_vlan == false);
  CHECK(r->spec.actions ==
        ActionList{act_count(), act_push_vlan(0x8100), act_set_vid(10), act_jump(1)});

  // flow validate, attributes in another order, spec/mask in another order, hex numbers,
  // the set line in its represented_port spelling.
  r = parse_testpmd_rule(
      "set sample_actions 3 represented_port ethdev_port_id 0x2 / end\n"
      "flow validate 0x0 priority 5 transfer group 0x64 pattern eth dst mask ff:ff:ff:00:00:00 "
      "dst spec 52:54:00:00:00:01 / vlan vid is 0x00a inner_type is 2048 / ipv4 proto is 17 / "
      "udp dst is 53 / end actions sample ratio 1 index 3 / port_representor port_id 7 / end\n");
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->spec.group == 100);
  CHECK(r->spec.priority == 5);
  CHECK(r->spec.match.eth_dst_mask == Mac{0xff, 0xff, 0xff, 0, 0, 0});
  CHECK(r->spec.match.vlan_vid == 10);
  CHECK_FALSE(r->spec.match.tagged);
  CHECK(r->spec.match.ether_type == 0x0800);
  CHECK(r->spec.match.l4_dst == U16Match{53, 0xffff});
  CHECK(r->spec.actions == ActionList{act_mirror(2), act_to_slow_path(7)});

  // Canonical forms: an all-ones mask is no mask; udp implies 17; a bare L4 item is its
  // protocol; icmp6 implies IPv6.
  auto m = parse_match_text(
      "eth src spec 00:00:00:00:00:01 src mask ff:ff:ff:ff:ff:ff / udp "
      "src is 1 / end");
  REQUIRE(m.ok());
  CHECK_FALSE(m->eth_src_mask);
  CHECK(m->ip_proto == 17);
  m = parse_match_text("ipv4 / tcp / end");
  REQUIRE(m.ok());
  CHECK(m->ip_proto == 6);
  m = parse_match_text("icmp6 type is 135 / end");
  REQUIRE(m.ok());
  CHECK(m->l3 == 6);
  CHECK(m->icmp_type == 135);
  m = parse_match_text("vlan / end");
  REQUIRE(m.ok());
  CHECK(m->tagged);
  // ETH type is the outer TPID when a VLAN item follows, the EtherType otherwise.
  m = parse_match_text("eth type is 0x88a8 / vlan vid is 5 has_more_vlan is 1 / end");
  REQUIRE(m.ok());
  CHECK(m->tpid == 0x88a8);
  CHECK(m->more_vlan == true);
  CHECK_FALSE(m->ether_type);
  CHECK_FALSE(m->tagged);
  m = parse_match_text("eth type is 0x0806 / end");
  REQUIRE(m.ok());
  CHECK(m->ether_type == 0x0806);
  CHECK_FALSE(m->tpid);
  m = parse_match_text("end");
  REQUIRE(m.ok());
  CHECK(*m == RuleMatch{});
}

TEST_CASE("malformed rules are errors that name the wrong word") {
  check_error(kHead + "eth bogus is 1 / end actions drop / end", "bogus");
  check_error(kHead + "eth src is 52:54:00:00:00:zz / end actions drop / end", "52:54:00:00:00:zz");
  check_error(kHead + "eth src is 52:54:00:00:00 / end actions drop / end", "52:54:00:00:00");
  check_error(kHead + "eth src spec 52:54:00:00:00:01 / end actions drop / end",
              "52:54:00:00:00:01");
  check_error(
      kHead + "eth src is 52:54:00:00:00:01 src is 52:54:00:00:00:02 / end actions drop / end",
      "is");
  check_error(kHead + "eth src equals 52:54:00:00:00:01 / end actions drop / end", "equals");
  check_error(kHead + "eth type spec 0x800 type mask 0xffff / end actions drop / end", "0x800");
  check_error(kHead + "eth has_vlan is 2 / end actions drop / end", "2");
  check_error(kHead + "vlan vid is 4096 / end actions drop / end", "4096");
  check_error(kHead + "ipv4 src is 10.0.0.256 / end actions drop / end", "10.0.0.256");
  check_error(kHead + "ipv6 dst is 10.0.0.1 / end actions drop / end", "10.0.0.1");
  check_error(kHead + "ipv4 src spec 10.0.0.0 src mask 255.0.0 / end actions drop / end",
              "255.0.0");
  check_error(kHead + "ipv4 proto is 256 / end actions drop / end", "256");
  check_error(kHead + "ipv4 / vlan / end actions drop / end", "vlan");
  check_error(kHead + "eth / eth / end actions drop / end", "eth");
  check_error(kHead + "ipv4 proto is 6 / udp src is 1 / end actions drop / end", "udp");
  check_error(kHead + "ipv6 / icmp type is 8 / end actions drop / end", "icmp");
  check_error(kHead + "udp flags is 2 / end actions drop / end", "flags");
  check_error(kHead + "tcp src is 65536 / end actions drop / end", "65536");
  check_error(kHead + "tcp src spec 1 src mask 0x1ffff / end actions drop / end", "0x1ffff");
  check_error(kHead + "gre / end actions drop / end", "gre");
  check_error(kHead + "eth / actions drop / end", "actions");
  check_error(kHead + "eth / vlan has_more_vlan is 2 / end actions drop / end", "2");
  check_error(kHead + "eth has_vlan is 0 / vlan vid is 1 / end actions drop / end", "vlan");
  check_error(kHead + "end actions jump grop 1 / end", "grop");
  check_error(kHead + "end actions jump group -1 / end", "-1");
  check_error(kHead + "end actions of_set_vlan_vid vlan_vid 5000 / end", "5000");
  check_error(kHead + "end actions queue index 1 / end", "queue");
  check_error(kHead + "end actions drop end", "end");
  check_error(kHead + "end actions sample ratio 2 index 0 / end", "2");
  check_error(kHead + "end actions sample ratio 1 index 3 / end", "3");
  check_error(kHead + "end actions drop / end extra", "extra");
  check_error("flow create 0 group 0 pattern end actions drop / end", "pattern");
  check_error("flow create 0 ingress pattern end actions drop / end", "ingress");
  check_error("flow create 70000 transfer pattern end actions drop / end", "70000");
  check_error("flow destroy 0 rule 1", "destroy");
  check_error("flow create 0 transfer group 1 group 2 pattern end actions drop / end", "group");
  check_error("set sample_actions 0 queue index 1 / end\n" + kHead + "end actions drop / end",
              "queue");
  check_error("set sample_actions 0 port_id id 1 / end\nset sample_actions 0 port_id id 2 / end\n" +
                  kHead + "end actions drop / end",
              "0");
  check_error(kHead + "end actions drop / end\n" + kHead + "end actions drop / end", "flow");

  CHECK_FALSE(parse_testpmd_rule("").ok());
  CHECK_FALSE(parse_testpmd_rule("\n \n").ok());
  // The end of the text is named as such.
  auto r = parse_testpmd_rule(kHead + "eth src is");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("expected a value") != std::string::npos);
  r = parse_testpmd_rule(kHead + "end actions drop /");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("end of the text") != std::string::npos);
  CHECK_FALSE(parse_match_text("eth / end /").ok());
  CHECK_FALSE(parse_actions_text("drop / end end").ok());
  CHECK_FALSE(parse_actions_text("").ok());
}

TEST_CASE("mutated rule text is parsed or refused, never a crash") {
  RandomRules gen(7);
  std::mt19937 rng(99);
  const std::vector<std::string> junk = {
      "",      "/",  "end",   "is", "spec", "mask", "0x",  "99999999999999999999",
      "ff:ff", "::", "1.2.3", "-1", "\t",   "\x01", "eth", "sample"};
  int refused = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = testpmd_text(gen.next(), 0);
    std::vector<std::string> words;
    size_t at = 0;
    while (at < text.size()) {
      size_t sp = text.find_first_of(" \n", at);
      if (sp == std::string::npos) sp = text.size();
      words.push_back(text.substr(at, sp - at) + (sp < text.size() ? text.substr(sp, 1) : ""));
      at = sp + 1;
    }
    const size_t k = std::uniform_int_distribution<size_t>(0, words.size() - 1)(rng);
    switch (i % 4) {
      case 0:
        words.erase(words.begin() + static_cast<long>(k));
        break;
      case 1:
        words[k] = junk[static_cast<size_t>(i / 4) % junk.size()] + " ";
        break;
      case 2:
        words.resize(k);
        break;
      default:
        std::swap(words[k], words[(k + 1) % words.size()]);
        break;
    }
    std::string bad;
    for (const auto& w : words) bad += w;
    auto r = parse_testpmd_rule(bad);
    if (!r.ok()) {
      ++refused;
      CHECK(!r.error().message.empty());
    }
    (void)parse_match_text(bad);
    (void)parse_actions_text(bad);
  }
  CHECK(refused > 1500);
}
