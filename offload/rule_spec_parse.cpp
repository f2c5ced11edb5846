#include "offload/rule_spec_parse.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <fmt/format.h>

namespace vfs::offload {
namespace {

// The words of one line, with the position of each for error messages.
class Words {
 public:
  explicit Words(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && is_space(text[i])) ++i;
      size_t j = i;
      while (j < text.size() && !is_space(text[j])) ++j;
      if (j > i) words_.push_back(text.substr(i, j - i));
      i = j;
    }
  }

  bool done() const { return at_ == words_.size(); }
  std::string_view peek() const { return done() ? std::string_view() : words_[at_]; }
  size_t position() const { return at_; }
  std::string_view next() { return done() ? std::string_view() : words_[at_++]; }

  // An error about word `pos` (the one just read by default).
  Error error_at(size_t pos, std::string_view what) const {
    if (pos >= words_.size()) return make_error(EINVAL, "at the end of the text: {}", what);
    std::string w(words_[pos].substr(0, 48));
    for (char& c : w)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return make_error(EINVAL, "'{}' (word {}): {}", w, pos + 1, what);
  }
  Error error(std::string_view what) const { return error_at(at_ == 0 ? 0 : at_ - 1, what); }

  // Reads the word `want`, or fails naming what is there instead.
  Result<void> expect(std::string_view want) {
    const size_t pos = at_;
    if (next() != want) return error_at(pos, fmt::format("expected '{}'", want));
    return ok();
  }

 private:
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }
  std::vector<std::string_view> words_;
  size_t at_ = 0;
};

// ---- values ------------------------------------------------------------------------------

