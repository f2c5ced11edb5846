// base/log.h owns the daemon's log line format: "<level> <component>: message". Messages
// name the vEthernet / VM / port they concern; errors carry errno or rte_flow_error text.
#pragma once

#include <string_view>

#include <fmt/core.h>

namespace vfs::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(Level l);
bool enabled(Level l);
void write(Level l, std::string_view component, std::string_view msg);

template <class... Args>
void info(std::string_view comp, fmt::format_string<Args...> f, Args&&... a) {
  if (enabled(Level::info)) write(Level::info, comp, fmt::format(f, std::forward<Args>(a)...));
}
template <class... Args>
void warn(std::string_view comp, fmt::format_string<Args...> f, Args&&... a) {
  if (enabled(Level::warn)) write(Level::warn, comp, fmt::format(f, std::forward<Args>(a)...));
}
template <class... Args>
void error(std::string_view comp, fmt::format_string<Args...> f, Args&&... a) {
  if (enabled(Level::error)) write(Level::error, comp, fmt::format(f, std::forward<Args>(a)...));
}
template <class... Args>
void debug(std::string_view comp, fmt::format_string<Args...> f, Args&&... a) {
  if (enabled(Level::debug)) write(Level::debug, comp, fmt::format(f, std::forward<Args>(a)...));
}

}  // namespace vfs::log
