#include "tools/libvirt-hook/hook_config.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

namespace vfs::tools::libvirt {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return false;
  return true;
}

}  // namespace

Result<std::chrono::milliseconds> parse_timeout(std::string_view text) {
  std::string s(trim(text));
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno != 0 || !std::isfinite(v) || v <= 0 || v > 300)
    return make_error(EINVAL, "timeout '{}' is not a number of seconds in (0, 300]", s);
  return std::chrono::milliseconds(static_cast<long long>(std::ceil(v * 1000)));
}

Result<HookConfig> parse_hook_config(std::string_view text, const std::string& path) {
  HookConfig c;
  std::istringstream in{std::string(text)};
  std::string raw;
  int lineno = 0;
  while (std::getline(in, raw)) {
    ++lineno;
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    auto at = [&](std::string msg) { return make_error(EINVAL, "{}:{}: {}", path, lineno, msg); };
    auto eq = line.find('=');
    if (eq == std::string_view::npos) return at(fmt::format("'{}' is not 'name = value'", line));
    std::string key(trim(line.substr(0, eq)));
    std::string value(trim(line.substr(eq + 1)));
    if (value.empty()) return at(fmt::format("'{}' has no value", key));
    if (key == "socket") {
      c.socket = value;
    } else if (key == "timeout") {
      auto t = parse_timeout(value);
      if (!t) return at(t.error().message);
      c.timeout = *t;
    } else if (key == "pf") {
      if (!valid_name(value) || value.size() > 15)
        return at(fmt::format("pf '{}' is not a network device name", value));
      c.pf = value;
    } else if (key == "sim-name") {
      if (!valid_name(value)) return at(fmt::format("sim-name '{}' is not a valid name", value));
      c.sim_name = value;
    } else if (key == "network") {
      c.networks.insert(value);
    } else if (key == "log") {
      c.log = value;
    } else if (key == "sysfs-root") {
      c.sysfs_root = value;
    } else {
      return at(fmt::format(
          "unknown setting '{}' (expected socket, timeout, pf, sim-name, network, log)", key));
    }
  }
  return c;
}

Result<HookConfig> load_hook_config(const EnvLookup& env) {
  const char* named = env("VFSWITCH_HOOK_CONFIG");
  const std::string path = named && *named ? named : kDefaultHookConfig;
  HookConfig c;
  std::ifstream f(path);
  if (f) {
    std::stringstream ss;
    ss << f.rdbuf();
    if (f.bad()) return make_error(EIO, "cannot read {}", path);
    auto parsed = parse_hook_config(ss.str(), path);
    if (!parsed) return parsed.error();
    c = std::move(*parsed);
  } else if (named && *named) {
    return make_error(errno ? errno : ENOENT,
                      "cannot read hook config {} (VFSWITCH_HOOK_CONFIG): {}", path,
                      std::strerror(errno ? errno : ENOENT));
  }
  if (const char* s = env("VFSWITCH_SOCKET"); s && *s) c.socket = s;
  if (const char* t = env("VFSWITCH_HOOK_TIMEOUT"); t && *t) {
    auto v = parse_timeout(t);
    if (!v) return make_error(EINVAL, "VFSWITCH_HOOK_TIMEOUT: {}", v.error().message);
    c.timeout = *v;
  }
  if (const char* l = env("VFSWITCH_HOOK_LOG"); l && *l) c.log = l;
  return c;
}

}  // namespace vfs::tools::libvirt
