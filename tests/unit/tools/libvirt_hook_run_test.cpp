// libvirt hook: what each libvirt call does, against a fake daemon (call order, roll
// back, what is left bound) and against a real supervisor behind its API socket (the
// daemon's own refusals); then the built binary, when it is next to this test.
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "tests/unit/tools/libvirt_hook_support.h"
#include "tools/libvirt-hook/daemon_switch_api.h"
#include "vsm/api_server.h"

using namespace vfs::tools::libvirt;
using namespace vfs::tools::libvirt::testing;
using Strings = std::vector<std::string>;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

struct Scene {
  FakeSysfs sys;
  HookConfig config = test_config(sys);
  VfDirectory vfs = read_vf_directory(config);
  FakeSwitch daemon;

  HookOutcome run(const std::string& domain, const std::string& op, const std::string& subop,
                  const std::string& xml) {
    return run_hook({domain, op, subop}, xml, config, vfs, daemon);
  }
};

}  // namespace

TEST_CASE("prepare begin attaches every vfswitch vNIC with the VM's identity") {
  Scene s;
  auto out = s.run("multi", "prepare", "begin", domain_file("several_nics.xml"));
  CHECK(out.exit_code == 0);
  CHECK(out.error.empty());
  CHECK(out.stdout_text.empty());
  CHECK(s.daemon.calls == Strings{"attach 3 web", "attach 0 db"});
  REQUIRE(s.daemon.bound.size() == 2);
  const Binding& b = s.daemon.bound.at(3);
  CHECK(b.vm == "multi");
  CHECK(b.vm_uuid == "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");  // lower-cased
  CHECK(b.mac == "52:54:00:00:0a:01");
  CHECK(s.daemon.bound.at(0).mac == "52:54:00:00:0a:02");
  REQUIRE(out.log.size() == 2);
  CHECK(contains(out.log[0],
                 "VM multi interface 0 (MAC 52:54:00:00:0a:01) on VF 0000:03:10.3 of PF ens1f0 -> "
                 "Vethernet1"));
}

TEST_CASE("prepare begin fails closed and leaves nothing attached") {
  Scene s;
  SUBCASE("the second vNIC's profile is missing: the first is detached again") {
    s.daemon.profiles.erase("db");
    auto out = s.run("multi", "prepare", "begin", domain_file("several_nics.xml"));
    CHECK(out.exit_code == 1);
    CHECK(s.daemon.calls == Strings{"attach 3 web", "attach 0 db", "detach 3"});
    CHECK(s.daemon.bound.empty());
    CHECK(out.error ==
          "VM multi interface 1 (MAC 52:54:00:00:0a:02) on wire vfsvf0, port-profile db: "
          "port-profile db does not exist "
          "(the 1 attached before were detached)");
    CHECK(out.error.find('\n') == std::string::npos);
  }
  SUBCASE("a disabled profile") {
    s.daemon.disabled.insert("web");
    auto out = s.run("web1", "prepare", "begin", domain_file("hostdev_vf.xml"));
    CHECK(out.exit_code == 1);
    CHECK(contains(out.error, "port-profile web is not enabled"));
    CHECK(s.daemon.bound.empty());
  }
  SUBCASE("the VF is taken by another VM") {
    s.daemon.bound[1] = Binding{1, 7, "other", "0000", "52:54:00:99:99:99", "web"};
    auto out = s.run("web1", "prepare", "begin", domain_file("hostdev_vf.xml"));
    CHECK(out.exit_code == 1);
    CHECK(contains(out.error, "VF 1 is already bound to Vethernet7 (VM other)"));
    CHECK(s.daemon.bound.at(1).vm == "other");
  }
  SUBCASE("the daemon is unreachable") {
    s.daemon.down = true;
    auto out = s.run("web1", "prepare", "begin", domain_file("hostdev_vf.xml"));
    CHECK(out.exit_code == 1);
    CHECK(contains(out.error, "is vfswitchd running?"));
  }
  SUBCASE("malformed XML: refused before the daemon is asked anything") {
    auto out = s.run("broken", "prepare", "begin", domain_file("malformed.xml"));
    CHECK(out.exit_code == 1);
    CHECK(contains(out.error, "domain broken: malformed domain XML"));
    CHECK(s.daemon.calls.empty());
  }
  SUBCASE("an unresolvable vNIC: nothing attached, not even the good ones") {
    const std::string xml = domain_file("several_nics.xml");
    std::string bad = xml;
    bad.replace(bad.find("profileid='db'"), 14, "profileid=''");
    auto out = s.run("multi", "prepare", "begin", bad);
    CHECK(out.exit_code == 1);
    CHECK(s.daemon.calls.empty());
  }
}

