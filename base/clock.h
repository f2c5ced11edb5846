// base/clock.h owns time as an injected dependency: MAC aging, rule aging and counters
// polls read a Clock, so tests move a ManualClock instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace vfs {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t now_ns() const = 0;  // monotonic
};

class MonotonicClock final : public Clock {
 public:
  uint64_t now_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

class ManualClock final : public Clock {
 public:
  uint64_t now_ns() const override { return t_.load(std::memory_order_relaxed); }
  void advance_ns(uint64_t d) { t_.fetch_add(d, std::memory_order_relaxed); }
  void advance_s(uint64_t s) { advance_ns(s * 1'000'000'000ULL); }

 private:
  std::atomic<uint64_t> t_{1'000'000'000ULL};
};

}  // namespace vfs
