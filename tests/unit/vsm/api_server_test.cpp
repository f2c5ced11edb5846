// The local API over a real unix socket in a temporary directory.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "base/atomic_file.h"
#include "vsm/api_server.h"
#include "vsm/socket_client.h"
#include "vsm/vsm_test_support.h"

using namespace vfs::vsm;
using nlohmann::json;
using vfs::vsm::testing::SocketClient;
using vfs::vsm::testing::TestSwitch;

namespace {

struct ServedSwitch : TestSwitch {
  explicit ServedSwitch(size_t max_line = 1 << 20)
      : sock(tmp / "run/sub/vfswitchd.sock"),
        server(*supervisor, ApiServerOptions{sock, "vfswitch", max_line, 64}) {
    auto r = server.start();
    REQUIRE_MESSAGE(r.ok(), r.error().message);
  }
  std::string sock;
  ApiServer server;
};

}  // namespace

TEST_CASE("cli requests run commands in order from exec mode") {
  ServedSwitch s;
  SocketClient c(s.sock);
  REQUIRE(c.connected());
  auto r = c.call(json{
      {"op", "cli"},
      {"commands",
       {"configure terminal", "vlan 10", "name web", "end", "show vlan brief | include web"}}});
  REQUIRE(r["ok"] == true);
  CHECK(r["output"] == "10   web                              active\n");
  CHECK(r["mode"] == "exec");
  CHECK(r["prompt"] == "vfsw# ");

  r = c.call(json{{"op", "cli"}, {"commands", {"conf t", "vlan 20", "vlan 5000", "vlan 30"}}});
  CHECK(r["ok"] == false);
  CHECK(r["error"] == "% Invalid range at '^' marker.");
  CHECK(r["error_column"] == 5);
  CHECK(r["failed_command"] == "vlan 5000");
  CHECK(r["output"] == "");
  CHECK(s.supervisor->model().vlans.contains(20));
  CHECK_FALSE(s.supervisor->model().vlans.contains(30));

  s.must({"conf t", "port-profile type vethernet web", "switchport access vlan 10", "end"});
  r = c.call(json{{"op", "cli"},
                  {"commands", {"show version | count", "configure terminal", "no vlan 10"}}});
  CHECK(r["ok"] == false);
  CHECK(r["error"] == "% VLAN 10 is in use by port-profile web");
  CHECK_FALSE(r.contains("error_column"));
  CHECK(r["output"] == "4\n");
  CHECK(r["mode"] == "config");

  // each request starts from exec mode unless it asks to keep the connection's mode
  r = c.call(json{{"op", "cli"}, {"commands", {"vlan 40"}}});
  CHECK(r["ok"] == false);
  r = c.call(json{{"op", "cli"}, {"commands", {"conf t"}}});
  CHECK(r["prompt"] == "vfsw(config)# ");
  r = c.call(json{{"op", "cli"}, {"commands", {"vlan 40"}}, {"keep_mode", true}});
  CHECK(r["ok"] == true);
  CHECK(r["prompt"] == "vfsw(config-vlan)# ");
  r = c.call(json{{"op", "cli"}, {"commands", {"name forty"}}, {"keep_mode", true}});
  CHECK(r["ok"] == true);
  CHECK(s.supervisor->model().vlans.at(40).name == "forty");
}

