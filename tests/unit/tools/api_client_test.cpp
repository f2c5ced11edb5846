// tools/common: the API client against a real server, and its failure modes.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "tools/common/api_client.h"
#include "tools/common/cli_text.h"
#include "vsm/api_server.h"
#include "vsm/vsm_test_support.h"

using namespace std::chrono_literals;
using nlohmann::json;
using vfs::tools::ApiClient;
using vfs::vsm::testing::TempDir;
using vfs::vsm::testing::TestSwitch;

namespace {

// A socket that accepts connections but never answers.
struct MuteServer {
  explicit MuteServer(const std::string& path) {
    fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 && ::listen(fd, 4) == 0;
  }
  ~MuteServer() { ::close(fd); }
  int fd = -1;
  bool ok = false;
};

}  // namespace

TEST_CASE("the client talks to the daemon's API") {
  TestSwitch sw;
  std::string sock = sw.tmp / "api.sock";
  vfs::vsm::ApiServer server(*sw.supervisor, {sock, "", 1 << 20, 64});
  REQUIRE(server.start().ok());

  auto c = ApiClient::connect(sock, 5s);
  REQUIRE_MESSAGE(c.ok(), c.error().message);
  auto r = c->call(
      {{"op", "cli"}, {"commands", {"conf t", "vlan 10", "end", "show vlan brief | count"}}});
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK((*r)["ok"] == true);
  CHECK((*r)["output"] == "5\n");
  r = c->call({{"op", "bogus"}});  // same connection, next request
  REQUIRE(r.ok());
  CHECK((*r)["ok"] == false);

  ApiClient moved = std::move(*c);
  CHECK(moved.call({{"op", "counters"}}).ok());
}

TEST_CASE("client errors name the socket") {
  TempDir dir;
  auto c = ApiClient::connect(dir / "missing.sock");
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().message == "cannot connect to " + (dir / "missing.sock") +
                                 ": No such file or directory (is vfswitchd running?)");
  CHECK(c.error().code == ENOENT);

  c = ApiClient::connect(std::string(200, 'x'));
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().code == ENAMETOOLONG);

  MuteServer mute(dir / "mute.sock");
  REQUIRE(mute.ok);
  auto m = ApiClient::connect(dir / "mute.sock", 100ms);
  REQUIRE(m.ok());
  auto r = m->call({{"op", "counters"}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ETIMEDOUT);
  CHECK(r.error().message == "no response from " + (dir / "mute.sock") + " within 100 ms");
}

TEST_CASE("a response that is not an API answer is an error") {
  TempDir dir;
  MuteServer srv(dir / "odd.sock");
  REQUIRE(srv.ok);
  auto c = ApiClient::connect(dir / "odd.sock", 5s);
  REQUIRE(c.ok());
  int peer = ::accept(srv.fd, nullptr, nullptr);
  REQUIRE(peer >= 0);
  const char reply[] = "[1]\n{\"ok\":1}\nnot json\n";
  REQUIRE(::write(peer, reply, sizeof(reply) - 1) == static_cast<ssize_t>(sizeof(reply) - 1));
  auto r = c->call({{"op", "counters"}});
  CHECK(r.error().code == EPROTO);
  r = c->call({{"op", "counters"}});
  CHECK(r.error().code == EPROTO);
  r = c->call({{"op", "counters"}});
  CHECK(r.error().message.find("malformed response from") == 0);
  ::close(peer);
  r = c->call({{"op", "counters"}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code != ETIMEDOUT);
}

TEST_CASE("command splitting and NX-OS error rendering") {
  using vfs::tools::split_commands;
  CHECK(split_commands("conf t ; vlan 10;exit") ==
        std::vector<std::string>{"conf t", "vlan 10", "exit"});
  CHECK(split_commands(" ; ;").empty());
  CHECK(split_commands("show version") == std::vector<std::string>{"show version"});

  json resp{{"ok", false}, {"error", "% Invalid range at '^' marker."}, {"error_column", 5}};
  CHECK(vfs::tools::render_cli_error(resp, 6) == "           ^\n% Invalid range at '^' marker.");
  resp.erase("error_column");
  CHECK(vfs::tools::render_cli_error(resp, 6) == "% Invalid range at '^' marker.");
}
