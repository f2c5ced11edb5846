#include "drivers/flow_backend.h"

#include <cstring>

namespace vfs::drivers {

const char* flow_error_type_name(rte_flow_error_type t) {
  switch (t) {
    case RTE_FLOW_ERROR_TYPE_NONE: return "none";
    case RTE_FLOW_ERROR_TYPE_UNSPECIFIED: return "unspecified";
    case RTE_FLOW_ERROR_TYPE_HANDLE: return "handle";
    case RTE_FLOW_ERROR_TYPE_ATTR_GROUP: return "attr group";
    case RTE_FLOW_ERROR_TYPE_ATTR_PRIORITY: return "attr priority";
    case RTE_FLOW_ERROR_TYPE_ATTR_INGRESS: return "attr ingress";
    case RTE_FLOW_ERROR_TYPE_ATTR_EGRESS: return "attr egress";
    case RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER: return "attr transfer";
    case RTE_FLOW_ERROR_TYPE_ATTR: return "attr";
    case RTE_FLOW_ERROR_TYPE_ITEM_NUM: return "item num";
    case RTE_FLOW_ERROR_TYPE_ITEM_SPEC: return "item spec";
    case RTE_FLOW_ERROR_TYPE_ITEM_LAST: return "item last";
    case RTE_FLOW_ERROR_TYPE_ITEM_MASK: return "item mask";
    case RTE_FLOW_ERROR_TYPE_ITEM: return "item";
    case RTE_FLOW_ERROR_TYPE_ACTION_NUM: return "action num";
    case RTE_FLOW_ERROR_TYPE_ACTION_CONF: return "action conf";
    case RTE_FLOW_ERROR_TYPE_ACTION: return "action";
    default: return "other";
  }
}

Error FlowError::to_error() const {
  return Error{code, fmt::format("{}: {} ({})", flow_error_type_name(type), message, std::strerror(code))};
}

FlowError flow_error_from(const rte_flow_error& e, int rte_errno_value) {
  FlowError out;
  out.code = rte_errno_value > 0 ? rte_errno_value : (rte_errno_value < 0 ? -rte_errno_value : EINVAL);
  out.type = e.type;
  out.message = e.message ? e.message : std::strerror(out.code);
  return out;
}

}  // namespace vfs::drivers
