// The table of eSwitch drivers `vfswitchd --driver NAME` can select. Each driver exposes
// only its factory; this is the one place that knows them all.
#include <array>

#include "drivers/eswitch.h"
#include "drivers/rte_flow/rte_flow_eswitch.h"
#include "drivers/sim/sim_eswitch.h"

namespace vfs::drivers {
namespace {
struct DriverEntry {
  const char* name;
  Result<std::unique_ptr<ESwitch>> (*open)(const ESwitchOptions&);
};
constexpr std::array<DriverEntry, 2> kDrivers = {{
    {"sim", &make_sim_eswitch},
    {"rte_flow", &make_rte_flow_eswitch},
}};
}  // namespace

Result<std::unique_ptr<ESwitch>> open_eswitch(const std::string& driver,
                                              const ESwitchOptions& opt) {
  for (const auto& d : kDrivers)
    if (driver == d.name) return d.open(opt);
  return make_error(EINVAL, "unknown driver '{}' (known: sim, rte_flow)", driver);
}

}  // namespace vfs::drivers
