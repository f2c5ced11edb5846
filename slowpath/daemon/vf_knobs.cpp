#include "slowpath/daemon/vf_knobs.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <set>

#include <fmt/core.h>

#include "base/log.h"

namespace vfs::daemon {

using drivers::VfLinkState;
using drivers::VfMac;

uint32_t police_rate_mbps(uint64_t cir_bytes_per_s) {
  // bits/s = bytes/s * 8; ceil(bits / 1e6) without overflowing for huge rates.
  const uint64_t per_mbit = 125'000;  // bytes/s in 1 Mbit/s
  const uint64_t mbps = cir_bytes_per_s / per_mbit + (cir_bytes_per_s % per_mbit != 0);
  return static_cast<uint32_t>(std::min<uint64_t>(mbps, std::numeric_limits<uint32_t>::max()));
}

VfKnobSettings vf_knobs_for(const vsm::ResolvedVeth& v, bool eswitch_has_meters) {
  VfKnobSettings k;
  if (!v.port_security.static_macs.empty())
    k.mac = v.port_security.static_macs.front();
  else if (auto m = drivers::parse_mac(v.mac))
    k.mac = *m;
  // A multicast or zero MAC is no station address: the slow path polices it, the VF is
  // not given it.
  if (k.mac && ((*k.mac)[0] & 1 || *k.mac == VfMac{})) k.mac.reset();
  k.spoofchk = v.port_security.enabled && k.mac.has_value();
  k.link = v.forwarding ? VfLinkState::automatic : VfLinkState::disable;
  if (!eswitch_has_meters && v.police_in && v.police_in->cir_bytes_per_s > 0)
    k.max_mbps = police_rate_mbps(v.police_in->cir_bytes_per_s);
  return k;
}

VfKnobs::VfKnobs(drivers::VfAdmin& admin, bool eswitch_has_meters, const std::vector<int>& vfs)
    : admin_(admin), has_meters_(eswitch_has_meters) {
  for (int vf : vfs) known_[vf] = Known{};
}

namespace {

std::string rate_text(uint32_t mbps) {
  return mbps ? fmt::format("max-rate {} Mbit/s", mbps) : std::string("max-rate none");
}

}  // namespace

// Order matters: link down goes first and link up last, and spoof checking is turned on
// only once the VF has its new MAC, so that no intermediate step lets the VF send what
// neither the old nor the new settings allow.
Result<void> VfKnobs::converge(int vf, const std::string& who, const VfKnobSettings& want) {
  Known& k = known_[vf];
  std::string done;
  auto step = [&](bool needed, const std::string& what, const std::function<Result<void>()>& set,
                  const std::function<void()>& record) -> Result<void> {
    if (!needed) return ok();
    auto r = set();
    if (r.ok()) {
      record();
      done += " " + what;
      return ok();
    }
    if (r.error().code == EOPNOTSUPP) {
      record();  // not retried until the setting changes
      log::warn("vfknobs", "{}: VF {} {} not supported, kept in software: {}", who, vf, what,
                r.error().message);
      return ok();
    }
    ++failures_;
    k = Known{};  // what a refused call left behind is not known: set everything next time
    return make_error(r.error().code, "{}: VF {} {}: {}", who, vf, what, r.error().message);
  };

  const bool link_down = want.link == VfLinkState::disable && k.link != want.link;
  const bool link_up = want.link != VfLinkState::disable && k.link != want.link;
  const bool spoof_off = !want.spoofchk && k.spoofchk != false;
  const std::string link_what = fmt::format("link {}", drivers::to_string(want.link));

  Result<void> r = step(
      link_down, link_what, [&] { return admin_.set_link_state(vf, want.link); },
      [&] { k.link = want.link; });
  if (r) {
    r = step(
        spoof_off, "spoofchk off", [&] { return admin_.set_spoofchk(vf, false); },
        [&] { k.spoofchk = false; });
  }
  if (r && want.mac) {
    r = step(
        k.mac != want.mac, "mac " + drivers::format_mac(*want.mac),
        [&] { return admin_.set_mac(vf, *want.mac); }, [&] { k.mac = want.mac; });
  }
  if (r) {
    r = step(
        k.max_mbps != want.max_mbps, rate_text(want.max_mbps),
        [&] {
          return admin_.set_rate(vf, drivers::VfRate{0, want.max_mbps});
        },
        [&] { k.max_mbps = want.max_mbps; });
  }
  if (r) {
    r = step(
        want.spoofchk && k.spoofchk != true, "spoofchk on",
        [&] { return admin_.set_spoofchk(vf, true); }, [&] { k.spoofchk = true; });
  }
  if (r) {
    r = step(
        link_up, link_what, [&] { return admin_.set_link_state(vf, want.link); },
        [&] { k.link = want.link; });
  }
  if (!done.empty()) log::info("vfknobs", "{}: VF {}{}", who, vf, done);
  return r;
}

Result<void> VfKnobs::apply_bound(const std::vector<vsm::ResolvedVeth>& veths) {
  for (const vsm::ResolvedVeth& v : veths) {
    const std::string who = fmt::format("vEthernet{} ({})", v.number, v.vm);
    if (auto r = converge(v.vf, who, vf_knobs_for(v, has_meters_)); !r) return r;
  }
  return ok();
}

void VfKnobs::reset_unbound(const std::vector<vsm::ResolvedVeth>& veths) {
  std::set<int> bound;
  for (const vsm::ResolvedVeth& v : veths) bound.insert(v.vf);
  for (auto& [vf, known] : known_) {
    if (bound.count(vf)) continue;
    if (auto r = converge(vf, "no vEthernet", VfKnobSettings{}); !r)
      log::error("vfknobs", "cannot reset: {}", r.error().message);
  }
}

}  // namespace vfs::daemon
