#include "offload/offload_engine.h"

#include <poll.h>

#include <algorithm>

#include "base/log.h"

namespace vfs::offload {

OffloadEngine::OffloadEngine(drivers::FlowBackend& nic, const Clock& clock,
                             const PolicyChannel& policy, OffloadOptions opt)
    : nic_(nic),
      clock_(clock),
      policy_(policy),
      opt_(opt),
      events_(opt.ring_size),
      activity_(opt.ring_size),
      table_(nic, clock),
      desired_(table_) {}

OffloadEngine::~OffloadEngine() { stop(); }

Result<void> OffloadEngine::start() {
  if (!doorbell_.valid()) return make_error(EMFILE, "offload worker: no eventfd for its doorbell");
  if (auto f = nic_.flush(); !f.ok()) {
    auto e = f.error().to_error();
    return make_error(e.code, "flushing the eSwitch's rules at start: {}", e.message);
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    running_ = true;
  }
  worker_ = std::thread([this] { run(); });
  return ok();
}

void OffloadEngine::stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!running_) return;
    running_ = false;
  }
  doorbell_.ring();
  if (worker_.joinable()) worker_.join();
  std::lock_guard<std::mutex> g(mu_);
  table_.clear();
  desired_.clear();
}

bool OffloadEngine::post(const FdbEvent& ev) {
  if (!events_.push(ev)) return false;
  posted_count_.fetch_add(1, std::memory_order_release);
  // A syscall only when the worker is armed to sleep; a busy worker finds the event itself.
  doorbell_.notify();
  return true;
}

Result<void> OffloadEngine::resync_and_wait() {
  std::unique_lock<std::mutex> l(mu_);
  if (!running_) return make_error(ESHUTDOWN, "offload worker is not running");
  uint64_t want = ++resync_requested_;
  doorbell_.ring();
  if (!done_cv_.wait_for(l, std::chrono::milliseconds(opt_.resync_timeout_ms),
                         [&] { return resync_done_ >= want || !running_; }))
    return make_error(ETIMEDOUT, "offload worker did not apply the new policy within {} ms",
                      opt_.resync_timeout_ms);
  return ok();
}

void OffloadEngine::drain() {
  uint64_t want = posted_count_.load(std::memory_order_acquire);
  std::unique_lock<std::mutex> l(mu_);
  doorbell_.ring();
  done_cv_.wait(l, [&] { return handled_count_ >= want || !running_; });
}

std::vector<RuleEntry> OffloadEngine::rules() const {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<RuleEntry> out;
  out.reserve(table_.size());
  for (const RuleEntry& e : table_.entries()) out.push_back(e);
  // In spec order, as dumps have always listed them (the table keeps no order).
  std::sort(out.begin(), out.end(),
            [](const RuleEntry& a, const RuleEntry& b) { return a.spec < b.spec; });
  return out;
}

std::vector<MeterEntry> OffloadEngine::meters() const {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<MeterEntry> out;
  for (const auto& [id, m] : table_.meters()) out.push_back(m);
  return out;
}

HwCounters OffloadEngine::hw_counters() const {
  std::lock_guard<std::mutex> g(mu_);
  return table_.hw_counters();
}

HwCounters OffloadEngine::retired_counters() const {
  std::lock_guard<std::mutex> g(mu_);
  return table_.retired();
}

uint64_t OffloadEngine::nic_errors() const {
  std::lock_guard<std::mutex> g(mu_);
  return table_.nic_errors();
}

void OffloadEngine::handle(const FdbEvent& ev, const PolicySnapshot& policy) {
  if (ev.kind == FdbEvent::removed)
    desired_.forget(ev.entry.vid, ev.entry.mac);
  else
    desired_.learn(policy, ev.entry);
}

bool OffloadEngine::has_work_locked() const {
  return !running_ || !events_.empty() || resync_requested_ > resync_done_ ||
         handled_count_ < posted_count_.load(std::memory_order_acquire);
}

void OffloadEngine::run() {
  uint64_t next_poll = clock_.now_ns() + opt_.counter_poll_ns;
  std::unique_lock<std::mutex> l(mu_);
  while (running_) {
    auto policy = policy_.load();
    if (resync_requested_ > resync_done_) {
      uint64_t target = resync_requested_;
      const DesiredStats st = desired_.apply(policy);
      resync_done_ = target;
      log::debug("offload",
                 "policy generation {} compiled: {} port(s) recompiled, {} rule(s) dropped, {} "
                 "added, {} rules",
                 policy->generation, st.ports_recompiled, st.refs_dropped, st.refs_added,
                 table_.size());
    }
    FdbEvent ev;
    while (events_.pop(ev)) {
      handle(ev, *policy);
      ++handled_count_;
    }
    // Refusals that are due (back-off over, or capacity freed by what was just done).
    table_.retry_refused();
    done_cv_.notify_all();
    if (clock_.now_ns() >= next_poll) {
      next_poll = clock_.now_ns() + opt_.counter_poll_ns;
      table_.poll_counters([&](const RuleEntry& e) {
        if (e.spec.group != kGroupIngress || !e.spec.match.eth_src) return;
        MacActivity a;
        a.mac = *e.spec.match.eth_src;
        if (e.spec.match.vlan_vid) a.vid = *e.spec.match.vlan_vid;
        for (const auto& act : e.spec.actions)
          if (act.kind == ActionKind::set_vlan_vid) a.vid = static_cast<uint16_t>(act.arg);
        activity_.push(a);  // a full ring only delays aging protection to the next poll
      });
    }
    // Sleep until rung (drivers/rx_wakeup.h): arm, then re-check what post() and the
    // control threads produce, so that a post racing with the arm is seen either here or
    // by post()'s notify. Control threads change their requests under mu_ and ring
    // unconditionally after it, so a ring between this check and poll() is not lost either.
    if (has_work_locked()) continue;
    doorbell_.arm();
    if (has_work_locked()) {
      doorbell_.disarm();
      continue;
    }
    l.unlock();
    pollfd p{doorbell_.fd(), POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(opt_.idle_wake_ms));
    doorbell_.disarm();
    l.lock();
  }
  done_cv_.notify_all();
}

}  // namespace vfs::offload
