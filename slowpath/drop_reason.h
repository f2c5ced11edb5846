// slowpath/drop_reason.h: the slow path counts drops by the reasons declared once in
// offload/drop_reason.h (shared with the rule compiler, so hardware and software counts
// merge per reason).
#pragma once

#include "offload/drop_reason.h"

namespace vfs::slowpath {
using offload::DropReason;
using offload::DropReasonInfo;
using offload::kDropReasonCount;
using offload::kDropReasons;
}  // namespace vfs::slowpath
