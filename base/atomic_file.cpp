#include "base/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace vfs {
namespace {
Result<void> write_all(int fd, const std::string& s, const std::string& path) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(errno, "{}: write: {}", path, std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  return ok();
}
}  // namespace

Result<void> write_file_atomically(const std::string& path, const std::string& content) {
  std::string dir = ".";
  if (auto slash = path.rfind('/'); slash != std::string::npos)
    dir = slash == 0 ? "/" : path.substr(0, slash);
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(errno, "{}: create: {}", tmp, std::strerror(errno));
  auto w = write_all(fd, content, tmp);
  if (w.ok() && ::fsync(fd) != 0) w = make_error(errno, "{}: fsync: {}", tmp, std::strerror(errno));
  ::close(fd);
  if (!w.ok()) {
    ::unlink(tmp.c_str());
    return w;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return make_error(e, "{}: rename: {}", path, std::strerror(e));
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return make_error(errno, "{}: open directory: {}", dir, std::strerror(errno));
  int rc = ::fsync(dfd);
  int e = errno;
  ::close(dfd);
  if (rc != 0) return make_error(e, "{}: fsync directory: {}", dir, std::strerror(e));
  return ok();
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error(errno ? errno : ENOENT, "{}: cannot open: {}", path,
                      std::strerror(errno ? errno : ENOENT));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return make_error(EIO, "{}: read error", path);
  return ss.str();
}

}  // namespace vfs