TEST_CASE("a domain with no vfswitch vNIC never reaches the daemon") {
  Scene s;
  s.daemon.down = true;
  for (const char* op : {"prepare", "release", "reconnect", "migrate"}) {
    auto out = s.run("plain", op, std::string(op) == "release" ? "end" : "begin",
                     domain_file("none_of_ours.xml"));
    CHECK(out.exit_code == 0);
  }
  CHECK(s.daemon.calls.empty());
}

TEST_CASE("release end detaches what is this VM's, leaves other VMs' VFs alone, never fails") {
  Scene s;
  REQUIRE(s.run("multi", "prepare", "begin", domain_file("several_nics.xml")).exit_code == 0);
  SUBCASE("both vNICs") {
    auto out = s.run("multi", "release", "end", domain_file("several_nics.xml"));
    CHECK(out.exit_code == 0);
    CHECK(s.daemon.bound.empty());
  }
  SUBCASE("a VF rebound to another VM since (a refused prepare of that VM runs release too)") {
    s.daemon.bound[0] = Binding{0, 9, "intruder", "1111", "52:54:00:12:34:56", "db"};
    auto out = s.run("multi", "release", "end", domain_file("several_nics.xml"));
    CHECK(out.exit_code == 0);
    CHECK_FALSE(s.daemon.bound.count(3));
    REQUIRE(s.daemon.bound.count(0));
    CHECK(s.daemon.bound.at(0).vm == "intruder");
    CHECK(std::any_of(out.log.begin(), out.log.end(),
                      [](const std::string& l) { return contains(l, "left alone"); }));
  }
  SUBCASE("the daemon is down: logged, exit 0") {
    s.daemon.down = true;
    auto out = s.run("multi", "release", "end", domain_file("several_nics.xml"));
    CHECK(out.exit_code == 0);
    REQUIRE_FALSE(out.log.empty());
    CHECK(contains(out.log[0], "detached nothing"));
  }
  SUBCASE("malformed XML: logged, exit 0, nothing detached") {
    auto out = s.run("multi", "release", "end", "<domain>");
    CHECK(out.exit_code == 0);
    CHECK(s.daemon.bound.size() == 2);
  }
}

TEST_CASE("migrate begin prints the XML back unchanged, or refuses what prepare would") {
  Scene s;
  const std::string xml = domain_file("network_portgroup.xml");
  auto out = s.run("db1", "migrate", "begin", xml);
  CHECK(out.exit_code == 0);
  CHECK(out.stdout_text == xml);
  CHECK(s.daemon.calls.empty());
  auto bad = s.run("broken", "migrate", "begin", domain_file("malformed.xml"));
  CHECK(bad.exit_code == 1);
  CHECK(bad.stdout_text.empty());
}

TEST_CASE("reconnect begin re-attaches idempotently and never fails") {
  Scene s;
  REQUIRE(s.run("multi", "prepare", "begin", domain_file("several_nics.xml")).exit_code == 0);
  const auto before = s.daemon.bound;
  auto out = s.run("multi", "reconnect", "begin", domain_file("several_nics.xml"));
  CHECK(out.exit_code == 0);
  CHECK(s.daemon.bound.size() == before.size());
  CHECK(s.daemon.bound.at(3).veth == before.at(3).veth);
  s.daemon.bound.erase(0);  // the daemon lost one, e.g. restored from older state
  out = s.run("multi", "reconnect", "begin", domain_file("several_nics.xml"));
  CHECK(out.exit_code == 0);
  CHECK(s.daemon.bound.count(0));
  s.daemon.down = true;
  out = s.run("multi", "reconnect", "begin", domain_file("several_nics.xml"));
  CHECK(out.exit_code == 0);
  CHECK(contains(out.log.at(0), "re-attach to port-profile web failed"));
}

