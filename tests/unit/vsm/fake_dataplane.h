// tests/unit/vsm/fake_dataplane.h: a test double for the vsm::Dataplane seam. It records
// every applied DataplaneConfig, can be told to refuse applies, and serves canned rules
// and counters. Thread-safe, as the API server calls it from connection threads.
#pragma once

#include <mutex>
#include <optional>

#include "vsm/dataplane.h"

namespace vfs::vsm::testing {

class FakeDataplane final : public Dataplane {
 public:
  explicit FakeDataplane(int vf_count = 8) : vf_count_(vf_count) {}

  Result<void> apply(const DataplaneConfig& cfg) override {
    std::lock_guard<std::mutex> g(mu_);
    ++apply_calls_;
    if (refusal_) return *refusal_;
    last_ = cfg;
    ++applied_;
    return ok();
  }
  int vf_count() const override { return vf_count_; }
  nlohmann::json rules_json() const override {
    std::lock_guard<std::mutex> g(mu_);
    return rules_;
  }
  nlohmann::json counters_json() const override {
    std::lock_guard<std::mutex> g(mu_);
    return counters_;
  }

  void refuse_applies(std::optional<Error> e) {
    std::lock_guard<std::mutex> g(mu_);
    refusal_ = std::move(e);
  }
  void set_rules(nlohmann::json j) {
    std::lock_guard<std::mutex> g(mu_);
    rules_ = std::move(j);
  }
  void set_counters(nlohmann::json j) {
    std::lock_guard<std::mutex> g(mu_);
    counters_ = std::move(j);
  }
  DataplaneConfig last() const {
    std::lock_guard<std::mutex> g(mu_);
    return last_;
  }
  int applied() const {  // successful applies
    std::lock_guard<std::mutex> g(mu_);
    return applied_;
  }
  int apply_calls() const {
    std::lock_guard<std::mutex> g(mu_);
    return apply_calls_;
  }
  const ResolvedVeth* find(const DataplaneConfig& cfg, uint32_t veth) const {
    for (const auto& v : cfg.veths) {
      if (v.number == veth) return &v;
    }
    return nullptr;
  }

 private:
  const int vf_count_;
  mutable std::mutex mu_;
  std::optional<Error> refusal_;
  DataplaneConfig last_;
  int applied_ = 0;
  int apply_calls_ = 0;
  nlohmann::json rules_ = nlohmann::json::array();
  nlohmann::json counters_ = {{"slowpath", nlohmann::json::object()},
                              {"veths", nlohmann::json::object()}};
};

}  // namespace vfs::vsm::testing
