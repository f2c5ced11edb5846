// rte_flow_conv (type names) is still experimental in DPDK 22.11; this must precede every
// DPDK header.
#define ALLOW_EXPERIMENTAL_API
#include "drivers/sim/sim_flow_table.h"

#include <strings.h>

#include <algorithm>
#include <cstring>

#include "drivers/sim/sim_classifier.h"
#include "drivers/sim/sim_meters.h"
#include "drivers/sim/sim_rule.h"
#include "drivers/sim/sim_rule_compiler.h"

namespace vfs::drivers::sim {
namespace {

constexpr unsigned kWindowHead = 64;   // room for VLAN pushes in the edit window
constexpr unsigned kWindowMax = 256;   // frame bytes copied into the edit window
constexpr unsigned kMaxSnapshots = 4;  // SAMPLE actions a frame may meet on its way

FlowError table_flow_error(int code, rte_flow_error_type type, std::string msg) {
  return FlowError{code, type, std::move(msg)};
}

// ---- the edit window -------------------------------------------------------------------

// The first bytes of a frame, copied so that VLAN edits can be undone by a later miss; the
// bytes past the window never change.
struct Window {
  uint8_t* data = nullptr;
  uint32_t len = 0;
  uint32_t head = 0;  // free bytes in front of data
};

// Returns the drop reason, or nullopt-like SimCounter::count_ on success.
SimCounter apply_edit(const Op& e, Window& w) {
  switch (e.kind) {
    case Op::Kind::push_vlan:
      if (w.len < 12) return SimCounter::drop_edit_failed;
      if (w.head < 4) return SimCounter::drop_no_headroom;
      std::memmove(w.data - 4, w.data, 12);
      w.data -= 4;
      w.head -= 4;
      w.len += 4;
      store_be16(w.data + 12, e.value);
      store_be16(w.data + 14, 0);
      return SimCounter::count_;
    case Op::Kind::pop_vlan:
      if (w.len < 18 || !is_vlan_tpid(load_be16(w.data + 12))) return SimCounter::count_;
      std::memmove(w.data + 4, w.data, 12);
      w.data += 4;
      w.head += 4;
      w.len -= 4;
      return SimCounter::count_;
    case Op::Kind::set_vid:
    case Op::Kind::set_pcp: {
      if (w.len < 16 || !is_vlan_tpid(load_be16(w.data + 12))) return SimCounter::count_;
      uint16_t tci = load_be16(w.data + 14);
      tci = e.kind == Op::Kind::set_vid ? static_cast<uint16_t>((tci & 0xf000) | e.value)
                                        : static_cast<uint16_t>((tci & 0x1fff) | e.value << 13);
      store_be16(w.data + 14, tci);
      return SimCounter::count_;
    }
    case Op::Kind::meter:
    case Op::Kind::sample:
      break;  // not edits
  }
  return SimCounter::count_;
}

std::string type_name(const char* name, int t) {
  return name ? std::string(name) : fmt::format("type {}", t);
}

}  // namespace

std::string flow_item_name(rte_flow_item_type t) {
  const char* name = nullptr;
  if (static_cast<int>(t) >= 0 &&
      rte_flow_conv(RTE_FLOW_CONV_OP_ITEM_NAME_PTR, &name, sizeof(name),
                    reinterpret_cast<const void*>(static_cast<uintptr_t>(t)), nullptr) < 0)
    name = nullptr;
  return type_name(name, t);
}

std::string flow_action_name(rte_flow_action_type t) {
  const char* name = nullptr;
  if (static_cast<int>(t) >= 0 &&
      rte_flow_conv(RTE_FLOW_CONV_OP_ACTION_NAME_PTR, &name, sizeof(name),
                    reinterpret_cast<const void*>(static_cast<uintptr_t>(t)), nullptr) < 0)
    name = nullptr;
  return type_name(name, t);
}

void copy_mirror(const Mirror& m, const uint8_t* orig, uint32_t orig_len, uint8_t* out) {
  std::memcpy(out, m.head, m.head_len);
  if (orig_len > m.tail_off)
    std::memcpy(out + m.head_len, orig + m.tail_off, orig_len - m.tail_off);
}

// ---- the table -------------------------------------------------------------------------

struct FlowTable::Impl {
  explicit Impl(const FlowTableOptions& opt)
      : clock(opt.clock ? opt.clock : &own_clock), meters(*clock), classifier(opt.classifier) {}