std::optional<uint64_t> number(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<uint64_t> number_at(const Words& w, size_t pos, std::string_view s, uint64_t max,
                           std::string_view what) {
  auto v = number(s);
  if (!v || *v > max)
    return w.error_at(pos, fmt::format("{} must be a number from 0 to {}", what, max));
  return *v;
}

// Reads the next word as a number in [0, max].
Result<uint64_t> next_number(Words& w, uint64_t max, std::string_view what) {
  const size_t pos = w.position();
  return number_at(w, pos, w.next(), max, what);
}

std::optional<std::array<uint8_t, 16>> ip(std::string_view s, uint8_t l3) {
  std::array<uint8_t, 16> a{};
  if (s.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string z(s);
  if (inet_pton(l3 == 6 ? AF_INET6 : AF_INET, z.c_str(), a.data()) != 1) return std::nullopt;
  return a;
}

// ---- items -------------------------------------------------------------------------------

// One field of an item as written: `NAME is V`, or `NAME spec V` and `NAME mask M`.
struct FieldText {
  std::optional<size_t> is, spec, mask;  // positions of the value words
  std::string_view is_v, spec_v, mask_v;
};

// The fields of one item up to its '/', by name (in the order written).
struct ItemText {
  size_t pos = 0;  // the item's name
  std::vector<std::pair<std::string_view, FieldText>> fields;
  std::vector<size_t> name_pos;

  const FieldText* find(std::string_view n) const {
    for (const auto& f : fields)
      if (f.first == n) return &f.second;
    return nullptr;
  }
};

Result<ItemText> read_item_fields(Words& w, std::initializer_list<std::string_view> known) {
  ItemText it;
  it.pos = w.position() - 1;
  for (;;) {
    const size_t name_pos = w.position();
    const std::string_view name = w.next();
    if (name == "/") break;
    if (name.empty()) return w.error_at(name_pos, "expected a field or '/'");
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return w.error_at(name_pos, fmt::format("unknown field (expected {} or '/')",
                                              list.empty() ? std::string("no field") : list));
    }
    const size_t op_pos = w.position();
    const std::string_view op = w.next();
    const size_t val_pos = w.position();
    const std::string_view val = w.next();
    if (op != "is" && op != "spec" && op != "mask")
      return w.error_at(op_pos, "expected 'is', 'spec' or 'mask'");
    if (val.empty() || val == "/") return w.error_at(val_pos, "expected a value");
    auto f = std::find_if(it.fields.begin(), it.fields.end(),
                          [&](const auto& e) { return e.first == name; });
    if (f == it.fields.end()) {
      it.fields.push_back({name, {}});
      f = it.fields.end() - 1;
    }
    FieldText& ft = f->second;
    std::optional<size_t>& slot = op == "is" ? ft.is : op == "spec" ? ft.spec : ft.mask;
    if (slot) return w.error_at(op_pos, fmt::format("'{} {}' given twice", name, op));
    slot = val_pos;
    (op == "is" ? ft.is_v : op == "spec" ? ft.spec_v : ft.mask_v) = val;
    if (ft.is && (ft.spec || ft.mask))
      return w.error_at(op_pos,
                        fmt::format("'{}' takes 'is' or 'spec' with 'mask', not both", name));
  }
  return it;
}

// A field that takes `is` only: its value word (position, text).
Result<std::pair<size_t, std::string_view>> is_only(const Words& w, std::string_view name,
                                                    const FieldText& f) {
  if (!f.is)
    return w.error_at(f.spec ? *f.spec : *f.mask, fmt::format("'{}' takes 'is' only", name));
  return std::pair{*f.is, f.is_v};
}

// A field given as `is` or `spec`+`mask`: value and mask positions and words (the mask is
// empty for `is`).
struct SpecMask {
  size_t value_pos = 0, mask_pos = 0;
  std::string_view value, mask;  // mask empty: all ones
};

Result<SpecMask> spec_mask(const Words& w, std::string_view name, const FieldText& f) {
  if (f.is) return SpecMask{*f.is, *f.is, f.is_v, {}};
  if (!f.spec) return w.error_at(*f.mask, fmt::format("'{} mask' needs '{} spec'", name, name));
  if (!f.mask) return w.error_at(*f.spec, fmt::format("'{} spec' needs '{} mask'", name, name));
  return SpecMask{*f.spec, *f.mask, f.spec_v, f.mask_v};
}

Result<void> mac_field(const Words& w, std::string_view name, const FieldText& f,
                       std::optional<Mac>& value, std::optional<Mac>& mask_out) {
  auto sm = spec_mask(w, name, f);
  if (!sm) return sm.error();
  auto v = parse_mac(sm->value);
  if (!v) return w.error_at(sm->value_pos, "expected a MAC address (xx:xx:xx:xx:xx:xx)");
  value = *v;
  mask_out.reset();
  if (!sm->mask.empty()) {
    auto m = parse_mac(sm->mask);
    if (!m) return w.error_at(sm->mask_pos, "expected a MAC mask (xx:xx:xx:xx:xx:xx)");
    if (!std::all_of(m->begin(), m->end(), [](uint8_t b) { return b == 0xff; })) mask_out = *m;
  }
  return ok();
}

Result<IpMatch> ip_field(const Words& w, std::string_view name, const FieldText& f, uint8_t l3) {
  auto sm = spec_mask(w, name, f);
  if (!sm) return sm.error();
  const char* kind = l3 == 6 ? "an IPv6 address" : "an IPv4 address";
  auto a = ip(sm->value, l3);
  if (!a) return w.error_at(sm->value_pos, fmt::format("expected {}", kind));
  IpMatch m;
  m.addr = *a;
  if (sm->mask.empty()) {
    std::fill_n(m.mask.begin(), l3 == 6 ? 16 : 4, uint8_t{0xff});
  } else {
    auto k = ip(sm->mask, l3);
    if (!k) return w.error_at(sm->mask_pos, fmt::format("expected {} as the mask", kind));
    m.mask = *k;
  }
  return m;
}

Result<U16Match> u16_field(const Words& w, std::string_view name, const FieldText& f) {
  auto sm = spec_mask(w, name, f);
  if (!sm) return sm.error();
  auto v = number_at(w, sm->value_pos, sm->value, 0xffff, fmt::format("'{}'", name));
  if (!v) return v.error();
  U16Match m{static_cast<uint16_t>(*v), 0xffff};
  if (!sm->mask.empty()) {
    auto k = number_at(w, sm->mask_pos, sm->mask, 0xffff, fmt::format("'{}' mask", name));
    if (!k) return k.error();
    m.mask = static_cast<uint16_t>(*k);
  }
  return m;
}

Result<uint64_t> is_number(const Words& w, std::string_view name, const FieldText& f,
                           uint64_t max) {
  auto v = is_only(w, name, f);
  if (!v) return v.error();
  return number_at(w, v->first, v->second, max, fmt::format("'{}'", name));
}

enum Rank { kRankPort = 1, kRankEth, kRankVlan, kRankL3, kRankL4 };

struct PatternState {
  int rank = 0;
  // ETH type: the outer tag's TPID when a VLAN item follows, else the frame's EtherType.
  std::optional<uint16_t> eth_type;
};

Result<void> parse_item(Words& w, std::string_view name, RuleMatch& m, PatternState& st) {
  const size_t pos = w.position() - 1;
  int rank = 0;
  if (name == "represented_port")
    rank = kRankPort;
  else if (name == "eth")
    rank = kRankEth;
  else if (name == "vlan")
    rank = kRankVlan;
  else if (name == "ipv4" || name == "ipv6")
    rank = kRankL3;
  else if (name == "tcp" || name == "udp" || name == "icmp" || name == "icmp6")
    rank = kRankL4;
  else
    return w.error_at(pos,
                      "unknown item (expected represented_port, eth, vlan, ipv4, ipv6, tcp, "
                      "udp, icmp, icmp6 or end)");
  if (rank <= st.rank)
    return w.error_at(pos,
                      "item out of order or repeated (items go represented_port, eth, vlan, "
                      "ipv4|ipv6, tcp|udp|icmp|icmp6)");
  st.rank = rank;

  auto fields = [&](std::initializer_list<std::string_view> known) {
    return read_item_fields(w, known);
  };
  switch (rank) {
    case kRankPort: {
      auto it = fields({"ethdev_port_id"});
      if (!it) return it.error();
      const FieldText* f = it->find("ethdev_port_id");
      if (!f) return w.error_at(pos, "represented_port needs 'ethdev_port_id is N'");
      auto v = is_number(w, "ethdev_port_id", *f, 0xffff);
      if (!v) return v.error();
      m.in_port = static_cast<uint16_t>(*v);
      return ok();
    }
    case kRankEth: {
      auto it = fields({"src", "dst", "type", "has_vlan"});
      if (!it) return it.error();
      if (const FieldText* f = it->find("src")) {
        if (auto r = mac_field(w, "src", *f, m.eth_src, m.eth_src_mask); !r) return r.error();
      }
      if (const FieldText* f = it->find("dst")) {
        if (auto r = mac_field(w, "dst", *f, m.eth_dst, m.eth_dst_mask); !r) return r.error();
      }
      if (const FieldText* f = it->find("type")) {
        auto v = is_number(w, "type", *f, 0xffff);
        if (!v) return v.error();
        st.eth_type = static_cast<uint16_t>(*v);
      }
      if (const FieldText* f = it->find("has_vlan")) {
        auto v = is_number(w, "has_vlan", *f, 1);
        if (!v) return v.error();
        m.has_vlan = *v == 1;
      }
      return ok();
    }
    case kRankVlan: {
      auto it = fields({"vid", "inner_type", "has_more_vlan"});
      if (!it) return it.error();
      if (m.has_vlan == false)
        return w.error_at(pos, "vlan item after 'eth has_vlan is 0' never matches");
      m.tpid = st.eth_type;
      st.eth_type.reset();
      if (const FieldText* f = it->find("vid")) {
        auto v = is_number(w, "vid", *f, 4095);
        if (!v) return v.error();
        m.vlan_vid = static_cast<uint16_t>(*v);
      }
      if (const FieldText* f = it->find("inner_type")) {
        auto v = is_number(w, "inner_type", *f, 0xffff);
        if (!v) return v.error();
        m.ether_type = static_cast<uint16_t>(*v);
      }
      if (const FieldText* f = it->find("has_more_vlan")) {
        auto v = is_number(w, "has_more_vlan", *f, 1);
        if (!v) return v.error();
        m.more_vlan = *v == 1;
      }
      // `tagged` stands for a VLAN item that nothing else in the match implies.
      m.tagged = !m.tpid && !m.vlan_vid && !m.more_vlan;
      return ok();
    }
    case kRankL3: {
      const uint8_t l3 = name == "ipv6" ? 6 : 4;
      auto it = fields({"src", "dst", "proto"});
      if (!it) return it.error();
      m.l3 = l3;
      if (const FieldText* f = it->find("src")) {
        auto v = ip_field(w, "src", *f, l3);
        if (!v) return v.error();
        m.ip_src = *v;
      }
      if (const FieldText* f = it->find("dst")) {
        auto v = ip_field(w, "dst", *f, l3);
        if (!v) return v.error();
        m.ip_dst = *v;
      }
      if (const FieldText* f = it->find("proto")) {
        auto v = is_number(w, "proto", *f, 0xff);
        if (!v) return v.error();
        m.ip_proto = static_cast<uint8_t>(*v);
      }
      return ok();
    }
    default:
      break;
  }

  // L4. The printer picks the item from ip_proto (udp: 17, otherwise tcp) and l3 (icmp6:
  // 6), so the parser keeps those consistent with the item it reads.
  const bool icmp = name == "icmp" || name == "icmp6";
  const uint8_t proto = name == "tcp" ? 6 : name == "udp" ? 17 : name == "icmp" ? 1 : 58;
  if (m.ip_proto && *m.ip_proto != proto)
    return w.error_at(pos, fmt::format("{} item after 'proto is {}'", name, *m.ip_proto));
  if (icmp) {
    const uint8_t l3 = name == "icmp6" ? 6 : 4;
    if (m.l3 && m.l3 != l3)
      return w.error_at(pos, fmt::format("{} item after {}", name, m.l3 == 6 ? "ipv6" : "ipv4"));
    if (l3 == 6) m.l3 = 6;
    auto it = fields({"type", "code"});
    if (!it) return it.error();
    if (const FieldText* f = it->find("type")) {
      auto v = is_number(w, "type", *f, 0xff);
      if (!v) return v.error();
      m.icmp_type = static_cast<uint8_t>(*v);
    }
    if (const FieldText* f = it->find("code")) {
      auto v = is_number(w, "code", *f, 0xff);
      if (!v) return v.error();
      m.icmp_code = static_cast<uint8_t>(*v);
    }
  } else {
    auto it = name == "tcp" ? fields({"src", "dst", "flags"}) : fields({"src", "dst"});
    if (!it) return it.error();
    if (const FieldText* f = it->find("src")) {
      auto v = u16_field(w, "src", *f);
      if (!v) return v.error();
      m.l4_src = *v;
    }
    if (const FieldText* f = it->find("dst")) {
      auto v = u16_field(w, "dst", *f);
      if (!v) return v.error();
      m.l4_dst = *v;
    }
    if (const FieldText* f = it->find("flags")) {
      U8Match fl;
      if (f->is) {
        auto v = number_at(w, *f->is, f->is_v, 0xff, "'flags'");
        if (!v) return v.error();
        fl = {static_cast<uint8_t>(*v), 0xff};
      } else {
        auto sm = spec_mask(w, "flags", *f);
        if (!sm) return sm.error();
        auto v = number_at(w, sm->value_pos, sm->value, 0xff, "'flags'");
        if (!v) return v.error();
        auto k = number_at(w, sm->mask_pos, sm->mask, 0xff, "'flags' mask");
        if (!k) return k.error();
        fl = {static_cast<uint8_t>(*v), static_cast<uint8_t>(*k)};
      }
      m.tcp_flags = fl;
    }
  }
  if (name == "udp" || !m.has_l4()) m.ip_proto = proto;
  return ok();
}

// Reads items up to and including the pattern's `end`.
Result<RuleMatch> parse_pattern(Words& w) {
  RuleMatch m;
  PatternState st;
  for (;;) {
    const size_t pos = w.position();
    const std::string_view name = w.next();
    if (name == "end") break;
    if (name.empty()) return w.error_at(pos, "expected an item or 'end'");
    if (auto r = parse_item(w, name, m, st); !r) return r.error();
  }
  if (st.eth_type) m.ether_type = st.eth_type;  // no VLAN item followed
  return m;
}

// ---- actions -----------------------------------------------------------------------------

using SamplePort = std::function<Result<uint32_t>(const Words&, size_t pos, uint32_t index)>;

Result<uint32_t> keyword_number(Words& w, std::string_view key, uint64_t max) {
  if (auto r = w.expect(key); !r) return r.error();
  auto v = next_number(w, max, fmt::format("'{}'", key));
  if (!v) return v.error();
  return static_cast<uint32_t>(*v);
}

// Reads actions up to and including the list's `end`.
Result<ActionList> parse_action_list(Words& w, const SamplePort& sample_port) {
  ActionList out;
  for (;;) {
    const size_t pos = w.position();
    const std::string_view name = w.next();
    if (name == "end") break;
    Result<uint32_t> arg = 0u;
    ActionKind kind = ActionKind::count;
    if (name == "count") {
      kind = ActionKind::count;
    } else if (name == "drop") {
      kind = ActionKind::drop;
    } else if (name == "of_pop_vlan") {
      kind = ActionKind::pop_vlan;
    } else if (name == "jump") {
      kind = ActionKind::jump;
      arg = keyword_number(w, "group", UINT32_MAX);
    } else if (name == "represented_port") {
      kind = ActionKind::port;
      arg = keyword_number(w, "ethdev_port_id", 0xffff);
    } else if (name == "port_representor") {
      kind = ActionKind::to_slow_path;
      arg = keyword_number(w, "port_id", 0xffff);
    } else if (name == "of_push_vlan") {
      kind = ActionKind::push_vlan;
      arg = keyword_number(w, "ethertype", 0xffff);
    } else if (name == "of_set_vlan_vid") {
      kind = ActionKind::set_vlan_vid;
      arg = keyword_number(w, "vlan_vid", 4095);
    } else if (name == "meter") {
      kind = ActionKind::meter;
      arg = keyword_number(w, "mtr_id", UINT32_MAX);
    } else if (name == "sample") {
      kind = ActionKind::mirror;
      auto ratio = keyword_number(w, "ratio", UINT32_MAX);
      if (!ratio) return ratio.error();
      if (*ratio != 1)
        return w.error("only ratio 1 (a copy of every frame, for mirroring) is a rule action");
      const size_t index_pos = w.position() + 1;
      auto index = keyword_number(w, "index", UINT32_MAX);
      if (!index) return index.error();
      arg = sample_port(w, index_pos, *index);
    } else if (name.empty()) {
      return w.error_at(pos, "expected an action or 'end'");
    } else {
      return w.error_at(pos,
                        "unknown action (expected count, drop, jump, represented_port, "
                        "port_representor, of_push_vlan, of_set_vlan_vid, of_pop_vlan, "
                        "meter, sample or end)");
    }
    if (!arg) return arg.error();
    out.push_back({kind, *arg});
    if (auto r = w.expect("/"); !r) return r.error();
  }
  return out;
}

Result<void> expect_done(const Words& w) {
  if (!w.done()) return w.error_at(w.position(), "unexpected word after the final 'end'");
  return ok();
}

// ---- lines -------------------------------------------------------------------------------

Error in_line(size_t line, const Error& e) {
  return make_error(e.code, "line {}: {}", line, e.message);
}

// `set sample_actions N port_id id P / end` (or represented_port ethdev_port_id P).
Result<void> parse_sample_line(Words& w, std::map<uint32_t, uint32_t>& ports) {
  if (auto r = w.expect("set"); !r) return r.error();
  if (auto r = w.expect("sample_actions"); !r) return r.error();
  const size_t index_pos = w.position();
  auto index = next_number(w, UINT32_MAX, "the sample_actions index");
  if (!index) return index.error();
  const size_t kind_pos = w.position();
  const std::string_view kind = w.next();
  Result<uint32_t> port = 0u;
  if (kind == "port_id")
    port = keyword_number(w, "id", 0xffff);
  else if (kind == "represented_port")
    port = keyword_number(w, "ethdev_port_id", 0xffff);
  else
    return w.error_at(kind_pos,
                      "expected 'port_id' or 'represented_port' (a mirror's one "
                      "destination)");
  if (!port) return port.error();
  if (auto r = w.expect("/"); !r) return r.error();
  if (auto r = w.expect("end"); !r) return r.error();
  if (auto r = expect_done(w); !r) return r.error();
  if (!ports.emplace(static_cast<uint32_t>(*index), *port).second)
    return w.error_at(index_pos, "sample_actions index defined twice");
  return ok();
}

Result<ParsedRule> parse_flow_line(Words& w, const std::map<uint32_t, uint32_t>& ports) {
  ParsedRule out;
  if (auto r = w.expect("flow"); !r) return r.error();
  const size_t cmd_pos = w.position();
  const std::string_view cmd = w.next();
  if (cmd != "create" && cmd != "validate")
    return w.error_at(cmd_pos, "expected 'create' or 'validate'");
  auto proxy = next_number(w, 0xffff, "the port");
  if (!proxy) return proxy.error();
  out.proxy_port = static_cast<uint16_t>(*proxy);
  bool transfer = false, group = false, priority = false;
  for (;;) {
    const size_t pos = w.position();
    const std::string_view a = w.next();
    if (a == "pattern") break;
    if (a == "transfer" && !transfer) {
      transfer = true;
    } else if (a == "group" && !group) {
      auto v = next_number(w, UINT32_MAX, "the group");
      if (!v) return v.error();
      out.spec.group = static_cast<uint32_t>(*v);
      group = true;
    } else if (a == "priority" && !priority) {
      auto v = next_number(w, UINT32_MAX, "the priority");
      if (!v) return v.error();
      out.spec.priority = static_cast<uint32_t>(*v);
      priority = true;
    } else if (a == "ingress" || a == "egress") {
      return w.error_at(pos, "vfswitch rules are transfer rules only");
    } else {
      return w.error_at(pos,
                        "expected 'transfer', 'group N', 'priority N' (each once) or "
                        "'pattern'");
    }
  }
  if (!transfer) return w.error_at(w.position() - 1, "a transfer rule needs 'transfer' first");
  auto m = parse_pattern(w);
  if (!m) return m.error();
  out.spec.match = std::move(*m);
  if (auto r = w.expect("actions"); !r) return r.error();
  auto acts =
      parse_action_list(w, [&](const Words& ws, size_t pos, uint32_t index) -> Result<uint32_t> {
        auto it = ports.find(index);
        if (it == ports.end())
          return ws.error_at(pos, "no 'set sample_actions' line defines this sample index");
        return it->second;
      });
  if (!acts) return acts.error();
  out.spec.actions = std::move(*acts);
  if (auto r = expect_done(w); !r) return r.error();
  return out;
}

}  // namespace

