// tests/unit/vsm/socket_client.h: a bare unix-socket client for tests of the API server
// (independent of tools/common, which has its own tests): send bytes, await one line.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace vfs::vsm::testing {

class SocketClient {
 public:
  explicit SocketClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~SocketClient() { ::close(fd_); }
  bool connected() const { return connected_; }

  bool send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  // The next line, or nullopt if the server closed the connection (or 10 s passed).
  std::optional<std::string> line() {
    while (true) {
      size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return l;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) return std::nullopt;
      char b[65536];
      ssize_t n = ::recv(fd_, b, sizeof(b), 0);
      if (n <= 0) return std::nullopt;
      buf_.append(b, static_cast<size_t>(n));
    }
  }

  // Sends one request line, returns the parsed response (null if none came).
  nlohmann::json call(const std::string& request_line) {
    if (!send(request_line + "\n")) return nullptr;
    auto l = line();
    if (!l) return nullptr;
    return nlohmann::json::parse(*l);
  }
  nlohmann::json call(const nlohmann::json& request) { return call(request.dump()); }

  bool closed_by_peer() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) return false;
    char b;
    return ::recv(fd_, &b, 1, 0) == 0;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

}  // namespace vfs::vsm::testing
