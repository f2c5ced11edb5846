// slowpath/drop_reason.h declares every reason the slow path drops a frame, once: name,
// description. Counters, `show slowpath counters`, its JSON and docs/ read this table.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vfs::slowpath {

#define VFS_FOREACH_DROP_REASON(X)                                                    \
  X(malformed, "frame too short or with a broken header")                            \
  X(no_policy, "arrived on a port with no vEthernet bound")                          \
  X(port_disabled, "the vEthernet fails closed (profile disabled, VLAN missing...)") \
  X(vlan, "VLAN not admitted on this port (tag on an access port, unknown VLAN)")    \
  X(same_port, "destination MAC lives on the port the frame came from")              \
  X(no_buffer, "no mbuf left to copy a flooded frame")                               \
  X(tx_full, "the representor's transmit queue was full")

enum class DropReason : uint8_t {
#define VFS_DROP_ENUM(name, desc) name,
  VFS_FOREACH_DROP_REASON(VFS_DROP_ENUM)
#undef VFS_DROP_ENUM
      count_
};

constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::count_);

struct DropReasonInfo {
  const char* name;
  const char* description;
};

inline constexpr DropReasonInfo kDropReasons[] = {
#define VFS_DROP_INFO(name, desc) {#name, desc},
    VFS_FOREACH_DROP_REASON(VFS_DROP_INFO)
#undef VFS_DROP_INFO
};

}  // namespace vfs::slowpath
