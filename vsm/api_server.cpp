#include "vsm/api_server.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "base/log.h"
#include "vsm/api_session.h"

namespace vfs::vsm {
namespace {

Error sys_error(const std::string& what) {
  int e = errno;
  return make_error(e, "{}: {}", what, std::strerror(e));
}

std::optional<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(a.sun_path)) return std::nullopt;
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

// True if a process accepts connections on path.
bool is_served(const sockaddr_un& addr) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool live = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return live;
}

std::optional<gid_t> group_id(const std::string& name) {
  if (name.empty()) return std::nullopt;
  group g{};
  group* res = nullptr;
  std::vector<char> buf(16384);
  if (::getgrnam_r(name.c_str(), &g, buf.data(), buf.size(), &res) != 0 || !res)
    return std::nullopt;
  return g.gr_gid;
}

}  // namespace

ApiServer::ApiServer(Supervisor& supervisor, ApiServerOptions options)
    : supervisor_(supervisor), options_(std::move(options)) {}

ApiServer::~ApiServer() { stop(); }

Result<void> ApiServer::start() {
  const std::string& path = options_.socket_path;
  if (running_) return make_error(EALREADY, "API server on {} is already started", path);
  auto addr = unix_address(path);
  if (!addr)
    return make_error(ENAMETOOLONG, "socket path '{}' is empty or longer than {} bytes", path,
                      sizeof(sockaddr_un::sun_path) - 1);

  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, ec);
    if (ec)
      return make_error(ec.value(), "socket directory {}: cannot create: {}", parent.string(),
                        ec.message());
  }

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return make_error(EEXIST, "{} exists and is not a socket; not replacing it", path);
    if (is_served(*addr))
      return make_error(EADDRINUSE, "socket {} is already served by another vfswitchd", path);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return sys_error("remove stale socket " + path);
    log::info("api", "replaced stale socket {}", path);
  }

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return sys_error("socket for " + path);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    auto e = sys_error("bind " + path);
    ::close(fd);
    return e;
  }
  if (::listen(fd, 64) != 0) {
    auto e = sys_error("listen on " + path);
    ::close(fd);
    ::unlink(path.c_str());
    return e;
  }
  if (::stat(path.c_str(), &st) == 0) {
    sock_dev_ = st.st_dev;
    sock_ino_ = st.st_ino;
  }
  if (auto gid = group_id(options_.group)) {
    // Without it only root can connect (the socket stays as created), which is safe.
    if (::chown(path.c_str(), static_cast<uid_t>(-1), *gid) != 0 ||
        ::chmod(path.c_str(), 0660) != 0)
      log::warn("api", "cannot give socket {} to group {}: {}", path, options_.group,
                std::strerror(errno));
  }
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) {
    auto e = sys_error("eventfd for " + path);
    ::close(fd);
    ::unlink(path.c_str());
    return e;
  }
  listen_fd_ = fd;
  running_ = true;
  acceptor_ = std::thread([this] { accept_loop(); });
  log::info("api", "serving {}", path);
  return ok();
}

void ApiServer::stop() {
  if (!running_) return;
  running_ = false;
  uint64_t one = 1;
  if (::write(stop_fd_, &one, sizeof(one)) != sizeof(one))
    log::error("api", "cannot wake the API threads: {}", std::strerror(errno));
  if (acceptor_.joinable()) acceptor_.join();
  reap_finished(true);
  ::close(listen_fd_);
  listen_fd_ = -1;
  ::close(stop_fd_);
  stop_fd_ = -1;
  struct stat st {};
  if (::lstat(options_.socket_path.c_str(), &st) == 0 && st.st_dev == sock_dev_ &&
      st.st_ino == sock_ino_)
    ::unlink(options_.socket_path.c_str());
  log::info("api", "stopped serving {}", options_.socket_path);
}

void ApiServer::accept_loop() {
  while (true) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      log::error("api", "poll on {}: {}", options_.socket_path, std::strerror(errno));
      return;
    }
    if (p[1].revents) return;
    if (!(p[0].revents & POLLIN)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
        log::warn("api", "accept on {}: {}", options_.socket_path, std::strerror(errno));
      continue;
    }
    reap_finished(false);
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      log::warn("api", "SO_PEERCRED on {}: {}", options_.socket_path, std::strerror(errno));
      ::close(fd);
      continue;
    }
    std::lock_guard<std::mutex> g(conns_mu_);
    if (conns_.size() >= options_.max_connections) {
      send_line(fd, ApiSession::error_response("too many API connections; try again later"));
      ::close(fd);
      continue;
    }
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    c->uid = cred.uid;
    Connection* raw = c.get();
    conns_.push_back(std::move(c));
    raw->thread = std::thread([this, raw] { serve(*raw); });
    log::debug("api", "connection from uid {} pid {}", cred.uid, cred.pid);
  }
}

void ApiServer::reap_finished(bool all) {
  std::list<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard<std::mutex> g(conns_mu_);
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (all || (*it)->done.load()) {
        finished.push_back(std::move(*it));
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : finished) {
    if (c->thread.joinable()) c->thread.join();
  }
}

bool ApiServer::send_line(int fd, const std::string& line) {
  std::string data = line + "\n";
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // A client that stops reading must not hold stop() hostage.
      pollfd p[2] = {{fd, POLLOUT, 0}, {stop_fd_, POLLIN, 0}};
      if (::poll(p, 2, -1) < 0 && errno != EINTR) return false;
      if (p[1].revents) return false;
      continue;
    }
    return false;
  }
  return true;
}

void ApiServer::serve(Connection& c) {
  ApiSession session(supervisor_, c.uid);
  std::string buf;
  size_t scanned = 0;  // bytes of buf known to hold no '\n'
  char chunk[65536];
  bool open = true;
  while (open) {
    pollfd p[2] = {{c.fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[1].revents) break;
    ssize_t n = ::recv(c.fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    size_t start = 0;
    while (true) {
      size_t nl = buf.find('\n', std::max(start, scanned));
      if (nl == std::string::npos) break;
      std::string_view line(buf.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.size() > options_.max_line) {
        send_line(c.fd, ApiSession::error_response(
                            fmt::format("request line longer than {} bytes", options_.max_line)));
        open = false;
        break;
      }
      if (!send_line(c.fd, session.handle(line))) {
        open = false;
        break;
      }
      start = nl + 1;
      scanned = start;
    }
    if (!open) break;
    buf.erase(0, start);
    scanned = buf.size();
    if (buf.size() > options_.max_line) {
      send_line(c.fd, ApiSession::error_response(
                          fmt::format("request line longer than {} bytes", options_.max_line)));
      break;
    }
  }
  ::close(c.fd);
  c.done.store(true);
}

}  // namespace vfs::vsm
