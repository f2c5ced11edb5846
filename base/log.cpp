#include "base/log.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace vfs::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_mu;  // keeps lines whole; logging is never on the per-packet path
const char* name(Level l) {
  switch (l) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "?";
}
}  // namespace

void set_level(Level l) { g_level.store(static_cast<int>(l)); }
bool enabled(Level l) { return static_cast<int>(l) >= g_level.load(std::memory_order_relaxed); }

void write(Level l, std::string_view component, std::string_view msg) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  std::lock_guard<std::mutex> g(g_mu);
  fmt::print(stderr, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {} {}: {}\n", t.tm_year + 1900,
             t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000, name(l),
             component, msg);
  std::fflush(stderr);
}

}  // namespace vfs::log