TEST_CASE("other calls do nothing") {
  Scene s;
  for (auto [op, sub] : {std::pair{"start", "begin"},
                         {"started", "begin"},
                         {"stopped", "end"},
                         {"restore", "begin"},
                         {"prepare", "end"},
                         {"release", "begin"},
                         {"attach", "begin"}}) {
    auto out = s.run("multi", op, sub, domain_file("several_nics.xml"));
    CHECK(out.exit_code == 0);
    CHECK(out.stdout_text.empty());
    CHECK(out.log.empty());
  }
  CHECK(s.daemon.calls.empty());
}

namespace {

// A supervisor behind a real API socket, with profiles web and db (and a disabled one).
struct Served : vfs::vsm::testing::TestSwitch {
  Served() : sock(tmp / "vfswitchd.sock"), server(*supervisor, {sock, "", 1 << 20, 64}) {
    REQUIRE(server.start().ok());
    basic_config();
    must({"configure terminal", "port-profile type vethernet off", "switchport mode access",
          "switchport access vlan 10", "end"});
  }
  std::string sock;
  vfs::vsm::ApiServer server;
};

std::chrono::steady_clock::time_point in(std::chrono::milliseconds d) {
  return std::chrono::steady_clock::now() + d;
}

}  // namespace

TEST_CASE("against the daemon's API: attach, bindings, detach, and its refusals") {
  Served d;
  Scene s;
  DaemonSwitchApi api(d.sock, in(std::chrono::seconds(5)));
  auto out = run_hook({"multi", "prepare", "begin"}, domain_file("several_nics.xml"), s.config,
                      s.vfs, api);
  REQUIRE_MESSAGE(out.exit_code == 0, out.error);
  auto bound = api.bindings();
  REQUIRE(bound.ok());
  REQUIRE(bound->size() == 2);
  auto on_vf = [](const std::vector<Binding>& v, int vf) {
    auto it = std::find_if(v.begin(), v.end(), [&](const Binding& b) { return b.vf == vf; });
    REQUIRE(it != v.end());
    return *it;
  };
  CHECK(on_vf(*bound, 0).profile == "db");
  CHECK(on_vf(*bound, 3).profile == "web");
  CHECK(on_vf(*bound, 3).vm_uuid == "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
  CHECK(on_vf(*bound, 3).mac == "52:54:00:00:0a:01");
  const uint32_t veth3 = on_vf(*bound, 3).veth;

  // Stop and start again: the same vEthernet numbers (VM UUID + vNIC MAC).
  out =
      run_hook({"multi", "release", "end"}, domain_file("several_nics.xml"), s.config, s.vfs, api);
  CHECK(out.exit_code == 0);
  CHECK(api.bindings()->empty());
  CHECK(d.dataplane.last().veths.empty());
  out = run_hook({"multi", "prepare", "begin"}, domain_file("several_nics.xml"), s.config, s.vfs,
                 api);
  REQUIRE(out.exit_code == 0);
  CHECK(on_vf(api.bindings().value(), 3).veth == veth3);

  // The daemon's words come through, on one line.
  std::string xml = domain_file("qbh_sim.xml");
  xml.replace(xml.find("profileid='db'"), 14, "profileid='off'");
  out = run_hook({"qbh-guest", "prepare", "begin"}, xml, s.config, s.vfs, api);
  CHECK(out.exit_code == 1);
  CHECK(contains(out.error, "port-profile off is not enabled"));
  xml.replace(xml.find("profileid='off'"), 15, "profileid='nope'");
  out = run_hook({"qbh-guest", "prepare", "begin"}, xml, s.config, s.vfs, api);
  CHECK(contains(out.error, "port-profile nope does not exist"));
  CHECK(api.bindings()->size() == 2);

  // Out of time: refused, not hung.
  DaemonSwitchApi late(d.sock, in(std::chrono::milliseconds(-1)));
  out = run_hook({"qbh-guest", "prepare", "begin"}, domain_file("qbh_sim.xml"), s.config, s.vfs,
                 late);
  CHECK(out.exit_code == 1);
  CHECK(contains(out.error, "out of time"));

  DaemonSwitchApi nobody(d.tmp / "nobody.sock", in(std::chrono::seconds(5)));
  out = run_hook({"qbh-guest", "prepare", "begin"}, domain_file("qbh_sim.xml"), s.config, s.vfs,
                 nobody);
  CHECK(out.exit_code == 1);
  CHECK(contains(out.error, "nobody.sock"));
}

TEST_CASE("parse_bindings refuses what is not `show interface virtual | json`") {
  CHECK(parse_bindings("{\"interfaces\":[]}").ok());
  CHECK_FALSE(parse_bindings("").ok());
  CHECK_FALSE(parse_bindings("[]").ok());
  CHECK_FALSE(parse_bindings("{\"interfaces\":[{\"vf\":\"1\",\"vethernet\":1}]}").ok());
  auto b = parse_bindings(
      "{\"interfaces\":[{\"interface\":\"Vethernet4\",\"vethernet\":4,\"vf\":2,\"vm\":\"a\",\"vm_"
      "uuid\":\"u\","
      "\"mac\":\"52:54:00:00:00:01\",\"port_profile\":\"web\"}]}");
  REQUIRE(b.ok());
  CHECK(b->at(0).veth == 4);
  CHECK(b->at(0).vf == 2);
  CHECK(b->at(0).profile == "web");
}

namespace {

struct Run {
  int status = -1;
  std::string out, err;
};

std::string hook_binary() {
  auto p = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "vfswitch-libvirt-hook";
  return std::filesystem::exists(p) ? p.string() : "";
}

// Runs the hook binary with `env` added, `input` on stdin.
Run run_binary(const std::string& exe, Strings args, const Strings& env, const std::string& input) {
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
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  (void)!::write(in[1], input.data(), input.size());
  ::close(in[1]);
  Run r;
  pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open = 2;
  while (open > 0) {
    REQUIRE(::poll(p, 2, 20000) > 0);
    for (auto& f : p) {
      if (f.fd < 0 || !f.revents) continue;
      char buf[4096];
      ssize_t n = ::read(f.fd, buf, sizeof(buf));
      if (n <= 0) {
        ::close(f.fd);
        f.fd = -1;
        --open;
      } else {
        (&f == &p[0] ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace

TEST_CASE("the hook binary: argv, stdin, exit status, one line on stderr, the log file") {
  const std::string hook = hook_binary();
  if (hook.empty()) {
    MESSAGE("vfswitch-libvirt-hook is not built next to this test (VFS_UNIT_ONLY build): skipped");
    return;
  }
  Served d;
  Scene s;
  {
    std::ofstream(d.tmp / "hook.conf")
        << "pf = ens1f0\nsim-name = vfs\nnetwork = vfswitch\nsysfs-root = " << s.sys.root() << "\n";
  }
  const Strings env{"VFSWITCH_HOOK_CONFIG=" + d.tmp / "hook.conf", "VFSWITCH_SOCKET=" + d.sock,
                    "VFSWITCH_HOOK_LOG=" + d.tmp / "hook.log", "VFSWITCH_HOOK_TIMEOUT=5"};

  auto r =
      run_binary(hook, {"multi", "prepare", "begin", "-"}, env, domain_file("several_nics.xml"));
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  CHECK(d.supervisor->registry().find_by_vf(3) != nullptr);
  CHECK(contains(read_file(d.tmp / "hook.log"), "multi prepare begin: VM multi interface 0"));

  r = run_binary(hook, {"broken", "prepare", "begin", "-"}, env, domain_file("malformed.xml"));
  CHECK(r.status == 1);
  CHECK(r.err.rfind("vfswitch: domain broken: malformed domain XML", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);

  const std::string xml = domain_file("network_portgroup.xml");
  r = run_binary(hook, {"db1", "migrate", "begin", "-"}, env, xml);
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(r.out == xml);

  r = run_binary(hook, {"multi", "started", "begin", "-"}, env, domain_file("several_nics.xml"));
  CHECK(r.status == 0);
  CHECK(r.out.empty());

  r = run_binary(hook, {"multi", "release", "end", "-"}, env, domain_file("several_nics.xml"));
  CHECK(r.status == 0);
  CHECK(d.supervisor->registry().find_by_vf(3) == nullptr);

  Strings down = env;
  down[1] = "VFSWITCH_SOCKET=" + d.tmp / "nobody.sock";
  r = run_binary(hook, {"multi", "prepare", "begin", "-"}, down, domain_file("several_nics.xml"));
  CHECK(r.status == 1);
  CHECK(contains(r.err, "nobody.sock"));

  r = run_binary(hook, {"multi"}, env, "");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "usage"));
}
