#include "vsm/accounting_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/core.h>

#include "base/log.h"

namespace vfs::vsm {

std::string format_accounting_record(const AccountingRecord& r) {
  std::time_t t = static_cast<std::time_t>(r.time);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char when[64];
  std::strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm);
  return fmt::format("{}:user={}:cmd={} ({})", when, r.user, r.command, r.result);
}

AccountingLog::AccountingLog(std::string path) : path_(std::move(path)) {}

void AccountingLog::record(AccountingRecord r) {
  if (!path_.empty() && !file_failed_) {
    std::string line = format_accounting_record(r) + "\n";
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    bool written =
        fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    int e = errno;
    if (fd >= 0) ::close(fd);
    if (!written) {
      file_failed_ = true;
      log::error("vsm", "accounting log {}: cannot append: {}; keeping it in memory only", path_,
                 std::strerror(e));
    }
  }
  records_.push_back(std::move(r));
  while (records_.size() > kCapacity) records_.pop_front();
}

std::vector<AccountingRecord> AccountingLog::records() const {
  return {records_.begin(), records_.end()};
}

}  // namespace vfs::vsm
