// rte_flow_pick_transfer_proxy and rte_flow_conv are experimental in DPDK 22.11.
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
  if (rc != 0) return failure("flush", err, rc);
  return Unit{};
}

}  // namespace vfs::drivers
