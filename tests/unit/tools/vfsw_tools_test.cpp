// The vfsw and vfsw-dump executables end to end against a served supervisor. They are
// built next to this test binary in a full (non VFS_UNIT_ONLY) build; in a unit-only
// build these cases report that and check nothing.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "vsm/api_server.h"
#include "vsm/vsm_test_support.h"

using nlohmann::json;
using vfs::vsm::testing::TestSwitch;

namespace {

struct ToolRun {
  int status = -1;  // exit code
  std::string out;
  std::string err;
};

std::string tool(const char* name) {
  auto p = std::filesystem::read_symlink("/proc/self/exe").parent_path() / name;
  return std::filesystem::exists(p) ? p.string() : "";
}

ToolRun run(const std::string& exe, std::vector<std::string> args, const std::string& input = "") {
  int in[2], out[2], err[2];
  REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
  std::vector<char*> argv{const_cast<char*>(exe.c_str())};
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (!input.empty())
    CHECK(::write(in[1], input.data(), input.size()) == static_cast<ssize_t>(input.size()));
  ::close(in[1]);
  ToolRun r;
  pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open = 2;
  while (open > 0) {
    REQUIRE(::poll(p, 2, 20000) > 0);
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || !p[i].revents) continue;
      char buf[4096];
      ssize_t n = ::read(p[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        ::close(p[i].fd);
        p[i].fd = -1;
        --open;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

struct ServedSwitch : TestSwitch {
  ServedSwitch() : sock(tmp / "vfswitchd.sock"), server(*supervisor, {sock, "", 1 << 20, 64}) {
    REQUIRE(server.start().ok());
  }
  std::string sock;
  vfs::vsm::ApiServer server;
};

}  // namespace

TEST_CASE("vfsw: -c, attach, detach, exit codes") {
  std::string vfsw = tool("vfsw");
  if (vfsw.empty()) {
    MESSAGE("vfsw is not built next to this test (VFS_UNIT_ONLY build): skipped");
    return;
  }
  ServedSwitch s;
  s.basic_config();

  auto r = run(vfsw, {"--socket", s.sock, "-c",
                      "conf t ; vlan 30 ; name thirty ; end ; show vlan brief | include thirty"});
  CHECK(r.status == 0);
  CHECK(r.out == "30   thirty                           active\n");
  CHECK(r.err.empty());

  r = run(vfsw, {"--socket", s.sock, "-c", "conf t ; vlan 5000 ; vlan 31"});
  CHECK(r.status == 1);
  CHECK(r.err ==
        "vfsw: command failed: vlan 5000\n"
        "                           ^\n"
        "% Invalid range at '^' marker.\n");
  CHECK_FALSE(s.supervisor->model().vlans.contains(31));

  r = run(vfsw, {"--socket", s.sock, "-c", "conf t ; no vlan 10"});
  CHECK(r.status == 1);
  CHECK(r.err == "vfsw: command failed: no vlan 10\n% VLAN 10 is in use by port-profile web\n");

  r = run(vfsw, {"--socket", s.sock, "attach", "--vf", "2", "--profile", "web", "--vm", "vm1",
                 "--mac", "52:54:00:00:00:02"});
  CHECK(r.status == 0);
  CHECK(r.out == "1\n");
  r = run(vfsw, {"--socket", s.sock, "attach", "--vf", "3", "--profile", "nope", "--vm", "vm2"});
  CHECK(r.status == 1);
  CHECK(r.err == "vfsw: attach failed: port-profile nope does not exist\n");
  r = run(vfsw, {"--socket", s.sock, "detach", "--vf", "2"});
  CHECK(r.status == 0);
  CHECK(s.dataplane.last().veths.empty());

  r = run(vfsw, {"--socket", s.sock, "--bogus"});
  CHECK(r.status == 2);
  CHECK(r.err.find("unknown option '--bogus'") != std::string::npos);
  r = run(vfsw, {"--socket", s.sock, "attach", "--vf", "1"});
  CHECK(r.status == 2);
  r = run(vfsw,
          {"--socket", s.sock, "attach", "--vf", "1", "--profile", "web", "--vm", "x", "--color"});
  CHECK(r.status == 2);
  r = run(vfsw, {"frobnicate"});
  CHECK(r.status == 2);
  r = run(vfsw, {"--help"});
  CHECK(r.status == 0);
  CHECK(r.out.find("attach --vf I --profile NAME --vm NAME") != std::string::npos);
  r = run(vfsw, {"--socket", s.tmp / "none.sock", "-c", "show version"});
  CHECK(r.status == 1);
  CHECK(r.err.find("cannot connect to " + (s.tmp / "none.sock")) != std::string::npos);
}

TEST_CASE("vfsw: the interactive prompt keeps its mode across lines") {
  std::string vfsw = tool("vfsw");
  if (vfsw.empty()) {
    MESSAGE("vfsw is not built next to this test (VFS_UNIT_ONLY build): skipped");
    return;
  }
  ServedSwitch s;
  auto r = run(vfsw, {"--socket", s.sock},
               "configure terminal\nvlan 42\nname answer\nbogus\nend\nshow vlan brief | include "
               "42\nexit\nshow version\n");
  CHECK(r.status == 0);
  CHECK(r.out == "42   answer                           active\n");  // nothing after exit
  CHECK(r.err == "bogus\n^\n% Invalid command at '^' marker.\n");
  CHECK(s.supervisor->model().vlans.at(42).name == "answer");
}

TEST_CASE("vfsw-dump: table, json and filters") {
  std::string dump = tool("vfsw-dump");
  if (dump.empty()) {
    MESSAGE("vfsw-dump is not built next to this test (VFS_UNIT_ONLY build): skipped");
    return;
  }
  ServedSwitch s;
  s.basic_config();
  REQUIRE(s.supervisor->attach({0, "web", "vm1", "", ""}).ok());
  s.dataplane.set_rules(json::array({{{"veth", 1},
                                      {"group", 0},
                                      {"priority", 1},
                                      {"match", "eth"},
                                      {"actions", "jump 1"},
                                      {"state", "hw"},
                                      {"reason", ""},
                                      {"packets", 1},
                                      {"bytes", 64}},
                                     {{"veth", 2},
                                      {"group", 1},
                                      {"priority", 0},
                                      {"match", "ipv4"},
                                      {"actions", "drop"},
                                      {"state", "failed"},
                                      {"reason", "ENOSPC"},
                                      {"packets", 0},
                                      {"bytes", 0}}}));
  auto r = run(dump, {"--socket", s.sock});
  CHECK(r.status == 0);
  CHECK(r.out.find("VETH  GROUP  PRIO  STATE   PACKETS  BYTES  MATCH  ACTIONS  REASON\n") == 0);
  CHECK(r.out.find("2     1      0     failed  0        0      ipv4   drop     ENOSPC\n") !=
        std::string::npos);
  r = run(dump, {"--socket", s.sock, "--json", "--vm", "vm1"});
  CHECK(r.status == 0);
  auto j = json::parse(r.out);
  REQUIRE(j.size() == 1);
  CHECK(j[0]["veth"] == 1);
  r = run(dump, {"--socket", s.sock, "--json", "--state", "failed", "--group", "1"});
  CHECK(json::parse(r.out).size() == 1);
  r = run(dump, {"--socket", s.sock, "--state", "broken"});
  CHECK(r.status == 2);
  CHECK(r.err.find("--state must be hw, sw, pending or failed") != std::string::npos);
  r = run(dump, {"--socket", s.tmp / "none.sock"});
  CHECK(r.status == 1);
}
