// tests/unit/drivers/sim_test_support.h gives the sim tests unique sim names and RAII
// guards that delete the host interfaces a test made, even when the test fails.
#pragma once

#include <net/if.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "drivers/sim/sim_eswitch.h"

namespace vfs::test {

// "t" + 6 random [a-z0-9]: tests running at the same time on one host do not collide.
inline std::string random_sim_name() {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::mt19937 rng(rd() ^ static_cast<unsigned>(::getpid()));
  std::string s = "t";
  for (int i = 0; i < 6; ++i) s += kChars[rng() % (sizeof(kChars) - 1)];
  return s;
}

inline bool link_exists(const std::string& dev) { return ::if_nametoindex(dev.c_str()) != 0; }

inline std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

inline int run_quiet(const std::string& cmd) {
  return std::system((cmd + " >/dev/null 2>&1").c_str());
}

// Removes the sim's wires (and any extra interfaces named) when the test ends.
class WireGuard {
 public:
  WireGuard(std::string sim_name, int vfs) : name_(std::move(sim_name)), vfs_(vfs) {}
  WireGuard(const WireGuard&) = delete;
  WireGuard& operator=(const WireGuard&) = delete;
  ~WireGuard() {
    for (const std::string& dev : extra_) run_quiet("ip link del " + dev);
    (void)drivers::remove_sim_wires(name_, vfs_);
  }
  void also_delete(const std::string& dev) { extra_.push_back(dev); }

 private:
  std::string name_;
  int vfs_;
  std::vector<std::string> extra_;
};

}  // namespace vfs::test
