// vsm/api_server.h owns the local API endpoint: a unix stream socket serving
// newline-delimited JSON (see api_session.h for the protocol) to several clients at once,
// one thread per connection. It refuses to take over a socket a live vfswitchd serves,
// replaces a stale one, and gives the socket to group "vfswitch" (mode 0660) when that
// group exists. Requests are bounded (max_line); a longer one gets an error and the
// connection is closed, as the stream cannot be resynchronised.
//
// Threading: start() and stop() from one control thread. stop() closes the listener,
// wakes and joins every connection thread (a request being served finishes first) and
// removes the socket file.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"
#include "vsm/supervisor.h"

namespace vfs::vsm {

struct ApiServerOptions {
  std::string socket_path = "/run/vfswitch/vfswitchd.sock";
  std::string group = "vfswitch";  // socket group if it exists; "" = leave as created
  size_t max_line = 1 << 20;       // longest request line, bytes
  size_t max_connections = 64;
};

class ApiServer {
 public:
  ApiServer(Supervisor& supervisor, ApiServerOptions options);
  ~ApiServer();  // stop()
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  Result<void> start();
  void stop();

  const std::string& socket_path() const { return options_.socket_path; }

 private:
  struct Connection {
    int fd = -1;
    uid_t uid = 0;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void accept_loop();
  void serve(Connection& c);
  void reap_finished(bool all);
  bool send_line(int fd, const std::string& line);

  Supervisor& supervisor_;
  ApiServerOptions options_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd: readable once stop() was called
  dev_t sock_dev_ = 0;
  ino_t sock_ino_ = 0;  // the socket file we created, so stop() removes only ours
  std::thread acceptor_;
  std::mutex conns_mu_;
  std::list<std::unique_ptr<Connection>> conns_;
  bool running_ = false;
};

}  // namespace vfs::vsm
