#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "slowpath/daemon/daemon_options.h"

using vfs::daemon::parse_daemon_options;

namespace {
vfs::Result<vfs::daemon::DaemonOptions> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "vfswitchd");
  return parse_daemon_options(static_cast<int>(args.size()), args.data());
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& content) {
    char tmpl[] = "/tmp/vfsw-opt-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    path = tmpl;
    std::ofstream(path) << content;
  }
  ~TempFile() { std::remove(path.c_str()); }
};
}  // namespace

TEST_CASE("defaults are the documented ones") {
  auto o = parse({});
  REQUIRE(o.ok());
  CHECK(o->driver == "sim");
  CHECK(o->socket == "/run/vfswitch/vfswitchd.sock");
  CHECK(o->state_dir == "/var/lib/vfswitch");
  CHECK(o->sim_vfs == 4);
  CHECK_FALSE(o->foreground);
}

TEST_CASE("the interface contract's options are accepted") {
  auto o = parse({"--driver", "sim", "--sim-vfs", "6", "--sim-name", "ab1", "--socket", "/tmp/x.sock",
                  "--state-dir", "/tmp/st", "--startup-config", "/tmp/sc", "--foreground"});
  REQUIRE(o.ok());
  CHECK(o->sim_vfs == 6);
  CHECK(o->sim_name == "ab1");
  CHECK(o->socket == "/tmp/x.sock");
  CHECK(o->startup_config == "/tmp/sc");
  CHECK(o->foreground);
}

TEST_CASE("bad command lines are refused with the option named") {
  auto unknown = parse({"--no-such-option"});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message.find("no-such-option") != std::string::npos);

  auto missing = parse({"--socket"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("socket") != std::string::npos);

  auto bad_num = parse({"--sim-vfs", "many"});
  REQUIRE_FALSE(bad_num.ok());
  CHECK(bad_num.error().message.find("sim-vfs") != std::string::npos);

  auto range = parse({"--sim-vfs", "0"});
  REQUIRE_FALSE(range.ok());
  CHECK(range.error().message.find("--sim-vfs") != std::string::npos);

  auto name = parse({"--sim-name", "Has-Caps"});
  REQUIRE_FALSE(name.ok());
  CHECK(name.error().message.find("--sim-name") != std::string::npos);

  auto drv = parse({"--driver", "e1000"});
  REQUIRE_FALSE(drv.ok());
  CHECK(drv.error().message.find("e1000") != std::string::npos);
}

TEST_CASE("a config file sets options; the command line wins over it") {
  TempFile f("# vfswitchd.conf\ndriver = sim\nsim-vfs = 3\nsim-name = cfg1\nsocket = /tmp/from-file.sock\n");
  auto o = parse({"--config", f.path.c_str(), "--socket", "/tmp/from-cli.sock"});
  REQUIRE(o.ok());
  CHECK(o->sim_vfs == 3);
  CHECK(o->sim_name == "cfg1");
  CHECK(o->socket == "/tmp/from-cli.sock");
}

TEST_CASE("config file errors name the file and the line") {
  TempFile unknown("driver = sim\n\nbogus-option = 1\n");
  auto a = parse({"--config", unknown.path.c_str()});
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().message.find(unknown.path + ":3:") == 0);

  TempFile no_equals("driver = sim\nsim-vfs 4\n");
  auto b = parse({"--config", no_equals.path.c_str()});
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().message.find(no_equals.path + ":2:") == 0);

  TempFile bad_value("sim-vfs = lots\n");
  auto c = parse({"--config", bad_value.path.c_str()});
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().message.find(bad_value.path + ":1:") == 0);

  auto dir = parse({"--config", "/tmp"});
  REQUIRE_FALSE(dir.ok());
  CHECK(dir.error().message.find("/tmp: config file is not a regular file") == 0);

  auto d = parse({"--config", "/nonexistent/vfswitchd.conf"});
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message.find("/nonexistent/vfswitchd.conf") != std::string::npos);
}
