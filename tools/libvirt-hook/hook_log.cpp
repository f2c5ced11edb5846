#include "tools/libvirt-hook/hook_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>

#include <fmt/core.h>

namespace vfs::tools::libvirt {

HookLog::HookLog(const std::string& where, std::string context) : context_(std::move(context)) {
  if (where != "syslog" && !where.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(where).parent_path(), ec);
    fd_ = ::open(where.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
  }
  if (fd_ < 0) ::openlog("vfswitch-libvirt-hook", LOG_PID, LOG_DAEMON);
}

HookLog::~HookLog() {
  if (fd_ >= 0)
    ::close(fd_);
  else
    ::closelog();
}

void HookLog::write(std::string_view message) {
  if (fd_ < 0) {
    ::syslog(LOG_INFO, "%s: %.*s", context_.c_str(), static_cast<int>(message.size()),
             message.data());
    return;
  }
  char when[32] = "";
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  if (::localtime_r(&now, &tm)) std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string line = fmt::format("{} [{}] {}: {}\n", when, ::getpid(), context_, message);
  // A log that cannot be written must not change the hook's answer to libvirt.
  (void)!::write(fd_, line.data(), line.size());
}

}  // namespace vfs::tools::libvirt