TEST_CASE("bad requests get an error naming what is wrong, and the connection stays usable") {
  ServedSwitch s;
  SocketClient c(s.sock);
  REQUIRE(c.connected());
  struct Case {
    std::string request;
    std::string error_contains;
  };
  const Case cases[] = {
      {"{\"op\":", "malformed JSON request"},
      {"", "malformed JSON request"},
      {"[1,2]", "request must be a JSON object, not array"},
      {"{}", "request has no 'op' field"},
      {"{\"op\":7}", "'op' must be a string, not integer"},
      {"{\"op\":\"reboot\"}", "unknown op 'reboot'"},
      {"{\"op\":\"cli\"}", "cli request has no 'commands' field"},
      {"{\"op\":\"cli\",\"commands\":\"show version\"}",
       "'commands' in cli request must be an array of strings, not string"},
      {"{\"op\":\"cli\",\"commands\":[\"show version\",3]}",
       "commands[1] in cli request must be a string, not integer"},
      {"{\"op\":\"cli\",\"commands\":[],\"keep_mode\":1}",
       "'keep_mode' in cli request must be a boolean"},
      {"{\"op\":\"cli\",\"commands\":[],\"comands\":[]}", "unknown field 'comands' in cli request"},
      {"{\"op\":\"attach\",\"vf\":\"1\",\"profile\":\"web\",\"vm\":\"a\"}",
       "'vf' in attach request must be an integer, not string"},
      {"{\"op\":\"attach\",\"vf\":1.5,\"profile\":\"web\",\"vm\":\"a\"}",
       "'vf' in attach request must be an integer, not number"},
      {"{\"op\":\"attach\",\"vf\":99999999999,\"profile\":\"web\",\"vm\":\"a\"}",
       "'vf' in attach request is out of range"},
      {"{\"op\":\"attach\",\"vf\":1,\"vm\":\"a\"}", "attach request has no 'profile' field"},
      {"{\"op\":\"attach\",\"vf\":1,\"profile\":[],\"vm\":\"a\"}",
       "'profile' in attach request must be a string, not array"},
      {"{\"op\":\"attach\",\"vf\":1,\"profile\":\"nope\",\"vm\":\"a\"}",
       "port-profile nope does not exist"},
      {"{\"op\":\"detach\"}", "detach request has no 'vf' field"},
      {"{\"op\":\"detach\",\"vf\":3}", "VF 3 is not attached to any vEthernet"},
      {"{\"op\":\"dump-rules\",\"x\":1}", "unknown field 'x' in dump-rules request"},
  };
  for (const auto& k : cases) {
    INFO(k.request);
    auto r = c.call(k.request);
    REQUIRE(r.is_object());
    CHECK(r["ok"] == false);
    REQUIRE(r["error"].is_string());
    CHECK(r["error"].get<std::string>().find(k.error_contains) != std::string::npos);
  }
  // bytes that are not UTF-8 inside a command: still one valid JSON response
  auto r = c.call(std::string("{\"op\":\"cli\",\"commands\":[\"show \xff\"]}"));
  CHECK(r["ok"] == false);
  r = c.call(json{{"op", "cli"}, {"commands", {"show vers\u00e9"}}});
  CHECK(r["ok"] == false);
  CHECK(r["error_column"] == 9);
  r = c.call(json{{"op", "cli"}, {"commands", {"show version"}}});
  CHECK(r["ok"] == true);
}

TEST_CASE("attach, detach, dump-rules and counters") {
  ServedSwitch s;
  s.basic_config();
  s.dataplane.set_rules(json::array({{{"veth", 1},
                                      {"group", 0},
                                      {"priority", 1},
                                      {"match", "eth"},
                                      {"actions", "drop"},
                                      {"state", "hw"},
                                      {"reason", ""},
                                      {"packets", 3},
                                      {"bytes", 180}},
                                     {{"veth", 0}, {"group", 2}, {"state", "sw"}}}));
  s.dataplane.set_counters({{"slowpath", {{"rx", 1}}}, {"veths", json::object()}});
  SocketClient c(s.sock);
  auto r = c.call(json{{"op", "attach"},
                       {"vf", 1},
                       {"profile", "web"},
                       {"vm", "vm1"},
                       {"vm_uuid", ""},
                       {"mac", ""}});
  REQUIRE(r["ok"] == true);
  CHECK(r["veth"] == 1);
  r = c.call(json{{"op", "attach"}, {"vf", 1}, {"profile", "db"}, {"vm", "vm2"}});
  CHECK(r["ok"] == false);
  CHECK(r["error"] == "VF 1 is already bound to Vethernet1 (VM vm1); detach it first");
  r = c.call(json{{"op", "dump-rules"}});
  REQUIRE(r["ok"] == true);
  REQUIRE(r["rules"].size() == 2);
  CHECK(r["rules"][0]["vm"] == "vm1");
  CHECK(r["rules"][0]["packets"] == 3);
  CHECK_FALSE(r["rules"][1].contains("vm"));
  r = c.call(json{{"op", "counters"}});
  CHECK(r["counters"]["slowpath"]["rx"] == 1);
  r = c.call(json{{"op", "detach"}, {"vf", 1}});
  CHECK(r["ok"] == true);
  CHECK(s.dataplane.last().veths.empty());
}