Result<ParsedRule> parse_testpmd_rule(std::string_view text) {
  std::vector<std::string_view> lines;
  for (size_t i = 0; i <= text.size();) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view l = text.substr(i, j - i);
    if (l.find_first_not_of(" \t\r") != std::string_view::npos) lines.push_back(l);
    i = j + 1;
  }
  if (lines.empty()) return make_error(EINVAL, "testpmd rule: the text is empty");
  std::map<uint32_t, uint32_t> ports;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    Words w(lines[i]);
    if (auto r = parse_sample_line(w, ports); !r) return in_line(i + 1, r.error());
  }
  Words w(lines.back());
  auto r = parse_flow_line(w, ports);
  if (!r) return in_line(lines.size(), r.error());
  return r;
}

Result<RuleMatch> parse_match_text(std::string_view text) {
  Words w(text);
  auto m = parse_pattern(w);
  if (!m) return make_error(m.error().code, "match: {}", m.error().message);
  if (auto r = expect_done(w); !r) return make_error(EINVAL, "match: {}", r.error().message);
  return m;
}

Result<ActionList> parse_actions_text(std::string_view text,
                                      std::span<const uint16_t> sample_ports) {
  Words w(text);
  auto a = parse_action_list(w, [&](const Words&, size_t, uint32_t index) -> Result<uint32_t> {
    return index < sample_ports.size() ? uint32_t{sample_ports[index]} : kUnknownMirrorPort;
  });
  if (!a) return make_error(a.error().code, "actions: {}", a.error().message);
  if (auto r = expect_done(w); !r) return make_error(EINVAL, "actions: {}", r.error().message);
  return a;
}

}  // namespace vfs::offload
