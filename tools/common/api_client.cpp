#include "tools/common/api_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include <fmt/core.h>

namespace vfs::tools {
namespace {

constexpr size_t kMaxResponse = 256u << 20;  // a full rule dump of a large host fits

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

}  // namespace

Result<ApiClient> ApiClient::connect(const std::string& socket_path,
                                     std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path))
    return make_error(ENAMETOOLONG, "socket path '{}' is empty or longer than {} bytes",
                      socket_path, sizeof(addr.sun_path) - 1);
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(errno, "socket: {}", std::strerror(errno));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    ::close(fd);
    const char* hint = (e == ENOENT || e == ECONNREFUSED) ? " (is vfswitchd running?)" : "";
    return make_error(e, "cannot connect to {}: {}{}", socket_path, std::strerror(e), hint);
  }
  return ApiClient(fd, socket_path, timeout);
}

ApiClient::ApiClient(ApiClient&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      path_(std::move(o.path_)),
      timeout_(o.timeout_),
      pending_(std::move(o.pending_)) {}

ApiClient& ApiClient::operator=(ApiClient&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
    timeout_ = o.timeout_;
    pending_ = std::move(o.pending_);
  }
  return *this;
}

ApiClient::~ApiClient() {
  if (fd_ >= 0) ::close(fd_);
}

Result<nlohmann::json> ApiClient::call(const nlohmann::json& request) {
  if (fd_ < 0) return make_error(ENOTCONN, "not connected to {}", path_);
  const auto deadline = Clock::now() + timeout_;
  auto timed_out = [&] {
    return make_error(ETIMEDOUT, "no response from {} within {} ms", path_, timeout_.count());
  };

  std::string out = request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::send(fd_, out.data() + off, out.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      int r = ::poll(&p, 1, remaining_ms(deadline));
      if (r == 0) return timed_out();
      if (r < 0 && errno != EINTR)
        return make_error(errno, "poll {}: {}", path_, std::strerror(errno));
      continue;
    }
    return make_error(errno, "send to {}: {}", path_, std::strerror(errno));
  }

  size_t scanned = 0;
  while (true) {
    size_t nl = pending_.find('\n', scanned);
    if (nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      nlohmann::json resp;
      try {
        resp = nlohmann::json::parse(line);
      } catch (const nlohmann::json::parse_error& e) {
        return make_error(EPROTO, "malformed response from {}: {}", path_, e.what());
      }
      if (!resp.is_object() || !resp.contains("ok") || !resp["ok"].is_boolean())
        return make_error(EPROTO, "response from {} is not an object with a boolean 'ok'", path_);
      return resp;
    }
    scanned = pending_.size();
    if (pending_.size() > kMaxResponse)
      return make_error(EMSGSIZE, "response from {} is longer than {} bytes", path_, kMaxResponse);
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r == 0) return timed_out();
    if (r < 0) {
      if (errno == EINTR) continue;
      return make_error(errno, "poll {}: {}", path_, std::strerror(errno));
    }
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(errno, "receive from {}: {}", path_, std::strerror(errno));
    if (n == 0) return make_error(ECONNRESET, "{} closed the connection before answering", path_);
    pending_.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace vfs::tools