TEST_CASE("several clients at once") {
  ServedSwitch s;
  constexpr int kClients = 6;
  constexpr int kRequests = 30;
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      SocketClient c(s.sock);
      for (int i = 0; i < kRequests; ++i) {
        int vlan = 100 + t * kRequests + i;
        auto r = c.call(
            json{{"op", "cli"}, {"commands", {"conf t", fmt::format("vlan {}", vlan), "end"}}});
        if (r.is_object() && r["ok"] == true) ++good;
      }
    });
  }
  // a connection that sent half a request does not block the others
  SocketClient idle(s.sock);
  REQUIRE(idle.send("{\"op\":\"cli\","));
  for (auto& t : threads) t.join();
  CHECK(good == kClients * kRequests);
  CHECK(s.supervisor->model().vlans.size() == 1 + kClients * kRequests);
  REQUIRE(idle.send("\"commands\":[\"show version\"]}\n"));
  auto l = idle.line();
  REQUIRE(l);
  CHECK(json::parse(*l)["ok"] == true);
}

TEST_CASE("a request line longer than the limit gets an error and the connection is closed") {
  ServedSwitch s(1024);
  SocketClient c(s.sock);
  REQUIRE(c.send(std::string(3000, 'x')));
  auto l = c.line();
  REQUIRE(l);
  CHECK(json::parse(*l)["error"] == "request line longer than 1024 bytes");
  CHECK(c.closed_by_peer());

  SocketClient d(s.sock);  // the server still serves
  CHECK(d.call(json{{"op", "counters"}})["ok"] == true);
}

TEST_CASE("the socket: already served, stale, not a socket, removed on stop") {
  ServedSwitch s;
  struct stat st {};
  REQUIRE(::stat(s.sock.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));

  ApiServer second(*s.supervisor, ApiServerOptions{s.sock, "", 1 << 20, 64});
  auto r = second.start();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "socket " + s.sock + " is already served by another vfswitchd");
  SocketClient c(s.sock);  // the first one was not disturbed
  CHECK(c.call(json{{"op", "counters"}})["ok"] == true);

  s.server.stop();
  CHECK(::stat(s.sock.c_str(), &st) != 0);

  // stale: a socket file nobody listens on
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, s.sock.c_str(), sizeof(a.sun_path) - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  ::close(fd);
  ApiServer third(*s.supervisor, ApiServerOptions{s.sock, "", 1 << 20, 64});
  r = third.start();
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  SocketClient d(s.sock);
  CHECK(d.call(json{{"op", "counters"}})["ok"] == true);
  third.stop();

  std::string plain = s.tmp / "plain";
  std::ofstream(plain) << "keep me";
  ApiServer fourth(*s.supervisor, ApiServerOptions{plain, "", 1 << 20, 64});
  r = fourth.start();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == plain + " exists and is not a socket; not replacing it");
  CHECK(vfs::read_file(plain).value() == "keep me");
}

TEST_CASE("stop() returns while clients are still connected") {
  auto s = std::make_unique<ServedSwitch>();
  SocketClient c(s->sock);
  REQUIRE(c.call(json{{"op", "counters"}})["ok"] == true);
  SocketClient quiet(s->sock);  // connected, never sends
  s->server.stop();
  CHECK(c.closed_by_peer());
}
