#include "drivers/sim/sim_meters.h"

#include <cmath>

#include <fmt/core.h>

namespace vfs::drivers::sim {
namespace {

constexpr uint64_t kNsPerSecond = 1'000'000'000ULL;
constexpr double kMinPeriod = 100;  // RTE_METER_TB_PERIOD_MIN (private to rte_meter.c)

FlowError meter_error(int code, std::string msg) {
  return FlowError{code, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, "sim: " + std::move(msg)};
}

}  // namespace

rte_meter_srtcm_profile srtcm_profile_ns(uint64_t cir, uint64_t cbs, uint64_t ebs) {
  rte_meter_srtcm_profile p{};
  p.cbs = cbs;
  p.ebs = ebs;
  // As rte_meter_get_tb_params: one byte per period when the period is long enough to be
  // exact, else several bytes per period of at least kMinPeriod ticks.
  const double period = static_cast<double>(kNsPerSecond) / static_cast<double>(cir);
  if (period >= kMinPeriod) {
    p.cir_bytes_per_period = 1;
    p.cir_period = static_cast<uint64_t>(period);
  } else {
    p.cir_bytes_per_period = static_cast<uint64_t>(std::ceil(kMinPeriod / period));
    p.cir_period = kNsPerSecond * p.cir_bytes_per_period / cir;
  }
  return p;
}

rte_meter_srtcm srtcm_start(const rte_meter_srtcm_profile& p, uint64_t now_ns) {
  rte_meter_srtcm m{};
  m.time = now_ns;
  m.tc = p.cbs;
  m.te = p.ebs;
  return m;
}

FlowStatus MeterTable::add_profile(uint32_t id, const MeterProfile& p) {
  if (auto st = check_meter_profile(id, p); !st) {
    FlowError e = st.error();
    e.message = "sim: " + e.message;
    return e;
  }
  if (profiles_.count(id)) return meter_error(EEXIST, fmt::format("meter profile {} exists", id));
  auto prof = std::make_unique<SimMeterProfile>();
  prof->params = p;
  prof->rt = srtcm_profile_ns(p.cir, p.cbs, p.ebs);
  profiles_.emplace(id, std::move(prof));
  return Unit{};
}

FlowStatus MeterTable::delete_profile(uint32_t id) {
  auto it = profiles_.find(id);
  if (it == profiles_.end()) return meter_error(ENOENT, fmt::format("no meter profile {}", id));
  if (it->second->meters > 0)
    return meter_error(
        EBUSY, fmt::format("meter profile {} is used by {} meter(s)", id, it->second->meters));
  profiles_.erase(it);
  return Unit{};
}

FlowStatus MeterTable::create(uint32_t id, uint32_t profile_id) {
  if (meters_.count(id)) return meter_error(EEXIST, fmt::format("meter {} exists", id));
  auto pit = profiles_.find(profile_id);
  if (pit == profiles_.end())
    return meter_error(ENOENT, fmt::format("meter {}: no meter profile {}", id, profile_id));
  auto m = std::make_unique<Meter>();
  m->id = id;
  m->profile = pit->second.get();
  m->state = srtcm_start(m->profile->rt, clock_.now_ns());
  ++m->profile->meters;
  meters_.emplace(id, std::move(m));
  return Unit{};
}

FlowStatus MeterTable::destroy(uint32_t id) {
  auto it = meters_.find(id);
  if (it == meters_.end()) return meter_error(ENOENT, fmt::format("no meter {}", id));
  if (it->second->rules > 0)
    return meter_error(EBUSY, fmt::format("meter {} is used by {} rule(s)", id, it->second->rules));
  --it->second->profile->meters;
  meters_.erase(it);
  return Unit{};
}

FlowResult<MeterStats> MeterTable::stats(uint32_t id) const {
  auto it = meters_.find(id);
  if (it == meters_.end()) return meter_error(ENOENT, fmt::format("no meter {}", id));
  return it->second->stats;
}

Meter* MeterTable::find(uint32_t id) const {
  auto it = meters_.find(id);
  return it == meters_.end() ? nullptr : it->second.get();
}

void MeterTable::clear() {
  meters_.clear();
  profiles_.clear();
}

bool MeterTable::police(Meter& m, uint32_t len) {
  const rte_color c =
      rte_meter_srtcm_color_blind_check(&m.state, &m.profile->rt, clock_.now_ns(), len);
  switch (c) {
    case RTE_COLOR_GREEN:
      ++m.stats.conform_packets;
      m.stats.conform_bytes += len;
      return true;
    case RTE_COLOR_YELLOW:
      ++m.stats.exceed_packets;
      m.stats.exceed_bytes += len;
      return true;
    default:
      ++m.stats.violate_packets;
      m.stats.violate_bytes += len;
      return false;
  }
}

}  // namespace vfs::drivers::sim
