// vsm/accounting_log.h owns the accounting log: one record per configuration command or
// attach/detach — when, who, what, and how it ended — kept in memory (the newest
// kCapacity records, for `show accounting log`) and appended to a file when one is given,
// so the trail survives a restart.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace vfs::vsm {

struct AccountingRecord {
  int64_t time = 0;  // seconds since the epoch (UTC)
  std::string user;
  std::string command;
  std::string result;  // "SUCCESS" or "FAILURE: <reason>"
  bool operator==(const AccountingRecord&) const = default;
};

// "Wed Nov 25 15:33:32 2026:user=admin:cmd=vlan 10 (SUCCESS)"
std::string format_accounting_record(const AccountingRecord& r);

class AccountingLog {
 public:
  static constexpr size_t kCapacity = 1000;

  // path "" = memory only.
  explicit AccountingLog(std::string path = {});

  // Appends; a file that cannot be written costs the file copy only (logged once).
  void record(AccountingRecord r);
  std::vector<AccountingRecord> records() const;

 private:
  std::string path_;
  std::deque<AccountingRecord> records_;
  bool file_failed_ = false;
};

}  // namespace vfs::vsm
