// tools/common/api_client.h owns the client side of vfswitchd's local API: one connection
// to the unix socket, one JSON request line out, one response line back, each exchange
// bounded by a timeout. Errors name the socket path (and say when the daemon looks down).
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace vfs::tools {

inline constexpr const char* kDefaultSocket = "/run/vfswitch/vfswitchd.sock";

class ApiClient {
 public:
  static Result<ApiClient> connect(const std::string& socket_path,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(60));
  ApiClient(ApiClient&& o) noexcept;
  ApiClient& operator=(ApiClient&& o) noexcept;
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;
  ~ApiClient();

  // Sends request, returns the daemon's response object (which has a boolean "ok").
  // Transport failures, a timeout or a response that is not such an object are errors.
  Result<nlohmann::json> call(const nlohmann::json& request);

  const std::string& socket_path() const { return path_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  ApiClient(int fd, std::string path, std::chrono::milliseconds timeout)
      : fd_(fd), path_(std::move(path)), timeout_(timeout) {}

  int fd_ = -1;
  std::string path_;
  std::chrono::milliseconds timeout_;
  std::string pending_;  // bytes received after the last response line
};

}  // namespace vfs::tools
