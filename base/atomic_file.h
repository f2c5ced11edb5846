// base/atomic_file.h owns invariant 4: a configuration or state file is replaced
// atomically (temp file, fsync, rename, fsync of the directory), so a crash at any
// instant leaves either the old or the new content.
#pragma once

#include <string>

#include "base/result.h"

namespace vfs {

Result<void> write_file_atomically(const std::string& path, const std::string& content);
Result<std::string> read_file(const std::string& path);

}  // namespace vfs
