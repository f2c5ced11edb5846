// rte_flow_pick_transfer_proxy, rte_flow_conv and the rte_mtr policy calls are
// experimental in DPDK 22.11.
#define ALLOW_EXPERIMENTAL_API 1

#include "drivers/rte_flow/rte_flow_backend.h"

#include <cstring>

#include <rte_errno.h>

#include "base/log.h"

namespace vfs::drivers {
namespace {

constexpr unsigned char kPoison = 0x22;  // testpmd's
// Rules come from our compiler, END-terminated; the bound only protects error reporting.
constexpr int kMaxEntries = 256;

bool still_poisoned(const void* field, size_t size) {
  const auto* b = static_cast<const unsigned char*>(field);
  for (size_t i = 0; i < size; ++i)
    if (b[i] != kPoison) return false;
  return true;
}

template <class T>
bool inside(const void* p, const T* obj) {
  const auto* b = static_cast<const char*>(p);
  const auto* o = reinterpret_cast<const char*>(obj);
  return obj && b >= o && b < o + sizeof(T);
}

const char* item_name(rte_flow_item_type t) {
  const char* name = nullptr;
  rte_flow_error err;
  if (rte_flow_conv(RTE_FLOW_CONV_OP_ITEM_NAME_PTR, &name, sizeof(name),
                    reinterpret_cast<const void*>(static_cast<uintptr_t>(t)), &err) < 0 ||
      !name)
    return "?";
  return name;
}

const char* action_name(rte_flow_action_type t) {
  const char* name = nullptr;
  rte_flow_error err;
  if (rte_flow_conv(RTE_FLOW_CONV_OP_ACTION_NAME_PTR, &name, sizeof(name),
                    reinterpret_cast<const void*>(static_cast<uintptr_t>(t)), &err) < 0 ||
      !name)
    return "?";
  return name;
}

const char* mtr_error_type_name(rte_mtr_error_type t) {
  switch (t) {
    case RTE_MTR_ERROR_TYPE_NONE:
      return "none";
    case RTE_MTR_ERROR_TYPE_UNSPECIFIED:
      return "unspecified";
    case RTE_MTR_ERROR_TYPE_METER_PROFILE_ID:
      return "meter profile id";
    case RTE_MTR_ERROR_TYPE_METER_PROFILE:
      return "meter profile";
    case RTE_MTR_ERROR_TYPE_MTR_ID:
      return "meter id";
    case RTE_MTR_ERROR_TYPE_MTR_PARAMS:
      return "meter params";
    case RTE_MTR_ERROR_TYPE_POLICER_ACTION_GREEN:
    case RTE_MTR_ERROR_TYPE_POLICER_ACTION_YELLOW:
    case RTE_MTR_ERROR_TYPE_POLICER_ACTION_RED:
      return "policer action";
    case RTE_MTR_ERROR_TYPE_STATS_MASK:
      return "stats mask";
    case RTE_MTR_ERROR_TYPE_STATS:
      return "stats";
    case RTE_MTR_ERROR_TYPE_SHARED:
      return "shared";
    case RTE_MTR_ERROR_TYPE_METER_POLICY_ID:
      return "meter policy id";
    case RTE_MTR_ERROR_TYPE_METER_POLICY:
      return "meter policy";
    default:
      return "other";
  }
}

constexpr uint64_t kAllMeterStats = RTE_MTR_STATS_N_PKTS_GREEN | RTE_MTR_STATS_N_PKTS_YELLOW |
                                    RTE_MTR_STATS_N_PKTS_RED | RTE_MTR_STATS_N_PKTS_DROPPED |
                                    RTE_MTR_STATS_N_BYTES_GREEN | RTE_MTR_STATS_N_BYTES_YELLOW |
                                    RTE_MTR_STATS_N_BYTES_RED | RTE_MTR_STATS_N_BYTES_DROPPED;

bool has_count(const rte_flow_action* actions) {
  for (int i = 0; i < kMaxEntries && actions[i].type != RTE_FLOW_ACTION_TYPE_END; ++i)
    if (actions[i].type == RTE_FLOW_ACTION_TYPE_COUNT) return true;
  return false;
}

}  // namespace

rte_flow_error poisoned_flow_error() {
  rte_flow_error e;
  std::memset(&e, kPoison, sizeof(e));
  return e;
}

FlowError flow_error_from_pmd(const rte_flow_error& e, int ret) {
  rte_flow_error clean = e;
  const bool type_unset = still_poisoned(&e.type, sizeof(e.type));
  const bool message_unset = still_poisoned(&e.message, sizeof(e.message));
  if (type_unset) clean.type = RTE_FLOW_ERROR_TYPE_UNSPECIFIED;
  if (message_unset) clean.message = nullptr;
  if (still_poisoned(&e.cause, sizeof(e.cause))) clean.cause = nullptr;
  FlowError out = flow_error_from(clean, ret);
  if (type_unset && message_unset) out.message += " (the PMD gave no rte_flow_error)";
  return out;
}

std::string flow_error_cause(const void* cause, const rte_flow_item* pattern,
                             const rte_flow_action* actions) {
  if (!cause) return {};
  for (int i = 0; pattern && i < kMaxEntries; ++i) {
    const rte_flow_item& it = pattern[i];
    if (inside(cause, &it) || (it.spec && cause == it.spec) || (it.last && cause == it.last) ||
        (it.mask && cause == it.mask))
      return fmt::format("item {} ({})", i, item_name(it.type));
    if (it.type == RTE_FLOW_ITEM_TYPE_END) break;
  }
  for (int i = 0; actions && i < kMaxEntries; ++i) {
    const rte_flow_action& a = actions[i];
    if (inside(cause, &a) || (a.conf && cause == a.conf))
      return fmt::format("action {} ({})", i, action_name(a.type));
    if (a.type == RTE_FLOW_ACTION_TYPE_END) break;
  }
  return {};
}

RteFlowBackend::RteFlowBackend(uint16_t proxy_port, std::string port_name)
    : port_(proxy_port), port_name_(std::move(port_name)) {}

RteFlowBackend::~RteFlowBackend() {
  for (auto& [id, rule] : rules_) {
    rte_flow_error err = poisoned_flow_error();
    int rc = rte_flow_destroy(port_, rule.flow, &err);
    if (rc != 0)
      log::warn("rte_flow", "rule {} left on port {} ({}): {}", id, port_, port_name_,
                flow_error_from_pmd(err, rc).to_error().message);
  }
  rules_.clear();
  if (auto st = remove_meters(); !st)
    log::warn("rte_flow", "meters left on port {} ({}): {}", port_, port_name_, st.error().message);
}

FlowError RteFlowBackend::failure(const char* op, const rte_flow_error& e, int ret,
                                  const rte_flow_item* pattern,
                                  const rte_flow_action* actions) const {
  FlowError fe = flow_error_from_pmd(e, ret);
  const void* cause = still_poisoned(&e.cause, sizeof(e.cause)) ? nullptr : e.cause;
  std::string where = flow_error_cause(cause, pattern, actions);
  fe.message = fmt::format("rte_flow {} on port {} ({}){}{}: {}", op, port_, port_name_,
                           where.empty() ? "" : ", ", where, fe.message);
  return fe;
}

FlowStatus RteFlowBackend::validate(const rte_flow_attr& attr, const rte_flow_item* pattern,
                                    const rte_flow_action* actions) {
  rte_flow_error err = poisoned_flow_error();
  int rc = rte_flow_validate(port_, &attr, pattern, actions, &err);
  if (rc != 0) return failure("validate", err, rc, pattern, actions);
  return Unit{};
}

FlowResult<FlowHandle> RteFlowBackend::create(const rte_flow_attr& attr,
                                              const rte_flow_item* pattern,
                                              const rte_flow_action* actions) {
  rte_flow_error err = poisoned_flow_error();
  rte_errno = 0;
  rte_flow* f = rte_flow_create(port_, &attr, pattern, actions, &err);
  if (!f) return failure("create", err, rte_errno, pattern, actions);
  const uint64_t id = next_id_++;
  rules_.emplace(id, Rule{f, has_count(actions)});
  return FlowHandle{id};
}

FlowStatus RteFlowBackend::destroy(FlowHandle h) {
  auto it = rules_.find(h.id);
  if (it == rules_.end())
    return FlowError{ENOENT, RTE_FLOW_ERROR_TYPE_HANDLE,
                     fmt::format("rte_flow destroy on port {} ({}): no rule with handle {}", port_,
                                 port_name_, h.id)};
  rte_flow_error err = poisoned_flow_error();
  int rc = rte_flow_destroy(port_, it->second.flow, &err);
  // On failure the rule is kept: it may still be in hardware, and flush() removes it.
  if (rc != 0) return failure("destroy", err, rc);
  rules_.erase(it);
  return Unit{};
}

FlowResult<FlowCounters> RteFlowBackend::query_count(FlowHandle h) {
  auto it = rules_.find(h.id);
  if (it == rules_.end())
    return FlowError{ENOENT, RTE_FLOW_ERROR_TYPE_HANDLE,
                     fmt::format("rte_flow query on port {} ({}): no rule with handle {}", port_,
                                 port_name_, h.id)};
  if (!it->second.counted)
    return FlowError{ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
                     fmt::format("rte_flow query on port {} ({}): rule {} has no COUNT action",
                                 port_, port_name_, h.id)};
  const rte_flow_action count[] = {{RTE_FLOW_ACTION_TYPE_COUNT, nullptr},
                                   {RTE_FLOW_ACTION_TYPE_END, nullptr}};
  rte_flow_query_count data{};
  data.reset = 0;  // counters are cumulative; the rule table keeps the history
  rte_flow_error err = poisoned_flow_error();
  int rc = rte_flow_query(port_, it->second.flow, count, &data, &err);
  if (rc != 0) return failure("query", err, rc);
  FlowCounters c;
  c.packets = data.hits_set ? data.hits : 0;
  c.bytes = data.bytes_set ? data.bytes : 0;
  return c;
}

FlowStatus RteFlowBackend::flush() {
  rte_flow_error err = poisoned_flow_error();
  int rc = rte_flow_flush(port_, &err);
  // Even a failed flush may have freed some rules; a dangling rte_flow pointer passed to
  // a later destroy would be a use-after-free in the PMD, a leaked rule only a leak.
  rules_.clear();
  FlowStatus meters = remove_meters();
  if (rc != 0) return failure("flush", err, rc);
  return meters;
}

// ---- meters (rte_mtr) ------------------------------------------------------------------

namespace {

rte_mtr_error poisoned_mtr_error() {
  rte_mtr_error e;
  std::memset(&e, kPoison, sizeof(e));
  return e;
}

}  // namespace

FlowError RteFlowBackend::mtr_failure(const char* op, uint32_t id, const rte_mtr_error& e,
                                      int ret) const {
  FlowError fe;
  fe.code = ret < 0 ? -ret : (ret > 0 ? ret : EIO);
  fe.type = RTE_FLOW_ERROR_TYPE_UNSPECIFIED;
  const bool type_set = !still_poisoned(&e.type, sizeof(e.type));
  const bool message_set = !still_poisoned(&e.message, sizeof(e.message)) && e.message;
  fe.message = fmt::format("rte_mtr {} {} on port {} ({}): {}{}{}", op, id, port_, port_name_,
                           type_set ? mtr_error_type_name(e.type) : "", type_set ? ": " : "",
                           message_set ? e.message : std::strerror(fe.code));
  if (!type_set && !message_set) fe.message += " (the PMD gave no rte_mtr_error)";
  return fe;
}

FlowStatus RteFlowBackend::add_meter_profile(uint32_t profile_id, const MeterProfile& p) {
  if (auto st = check_meter_profile(profile_id, p); !st) return st;
  rte_mtr_meter_profile prof{};
  prof.alg = RTE_MTR_SRTCM_RFC2697;
  prof.srtcm_rfc2697.cir = p.cir;
  prof.srtcm_rfc2697.cbs = p.cbs;
  prof.srtcm_rfc2697.ebs = p.ebs;
  prof.packet_mode = 0;  // bytes
  rte_mtr_error err = poisoned_mtr_error();
  if (int rc = rte_mtr_meter_profile_add(port_, profile_id, &prof, &err); rc != 0)
    return mtr_failure("meter profile add", profile_id, err, rc);
  profiles_.insert(profile_id);
  return Unit{};
}

FlowStatus RteFlowBackend::delete_meter_profile(uint32_t profile_id) {
  rte_mtr_error err = poisoned_mtr_error();
  if (int rc = rte_mtr_meter_profile_delete(port_, profile_id, &err); rc != 0)
    return mtr_failure("meter profile delete", profile_id, err, rc);
  profiles_.erase(profile_id);
  return Unit{};
}

FlowStatus RteFlowBackend::ensure_policy() {
  if (policy_added_) return Unit{};
  static const rte_flow_action kDrop[] = {{RTE_FLOW_ACTION_TYPE_DROP, nullptr},
                                          {RTE_FLOW_ACTION_TYPE_END, nullptr}};
  rte_mtr_meter_policy_params policy{};
  policy.actions[RTE_COLOR_GREEN] = nullptr;  // no action: the rule goes on
  policy.actions[RTE_COLOR_YELLOW] = nullptr;
  policy.actions[RTE_COLOR_RED] = kDrop;
  rte_mtr_error err = poisoned_mtr_error();
  if (int rc = rte_mtr_meter_policy_add(port_, kVfsMeterPolicyId, &policy, &err); rc != 0)
    return mtr_failure("meter policy add", kVfsMeterPolicyId, err, rc);
  policy_added_ = true;
  return Unit{};
}

FlowStatus RteFlowBackend::create_meter(uint32_t meter_id, uint32_t profile_id) {
  if (auto st = ensure_policy(); !st) return st;
  rte_mtr_params params{};
  params.meter_profile_id = profile_id;
  params.use_prev_mtr_color = 0;  // color-blind
  params.meter_enable = 1;
  params.stats_mask = kAllMeterStats;
  params.meter_policy_id = kVfsMeterPolicyId;
  rte_mtr_error err = poisoned_mtr_error();
  // shared = 1: one meter polices every rule of a vEth's policy.
  if (int rc = rte_mtr_create(port_, meter_id, &params, 1, &err); rc != 0)
    return mtr_failure("create", meter_id, err, rc);
  meters_.insert(meter_id);
  return Unit{};
}

FlowStatus RteFlowBackend::destroy_meter(uint32_t meter_id) {
  rte_mtr_error err = poisoned_mtr_error();
  if (int rc = rte_mtr_destroy(port_, meter_id, &err); rc != 0)
    return mtr_failure("destroy", meter_id, err, rc);
  meters_.erase(meter_id);
  return Unit{};
}

FlowResult<MeterStats> RteFlowBackend::read_meter_stats(uint32_t meter_id) {
  rte_mtr_stats st{};
  uint64_t mask = 0;
  rte_mtr_error err = poisoned_mtr_error();
  if (int rc = rte_mtr_stats_read(port_, meter_id, &st, &mask, 0, &err); rc != 0)
    return mtr_failure("stats read", meter_id, err, rc);
  auto get = [&](uint64_t bit, uint64_t v) { return (mask & bit) ? v : 0; };
  MeterStats out;
  out.conform_packets = get(RTE_MTR_STATS_N_PKTS_GREEN, st.n_pkts[RTE_COLOR_GREEN]);
  out.conform_bytes = get(RTE_MTR_STATS_N_BYTES_GREEN, st.n_bytes[RTE_COLOR_GREEN]);
  out.exceed_packets = get(RTE_MTR_STATS_N_PKTS_YELLOW, st.n_pkts[RTE_COLOR_YELLOW]);
  out.exceed_bytes = get(RTE_MTR_STATS_N_BYTES_YELLOW, st.n_bytes[RTE_COLOR_YELLOW]);
  // With red dropped by the policy, some PMDs count red only as dropped.
  out.violate_packets = (mask & RTE_MTR_STATS_N_PKTS_RED)
                            ? st.n_pkts[RTE_COLOR_RED]
                            : get(RTE_MTR_STATS_N_PKTS_DROPPED, st.n_pkts_dropped);
  out.violate_bytes = (mask & RTE_MTR_STATS_N_BYTES_RED)
                          ? st.n_bytes[RTE_COLOR_RED]
                          : get(RTE_MTR_STATS_N_BYTES_DROPPED, st.n_bytes_dropped);
  return out;
}

FlowStatus RteFlowBackend::remove_meters() {
  FlowStatus first = Unit{};
  auto keep = [&](FlowStatus st) {
    if (!st && first.ok()) first = st;
  };
  for (uint32_t id : std::unordered_set<uint32_t>(meters_)) keep(destroy_meter(id));
  if (policy_added_) {
    rte_mtr_error err = poisoned_mtr_error();
    if (int rc = rte_mtr_meter_policy_delete(port_, kVfsMeterPolicyId, &err); rc != 0)
      keep(mtr_failure("meter policy delete", kVfsMeterPolicyId, err, rc));
    else
      policy_added_ = false;
  }
  for (uint32_t id : std::unordered_set<uint32_t>(profiles_)) keep(delete_meter_profile(id));
  return first;
}

}  // namespace vfs::drivers
