// tools/libvirt-hook/hook_log.h owns where the hook writes what it did: libvirt discards
// a hook's output (it quotes stderr only when the hook fails), so every run appends its
// lines to a file (default /var/log/vfswitch/libvirt-hook.log, made if missing) or, with
// `log = syslog` or when the file cannot be opened, to syslog (LOG_DAEMON).
// Each line: "<time> [<pid>] <domain> <op> <subop>: <message>", written whole with one
// write(2), so concurrent hooks (libvirt runs them per domain) do not interleave.
#pragma once

#include <string>
#include <string_view>

namespace vfs::tools::libvirt {

class HookLog {
 public:
  // `where`: a file path or "syslog". `context`: "<domain> <op> <subop>".
  HookLog(const std::string& where, std::string context);
  ~HookLog();
  HookLog(const HookLog&) = delete;
  HookLog& operator=(const HookLog&) = delete;

  void write(std::string_view message);
  bool to_syslog() const { return fd_ < 0; }

 private:
  int fd_ = -1;
  std::string context_;
};

}  // namespace vfs::tools::libvirt
