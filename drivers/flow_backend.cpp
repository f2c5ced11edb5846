#include "drivers/flow_backend.h"

#include <cstring>

namespace vfs::drivers {

const char* flow_error_type_name(rte_flow_error_type t) {
  switch (t) {
    case RTE_FLOW_ERROR_TYPE_NONE:
      return "none";
    case RTE_FLOW_ERROR_TYPE_UNSPECIFIED:
      return "unspecified";
    case RTE_FLOW_ERROR_TYPE_HANDLE:
      return "handle";
    case RTE_FLOW_ERROR_TYPE_ATTR_GROUP:
      return "attr group";
    case RTE_FLOW_ERROR_TYPE_ATTR_PRIORITY:
      return "attr priority";
    case RTE_FLOW_ERROR_TYPE_ATTR_INGRESS:
      return "attr ingress";
    case RTE_FLOW_ERROR_TYPE_ATTR_EGRESS:
      return "attr egress";
    case RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER:
      return "attr transfer";
    case RTE_FLOW_ERROR_TYPE_ATTR:
      return "attr";
    case RTE_FLOW_ERROR_TYPE_ITEM_NUM:
      return "item num";
    case RTE_FLOW_ERROR_TYPE_ITEM_SPEC:
      return "item spec";
    case RTE_FLOW_ERROR_TYPE_ITEM_LAST:
      return "item last";
    case RTE_FLOW_ERROR_TYPE_ITEM_MASK:
      return "item mask";
    case RTE_FLOW_ERROR_TYPE_ITEM:
      return "item";
    case RTE_FLOW_ERROR_TYPE_ACTION_NUM:
      return "action num";
    case RTE_FLOW_ERROR_TYPE_ACTION_CONF:
      return "action conf";
    case RTE_FLOW_ERROR_TYPE_ACTION:
      return "action";
    default:
      return "other";
  }
}

Error FlowError::to_error() const {
  return Error{
      code, fmt::format("{}: {} ({})", flow_error_type_name(type), message, std::strerror(code))};
}

FlowError flow_error_from(const rte_flow_error& e, int rte_errno_value) {
  FlowError out;
  out.code =
      rte_errno_value > 0 ? rte_errno_value : (rte_errno_value < 0 ? -rte_errno_value : EINVAL);
  out.type = e.type;
  out.message = e.message ? e.message : std::strerror(out.code);
  return out;
}

namespace {

FlowError no_meters(const FlowBackend& b, const char* op) {
  return FlowError{ENOTSUP, RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
                   fmt::format("{}: {}: this NIC has no meters", b.name(), op)};
}

}  // namespace

void FlowBackend::create_batch(const FlowRuleRef* rules, size_t n,
                               std::vector<FlowResult<FlowHandle>>& out) {
  for (size_t i = 0; i < n; ++i)
    out.push_back(create(*rules[i].attr, rules[i].pattern, rules[i].actions));
}

FlowStatus FlowBackend::add_meter_profile(uint32_t, const MeterProfile&) {
  return no_meters(*this, "meter profile add");
}
FlowStatus FlowBackend::delete_meter_profile(uint32_t) {
  return no_meters(*this, "meter profile delete");
}
FlowStatus FlowBackend::create_meter(uint32_t, uint32_t) {
  return no_meters(*this, "meter create");
}
FlowStatus FlowBackend::destroy_meter(uint32_t) { return no_meters(*this, "meter destroy"); }
FlowResult<MeterStats> FlowBackend::read_meter_stats(uint32_t) {
  return no_meters(*this, "meter stats read");
}

FlowStatus check_meter_profile(uint32_t profile_id, const MeterProfile& p) {
  if (p.cir == 0)
    return FlowError{
        EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
        fmt::format("meter profile {}: cir 0 (the committed rate must be > 0)", profile_id)};
  if (p.cbs == 0 && p.ebs == 0)
    return FlowError{
        EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
        fmt::format("meter profile {}: cbs and ebs are both 0 (no burst at all)", profile_id)};
  return Unit{};
}

}  // namespace vfs::drivers
