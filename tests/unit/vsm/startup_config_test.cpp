// Loading a startup-config: NX-OS layout, errors that name FILE:LINE, nothing applied on
// error; the sample shipped in configs/; save and restore.
#include <doctest/doctest.h>

#include "base/atomic_file.h"
#include "vsm/running_config.h"
#include "vsm/vsm_test_support.h"

using namespace vfs::vsm;
using vfs::vsm::testing::repo_root;
using vfs::vsm::testing::TestSwitch;

namespace {
void write(const std::string& path, const std::string& text) {
  auto w = vfs::write_file_atomically(path, text);
  REQUIRE_MESSAGE(w.ok(), w.error().message);
}
}  // namespace

TEST_CASE("the sample startup-config defines web and db") {
  TestSwitch sw;
  std::string sample = (repo_root() / "configs/startup-config.sample").string();
  auto r = sw.supervisor->load_startup_config(sample);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  auto m = sw.supervisor->model();
  CHECK(m.vlans.at(10).name == "web");
  CHECK(m.vlans.at(20).name == "db");
  for (auto [name, vlan] : {std::pair<std::string, uint16_t>{"web", 10}, {"db", 20}}) {
    PortProfile expected;
    expected.name = name;
    expected.description = m.profiles.at(name).description;
    expected.access_vlan = vlan;
    expected.state_enabled = true;
    expected.mode_set = expected.access_vlan_set = expected.shutdown_set = true;
    CHECK(m.profiles.at(name) == expected);
  }
  CHECK(sw.dataplane.last().vlans == std::vector<uint16_t>{1, 10, 20});
  CHECK(sw.supervisor->attach({0, "web", "vm1", "", ""}).ok());
}

TEST_CASE("startup-config: comments, blank lines, indentation, CRLF") {
  TestSwitch sw;
  std::string path = sw.tmp / "cfg";
  write(path,
        "!Command: show running-config\r\n"
        "\n"
        "vlan 1,30\r\n"
        "vlan 30\n"
        "  name blue\n"
        "   ! a comment inside a block\n"
        "port-profile type vethernet p\n"
        "  switchport access vlan 30\n"
        "\tstate enabled\n");
  auto r = sw.supervisor->load_startup_config(path);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  auto m = sw.supervisor->model();
  CHECK(m.vlans.at(30).name == "blue");
  CHECK(m.profiles.at("p").access_vlan == 30);
  CHECK(m.profiles.at("p").state_enabled);
}

TEST_CASE("startup-config: the first bad line is named and nothing is applied") {
  TestSwitch sw;
  sw.basic_config();
  const SwitchModel before = sw.supervisor->model();
  const int applies = sw.dataplane.applied();
  std::string path = sw.tmp / "bad";

  write(path,
        "vlan 40\n  name forty\nport-profile type vethernet x\n  switchport access vlan 5000\n  "
        "state enabled\n");
  auto r = sw.supervisor->load_startup_config(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        path + ":4: Invalid range at '^' marker.\n    switchport access vlan 5000\n" +
            std::string(2 + 25, ' ') + "^");

  write(path, "vlan 40\ninterface vethernet 2\n  inherit port-profile nope\n");
  r = sw.supervisor->load_startup_config(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == path + ":3: port-profile nope does not exist");

  // an unindented line is top-level: a sub-mode command there is an error, not a continuation
  write(path, "port-profile type vethernet x\nstate enabled\n");
  r = sw.supervisor->load_startup_config(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find(path + ":2: Invalid command at '^' marker.") == 0);

  // exec commands are not configuration
  write(path, "show running-config\n");
  r = sw.supervisor->load_startup_config(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find(path + ":1: ") == 0);

  r = sw.supervisor->load_startup_config(sw.tmp / "missing");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find(sw.tmp / "missing") != std::string::npos);

  CHECK(sw.supervisor->model() == before);
  CHECK(sw.dataplane.applied() == applies);
}

TEST_CASE("copy running-config startup-config survives a restart") {
  vfs::vsm::testing::TempDir state;
  std::string saved;
  {
    TestSwitch sw(8, state.path());
    sw.basic_config();
    sw.must({"conf t", "interface vethernet 9", "description spare", "end",
             "copy running-config startup-config"});
    saved = sw.supervisor->running_config();
    sw.must({"conf t", "vlan 99", "end"});  // not saved
  }
  TestSwitch again(8, state.path());
  CHECK(again.supervisor->running_config() == saved);
  CHECK(again.dataplane.last().vlans == std::vector<uint16_t>{1, 10, 20});
}

TEST_CASE("a bad startup-config stops restore") {
  vfs::vsm::testing::TempDir state;
  write(state / "startup-config", "vlan 10\nbogus\n");
  vfs::vsm::testing::FakeDataplane dp;
  Supervisor sup(dp, {state.path(), {}});
  auto r = sup.restore();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find(state / "startup-config" + ":2: ") == 0);
  CHECK(dp.applied() == 0);
}