  std::vector<uint16_t> ethdev_ports;
  std::vector<uint16_t> sim_port_of;  // ethdev id -> sim port (CompileContext)
  uint32_t capacity = 0;
  std::vector<int> unsupported_items;
  std::vector<int> unsupported_actions;
  MonotonicClock own_clock;
  const Clock* clock;
  MeterTable meters;
  Classifier classifier;
  RuleStore rules;
  MatchShape shape;  // create()'s, reused: a shape is a few cache lines to clear
  // create_batch()'s run: each rule compiled, waiting to be inserted.
  struct Compiled {
    Rule* rule;
    Classifier::InsertHint hint;
  };
  std::array<MatchShape, kCreateRun> run_shapes;
  std::array<Compiled, kCreateRun> run;
  uint64_t next_seq = 1;
  std::array<uint8_t, kWindowHead + kWindowMax> window{};
  std::array<std::array<uint8_t, kWindowHead + kWindowMax>, kMaxSnapshots> snapshots{};

  CompileContext context() const {
    return CompileContext{sim_port_of, unsupported_items, unsupported_actions, meters};
  }
  FlowError full() const {
    return table_flow_error(ENOSPC, RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
                            fmt::format("sim: flow table full ({} rules)", capacity));
  }
};

FlowTable::FlowTable(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FlowTable::~FlowTable() = default;

Result<std::unique_ptr<FlowTable>> FlowTable::make(std::vector<uint16_t> ethdev_ports,
                                                   const FlowTableOptions& opt) {
  if (ethdev_ports.empty() || ethdev_ports.size() > UINT16_MAX)
    return make_error(EINVAL, "sim flow table: {} ports", ethdev_ports.size());
  auto impl = std::make_unique<Impl>(opt);
  impl->ethdev_ports = std::move(ethdev_ports);
  const uint16_t max_id = *std::max_element(impl->ethdev_ports.begin(), impl->ethdev_ports.end());
  impl->sim_port_of.assign(size_t{max_id} + 1, kNoSimPort);
  // A port listed twice is the first sim port with that id, as the scan found it.
  for (size_t i = impl->ethdev_ports.size(); i-- > 0;)
    impl->sim_port_of[impl->ethdev_ports[i]] = static_cast<uint16_t>(i);
  impl->capacity = opt.capacity;
  // Item and action types are small dense enums; private (negative) types have no name.
  constexpr int kTypeScan = 1024;
  for (const std::string& want : opt.unsupported) {
    if (strcasecmp(want.c_str(), "END") == 0 || strcasecmp(want.c_str(), "VOID") == 0)
      return make_error(EINVAL, "unsupported-feature name '{}': END and VOID are always supported",
                        want);
    bool found = false;
    for (int t = 0; t < kTypeScan; ++t) {
      if (strcasecmp(flow_item_name(static_cast<rte_flow_item_type>(t)).c_str(), want.c_str()) ==
          0) {
        impl->unsupported_items.push_back(t);
        found = true;
        break;
      }
    }
    for (int t = 0; t < kTypeScan; ++t) {
      if (strcasecmp(flow_action_name(static_cast<rte_flow_action_type>(t)).c_str(),
                     want.c_str()) == 0) {
        impl->unsupported_actions.push_back(t);
        found = true;
        break;
      }
    }
    if (!found)
      return make_error(EINVAL, "unsupported-feature name '{}' is not an rte_flow item or action",
                        want);
  }
  return std::unique_ptr<FlowTable>(new FlowTable(std::move(impl)));
}

FlowStatus FlowTable::validate(const rte_flow_attr& attr, const rte_flow_item* pattern,
                               const rte_flow_action* actions) const {
  Rule r;
  MatchShape shape;
  if (auto st = compile_rule(impl_->context(), attr, pattern, actions, r, shape); !st) return st;
  if (impl_->rules.size() >= impl_->capacity) return impl_->full();
  return Unit{};
}

FlowResult<FlowHandle> FlowTable::create(const rte_flow_attr& attr, const rte_flow_item* pattern,
                                         const rte_flow_action* actions) {
  Impl& m = *impl_;
  // Compiled in place: a refused rule gives its slot back.
  Rule* rule = m.rules.acquire();
  MatchShape& shape = m.shape;
  const CompileContext cx = m.context();
  bool vlan_matched = false;
  if (auto st = compile_match(cx, attr, pattern, *rule, shape, vlan_matched); !st) {
    m.rules.release(rule);
    return st.error();
  }
  // The rule's slot in its subtable starts loading while the actions compile.
  const Classifier::InsertHint hint = m.classifier.prepare(*rule, shape);
  if (auto st = compile_rule_actions(cx, attr, actions, vlan_matched, *rule); !st) {
    m.rules.release(rule);
    return st.error();
  }
  if (m.rules.size() > m.capacity) {
    m.rules.release(rule);
    return m.full();
  }
  rule->seq = m.next_seq++;
  if (Meter* mt = rule->meter()) ++mt->rules;
  m.classifier.insert(rule, shape, hint);
  return FlowHandle{rule->id};
}

void FlowTable::create_batch(const FlowRuleRef* rules, size_t n,
                             std::vector<FlowResult<FlowHandle>>& out) {
  Impl& m = *impl_;
  const CompileContext cx = m.context();
  out.reserve(out.size() + n);
  for (size_t done = 0; done < n;) {
    const size_t k = std::min(n - done, kCreateRun);
    // Compiled in order, each into its own shape, as create() would: a rule takes its slot
    // (so the handles and the capacity check are create()'s) and its subtable slot starts
    // loading, while the rules after it compile.
    size_t staged = 0;
    for (size_t i = 0; i < k; ++i) {
      const FlowRuleRef& ref = rules[done + i];
      Rule* rule = m.rules.acquire();
      MatchShape& shape = m.run_shapes[staged];
      bool vlan_matched = false;
      if (auto st = compile_match(cx, *ref.attr, ref.pattern, *rule, shape, vlan_matched); !st) {
        m.rules.release(rule);
        out.push_back(st.error());
        continue;
      }
      const Classifier::InsertHint hint = m.classifier.prepare(*rule, shape);
      if (auto st = compile_rule_actions(cx, *ref.attr, ref.actions, vlan_matched, *rule); !st) {
        m.rules.release(rule);
        out.push_back(st.error());
        continue;
      }
      if (m.rules.size() > m.capacity) {
        m.rules.release(rule);
        out.push_back(m.full());
        continue;
      }
      out.push_back(FlowHandle{rule->id});
      m.run[staged++] = {rule, hint};
    }
    // Inserted in the same order: nothing above read what an insert changes.
    for (size_t i = 0; i < staged; ++i) {
      Rule* rule = m.run[i].rule;
      rule->seq = m.next_seq++;
      if (Meter* mt = rule->meter()) ++mt->rules;
      m.classifier.insert(rule, m.run_shapes[i], m.run[i].hint);
    }
    done += k;
  }
}

FlowStatus FlowTable::destroy(FlowHandle h) {
  Impl& m = *impl_;
  Rule* r = m.rules.find(h.id);
  if (!r)
    return table_flow_error(ENOENT, RTE_FLOW_ERROR_TYPE_HANDLE,
                            fmt::format("sim: no flow with handle {}", h.id));
  m.classifier.erase(r);
  if (Meter* mt = r->meter()) --mt->rules;
  m.rules.release(r);
  return Unit{};
}

FlowResult<FlowCounters> FlowTable::query_count(FlowHandle h) const {
  const Rule* r = impl_->rules.find(h.id);
  if (!r)
    return table_flow_error(ENOENT, RTE_FLOW_ERROR_TYPE_HANDLE,
                            fmt::format("sim: no flow with handle {}", h.id));
  if (!r->counted)
    return table_flow_error(ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                            fmt::format("sim: flow {} has no COUNT action", h.id));
  return r->counters;
}

void FlowTable::clear() {
  impl_->classifier.clear();
  impl_->rules.clear();
  impl_->meters.clear();
}

size_t FlowTable::size() const { return impl_->rules.size(); }

FlowStatus FlowTable::add_meter_profile(uint32_t profile_id, const MeterProfile& profile) {
  return impl_->meters.add_profile(profile_id, profile);
}
FlowStatus FlowTable::delete_meter_profile(uint32_t profile_id) {
  return impl_->meters.delete_profile(profile_id);
}
FlowStatus FlowTable::create_meter(uint32_t meter_id, uint32_t profile_id) {
  return impl_->meters.create(meter_id, profile_id);
}
FlowStatus FlowTable::destroy_meter(uint32_t meter_id) { return impl_->meters.destroy(meter_id); }
FlowResult<MeterStats> FlowTable::meter_stats(uint32_t meter_id) const {
  return impl_->meters.stats(meter_id);
}

Verdict FlowTable::classify(uint16_t in_port, PacketBuffer& pkt) {
  Impl& m = *impl_;
  Verdict v;
  if (in_port >= m.ethdev_ports.size()) return v;
  const uint8_t* view = pkt.data;
  uint32_t view_len = pkt.len;
  Window w;
  // The window replaces the frame's first window_len0 bytes; the rest never changes.
  const uint32_t window_len0 = std::min<uint32_t>(pkt.len, kWindowMax);
  bool edited = false;
  unsigned snapshots = 0;
  auto frame_len = [&] { return edited ? pkt.len + w.len - window_len0 : pkt.len; };
  auto take_sample = [&](const Sample& s) {
    if (snapshots == kMaxSnapshots) {
      v.mirrors_lost = static_cast<uint8_t>(v.mirrors_lost + s.n_out);
      return;
    }
    uint8_t* snap = m.snapshots[snapshots++].data();
    const uint32_t head_len = edited ? w.len : window_len0;
    std::memcpy(snap, edited ? w.data : pkt.data, head_len);
    for (uint8_t o = 0; o < s.n_out; ++o) {
      if (v.n_mirror == kMaxMirrors) {
        ++v.mirrors_lost;
        continue;
      }
      v.mirror[v.n_mirror++] = Mirror{s.out[o], snap, head_len, window_len0};
    }
  };

  uint32_t group = 0;
  const Rule* last = nullptr;
  // JUMP only goes forward, so the walk ends after at most one hop per group.
  for (;;) {
    const Layout l = parse_layout(view, view_len);
    Rule* r = m.classifier.lookup(group, in_port, l, view, view_len);
    if (!r) return v;
    ++r->counters.packets;
    r->counters.bytes += frame_len();
    const Op* ops = r->ops();
    for (uint8_t i = 0; i < r->n_ops; ++i) {
      const Op& op = ops[i];
      switch (op.kind) {
        case Op::Kind::meter:
          if (!m.meters.police(*r->meter(), frame_len())) {
            v.kind = Verdict::Kind::drop;
            v.drop_reason = SimCounter::drop_meter;
            return v;
          }
          continue;
        case Op::Kind::sample:
          take_sample(r->sample(op.value));
          continue;
        default:
          break;
      }
      if (!edited) {
        std::memcpy(m.window.data() + kWindowHead, pkt.data, window_len0);
        w = Window{m.window.data() + kWindowHead, window_len0, kWindowHead};
        edited = true;
      }
      const SimCounter failed = apply_edit(op, w);
      if (failed != SimCounter::count_) {
        v.kind = Verdict::Kind::drop;
        v.drop_reason = failed;
        return v;
      }
      view = w.data;
      view_len = w.len;
    }
    if (r->fate == Rule::Fate::jump) {
      group = r->jump_group;
      continue;
    }
    last = r;
    break;
  }
  if (last->fate == Rule::Fate::drop) {
    v.kind = Verdict::Kind::drop;
    v.drop_reason = SimCounter::drop_rule;
    return v;
  }
  if (edited) {
    const int64_t grow = static_cast<int64_t>(w.len) - window_len0;
    if (grow > static_cast<int64_t>(pkt.headroom)) {
      v.kind = Verdict::Kind::drop;
      v.drop_reason = SimCounter::drop_no_headroom;
      return v;
    }
    pkt.data -= grow;
    pkt.headroom = static_cast<uint32_t>(pkt.headroom - grow);
    pkt.len = static_cast<uint32_t>(pkt.len + grow);
    std::memcpy(pkt.data, w.data, w.len);
  }
  v.kind = Verdict::Kind::forward;
  v.n_out = last->n_out;
  std::copy_n(last->out(), last->n_out, v.out.begin());
  return v;
}

}  // namespace vfs::drivers::sim
