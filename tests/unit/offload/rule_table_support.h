// tests/unit/offload/rule_table_support.h gives the RuleTable tests a NIC: the sim's rule
// memory (sim::FlowTable behind SimFlowBackend) seen through a recorder that logs every
// create/destroy with the rule's group and can refuse the next creates with an errno, plus
// builders for the pipeline's rule shapes and a frame to push through the sim.
#pragma once

#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "base/clock.h"
#include "drivers/eswitch.h"
#include "drivers/forwarding_flow_backend.h"
#include "drivers/sim/sim_flow_backend.h"
#include "drivers/sim/sim_flow_table.h"
#include "offload/rule_compiler.h"
#include "offload/rule_table.h"

namespace vfs::test {

inline constexpr uint16_t kUp = 20, kVf0 = 21, kVf1 = 22;  // representor ethdev ids
inline constexpr uint16_t kSimVf0 = 1;                     // sim port index of kVf0

// Forwards to the sim, logging "create gN" / "destroy gN" and refusing creates on demand.
class RecordingBackend final : public drivers::ForwardingFlowBackend {
 public:
  explicit RecordingBackend(drivers::FlowBackend& inner) : ForwardingFlowBackend(inner) {}
  std::string_view name() const override { return "recording"; }

  // The next n create() calls answer errno `code` without reaching the sim.
  void fail_next(int code, int n = 1) {
    fail_code_ = code;
    fail_left_ = n;
  }
  std::vector<std::string> ops;
  int creates = 0;

  drivers::FlowResult<drivers::FlowHandle> create(const rte_flow_attr& a, const rte_flow_item* p,
                                                  const rte_flow_action* x) override {
    ++creates;
    if (fail_left_ > 0) {
      --fail_left_;
      return drivers::FlowError{fail_code_, RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
                                fmt::format("test: refused with errno {}", fail_code_)};
    }
    auto r = inner().create(a, p, x);
    if (r.ok()) {
      group_[r.value().id] = a.group;
      ops.push_back(fmt::format("create g{}", a.group));
    }
    return r;
  }
  drivers::FlowStatus destroy(drivers::FlowHandle h) override {
    auto r = inner().destroy(h);
    if (r.ok()) ops.push_back(fmt::format("destroy g{}", group_[h.id]));
    return r;
  }

 private:
  std::map<uint64_t, uint32_t> group_;
  int fail_code_ = 0;
  int fail_left_ = 0;
};

// A sim NIC with the given knobs, its backend, a recorder in front and a RuleTable on it.
struct SimNic {
  explicit SimNic(drivers::ESwitchOptions opt = {}) : opt_(std::move(opt)) {
    drivers::sim::FlowTableOptions topt;
    topt.capacity = opt_.sim_capacity;
    topt.unsupported = opt_.sim_unsupported;
    topt.clock = &clock;
    auto t = drivers::sim::FlowTable::make({kUp, kVf0, kVf1}, topt);
    REQUIRE(t.ok());
    table = std::move(t.value());
    sim = std::make_unique<drivers::sim::SimFlowBackend>(mu, *table, opt_);
    nic = std::make_unique<RecordingBackend>(*sim);
    rules = std::make_unique<offload::RuleTable>(*nic, clock);
  }

  const offload::RuleEntry& entry(const offload::RuleSpec& s) const {
    const offload::RuleEntry* e = rules->find(s);
    REQUIRE(e != nullptr);
    return *e;
  }

  // Sends a 64-byte untagged IPv4 frame from `src` into the sim on VF 0; returns the
  // verdict kind.
  drivers::sim::Verdict::Kind send_from_vf0(const offload::Mac& src, const offload::Mac& dst) {
    std::array<uint8_t, 256> buf{};
    uint8_t* f = buf.data() + 128;
    std::memcpy(f, dst.data(), 6);
    std::memcpy(f + 6, src.data(), 6);
    f[12] = 0x08;
    f[13] = 0x00;
    f[14] = 0x45;
    drivers::sim::PacketBuffer pkt{f, 64, 128};
    std::lock_guard<std::mutex> g(mu);
    return table->classify(kSimVf0, pkt).kind;
  }

  ManualClock clock;
  std::mutex mu;
  drivers::ESwitchOptions opt_;
  std::unique_ptr<drivers::sim::FlowTable> table;
  std::unique_ptr<drivers::sim::SimFlowBackend> sim;
  std::unique_ptr<RecordingBackend> nic;
  std::unique_ptr<offload::RuleTable> rules;
};

inline offload::Mac mac(uint8_t last) { return {0x02, 0, 0, 0, 0, last}; }

// Group 0: frames from `port` with source `src` are admitted into the port's input chain.
inline offload::CompiledRule admit_rule(uint16_t port, uint8_t src, uint32_t veth) {
  offload::CompiledRule c;
  c.spec.group = offload::kGroupIngress;
  c.spec.match.in_port = port;
  c.spec.match.eth_src = mac(src);
  c.spec.actions = {offload::act_count(), offload::act_jump(offload::kGroupAclIn)};
  c.veth = veth;
  c.port = port;
  c.needs = {offload::chain_in(port)};
  return c;
}

// Group 1: one ACE of the port's input ACL "ip:A" (deny frames to `dst`), member of its
// input chain. ipv6 = true makes it need the IPV6 item.
inline offload::CompiledRule ace_rule(uint16_t port, uint32_t seq, uint8_t dst, uint32_t veth,
                                      bool ipv6 = false) {
  offload::CompiledRule c;
  c.spec.group = offload::kGroupAclIn;
  c.spec.priority = seq;
  c.spec.match.in_port = port;
  c.spec.match.eth_dst = mac(dst);
  if (ipv6) {
    c.spec.match.ether_type = 0x86dd;
    c.spec.match.l3 = 6;
  }
  c.spec.actions = {offload::act_count(), offload::act_drop()};
  c.veth = veth;
  c.port = port;
  c.drop_reason = offload::DropReason::acl;
  c.acl = "ip:A";
  c.ace_seq = seq;
  c.chain = offload::chain_in(port);
  return c;
}

// Group 3: frames to `dst` go out of `out_port`.
inline offload::CompiledRule forward_rule(uint8_t dst, uint16_t out_port, uint32_t veth,
                                          uint32_t priority = 1) {
  offload::CompiledRule c;
  c.spec.group = offload::kGroupL2;
  c.spec.priority = priority;
  c.spec.match.eth_dst = mac(dst);
  c.spec.actions = {offload::act_count(), offload::act_port(out_port)};
  c.veth = veth;
  c.port = out_port;
  return c;
}

}  // namespace vfs::test
