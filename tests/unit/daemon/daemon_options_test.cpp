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
  auto o =
      parse({"--driver", "sim", "--sim-vfs", "6", "--sim-name", "ab1", "--socket", "/tmp/x.sock",
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
  TempFile f(
      "# vfswitchd.conf\ndriver = sim\nsim-vfs = 3\nsim-name = cfg1\nsocket = "
      "/tmp/from-file.sock\n");
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

TEST_CASE(
    "the sim's knobs: --sim-unsupported, --sim-capacity, --sim-insert-latency-us, "
    "--sim-fail-rate") {
  auto o = parse({"--sim-unsupported", "ipv6,Meter,of_push_vlan", "--sim-capacity", "12",
                  "--sim-insert-latency-us", "250", "--sim-fail-rate", "0.25"});
  REQUIRE(o.ok());
  CHECK(o->sim_unsupported == std::vector<std::string>{"IPV6", "METER", "OF_PUSH_VLAN"});
  CHECK(o->sim_capacity == 12);
  CHECK(o->sim_insert_latency_us == 250);
  CHECK(o->sim_fail_rate == doctest::Approx(0.25));

  auto defaults = parse({});
  REQUIRE(defaults.ok());
  CHECK(defaults->sim_unsupported.empty());
  CHECK(defaults->sim_capacity == 65536);
  CHECK(defaults->sim_insert_latency_us == 0);
  CHECK(defaults->sim_fail_rate == 0);

  auto zero = parse({"--sim-capacity", "0"});
  REQUIRE(zero.ok());
  CHECK(zero->sim_capacity == 0);

  auto help = parse({"--help"});
  REQUIRE(help.ok());
  for (const char* opt :
       {"--sim-unsupported", "--sim-capacity", "--sim-insert-latency-us", "--sim-fail-rate"})
    CHECK(help->help_text.find(opt) != std::string::npos);
}

TEST_CASE("bad sim knobs are refused naming the option and the word") {
  auto unknown = parse({"--sim-unsupported", "ipv6,frobnicate"});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message.find("--sim-unsupported") != std::string::npos);
  CHECK(unknown.error().message.find("'frobnicate'") != std::string::npos);

  auto empty_name = parse({"--sim-unsupported", "ipv6,,meter"});
  REQUIRE_FALSE(empty_name.ok());
  CHECK(empty_name.error().message.find("--sim-unsupported") != std::string::npos);

  for (const char* bad : {"-1", "many", "4294967296", ""}) {
    INFO(bad);
    auto cap = parse({"--sim-capacity", bad});
    REQUIRE_FALSE(cap.ok());
    CHECK(cap.error().message.find("--sim-capacity") != std::string::npos);
  }
  auto lat = parse({"--sim-insert-latency-us", "-5"});
  REQUIRE_FALSE(lat.ok());
  CHECK(lat.error().message.find("--sim-insert-latency-us") != std::string::npos);

  for (const char* bad : {"1.5", "-0.1", "nan", "often"}) {
    INFO(bad);
    auto rate = parse({"--sim-fail-rate", bad});
    REQUIRE_FALSE(rate.ok());
    CHECK(rate.error().message.find("sim-fail-rate") != std::string::npos);
  }
}

TEST_CASE("the sim's knobs from a config file") {
  TempFile cfg("sim-unsupported = sample\nsim-capacity = 7\nsim-fail-rate = 0.5\n");
  auto o = parse({"--config", cfg.path.c_str()});
  REQUIRE(o.ok());
  CHECK(o->sim_unsupported == std::vector<std::string>{"SAMPLE"});
  CHECK(o->sim_capacity == 7);
  CHECK(o->sim_fail_rate == doctest::Approx(0.5));

  TempFile bad("sim-unsupported = ipv6,warp\n");
  auto b = parse({"--config", bad.path.c_str()});
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().message.find("'warp'") != std::string::npos);
}
