// The vEthernet registry: sticky numbers, attach refusals, persistence across restarts.
#include <doctest/doctest.h>

#include "base/atomic_file.h"
#include "vsm/vsm_test_support.h"

using namespace vfs::vsm;
using vfs::vsm::testing::TempDir;
using vfs::vsm::testing::TestSwitch;

TEST_CASE("attach refuses with the reason") {
  TestSwitch sw(4);
  sw.basic_config();
  sw.must({"conf t", "port-profile type vethernet off", "end"});
  auto refused = [&](AttachRequest r) {
    auto a = sw.supervisor->attach(r);
    REQUIRE_FALSE(a.ok());
    return a.error().message;
  };
  CHECK(refused({0, "nope", "vm1", "", ""}) == "port-profile nope does not exist");
  CHECK(refused({0, "off", "vm1", "", ""}) ==
        "port-profile off is not enabled (configure 'state enabled' in it first)");
  CHECK(refused({4, "web", "vm1", "", ""}) == "VF 4 is out of range: this host has 4 VFs (0..3)");
  CHECK(refused({-1, "web", "vm1", "", ""}) == "VF -1 is out of range: this host has 4 VFs (0..3)");
  CHECK(refused({0, "", "vm1", "", ""}) == "attach of VF 0 names no port-profile");
  CHECK(refused({0, "web", "", "", ""}) == "attach of VF 0 names neither a VM nor a VM UUID");
  CHECK(refused({0, "web", "vm1", "", "52:54:00:00:00"}) ==
        "MAC '52:54:00:00:00' is not of the form xx:xx:xx:xx:xx:xx");
  CHECK(refused({0, "web", "vm\n1", "", ""}).find("VM name must be printable") == 0);
  CHECK(sw.supervisor->registry().records().empty());

  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", ""}).ok());
  CHECK(refused({0, "db", "vm2", "", ""}) ==
        "VF 0 is already bound to Vethernet1 (VM vm1); detach it first");
}

TEST_CASE("the same vNIC gets the same vEthernet number again") {
  TestSwitch sw;
  sw.basic_config();
  auto attach = [&](AttachRequest r) {
    auto a = sw.supervisor->attach(r);
    REQUIRE_MESSAGE(a.ok(), a.error().message);
    return *a;
  };
  CHECK(attach({0, "web", "vm1", "", "52:54:00:ab:00:01"}) == 1);
  CHECK(attach({1, "db", "vm2", "", ""}) == 2);
  CHECK(attach({0, "web", "vm1", "", "52:54:00:ab:00:01"}) == 1);  // idempotent
  REQUIRE(sw.supervisor->detach(0).ok());
  CHECK(sw.supervisor->detach(0).error().message == "VF 0 is not attached to any vEthernet");
  CHECK(sw.dataplane.last().veths.size() == 1);

  // another vNIC on the freed VF gets a new number; the old one comes back with its own
  CHECK(attach({0, "web", "vm3", "", ""}) == 3);
  REQUIRE(sw.supervisor->detach(0).ok());
  CHECK(attach({5, "db", "vm1", "", "52:54:00:AB:00:01"}) ==
        1);  // same VM + MAC, other VF, case-folded
  CHECK(attach({5, "db", "vm1", "", "52:54:00:ab:00:01"}) == 1);
  CHECK(sw.supervisor->model().interfaces.at(1).profile == "db");

  // the UUID identifies the VM when given, whatever its name
  CHECK(attach({6, "web", "old-name", "uuid-7", "52:54:00:00:00:07"}) == 4);
  REQUIRE(sw.supervisor->detach(6).ok());
  CHECK(attach({6, "web", "new-name", "uuid-7", "52:54:00:00:00:07"}) == 4);

  // numbers configured by hand are not handed out
  sw.must({"conf t", "interface vethernet 5", "end"});
  CHECK(attach({7, "web", "vm8", "", ""}) == 6);
}

TEST_CASE("a moved vNIC keeps its number and frees its old VF") {
  TestSwitch sw;
  sw.basic_config();
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", "52:54:00:00:00:01"}).ok());
  auto n = sw.supervisor->attach({3, "web", "vm1", "", "52:54:00:00:00:01"});
  REQUIRE(n.ok());
  CHECK(*n == 1);
  CHECK(sw.supervisor->registry().find_by_vf(0) == nullptr);
  REQUIRE(sw.dataplane.last().veths.size() == 1);
  CHECK(sw.dataplane.last().veths[0].vf == 3);
}

TEST_CASE("a restarted supervisor re-binds the same VFs to the same vEthernets and profiles") {
  TempDir state;
  {
    TestSwitch sw(8, state.path());
    sw.basic_config();
    sw.must({"copy running-config startup-config"});
    REQUIRE(sw.supervisor->attach({2, "web", "vm1", "", "52:54:00:00:00:01"}).ok());
    REQUIRE(sw.supervisor->attach({3, "web", "vm2", "", ""}).ok());
    REQUIRE(sw.supervisor->attach({4, "web", "vm3", "", ""}).ok());
    REQUIRE(sw.supervisor->detach(4).ok());
    // changed on the CLI after attach, never saved in startup-config
    sw.must({"conf t", "interface vethernet 2", "inherit port-profile db", "end"});
  }
  TestSwitch sw(8, state.path());
  auto cfg = sw.dataplane.last();
  REQUIRE(cfg.veths.size() == 2);
  CHECK(cfg.veths[0].number == 1);
  CHECK(cfg.veths[0].vf == 2);
  CHECK(cfg.veths[0].profile == "web");
  CHECK(cfg.veths[0].mac == "52:54:00:00:00:01");
  CHECK(cfg.veths[0].forwarding);
  CHECK(cfg.veths[1].number == 2);
  CHECK(cfg.veths[1].vf == 3);
  CHECK(cfg.veths[1].profile == "db");
  CHECK(cfg.veths[1].access_vlan == 20);
  // the detached vNIC still owns its number
  auto n = sw.supervisor->attach({4, "web", "vm3", "", ""});
  REQUIRE(n.ok());
  CHECK(*n == 3);
}

TEST_CASE("restore with fewer VFs or a vanished profile fails those ports closed") {
  TempDir state;
  {
    TestSwitch sw(8, state.path());
    sw.basic_config();  // not saved: the profiles are gone after restart
    REQUIRE(sw.supervisor->attach({1, "web", "vm1", "", ""}).ok());
    REQUIRE(sw.supervisor->attach({7, "web", "vm2", "", ""}).ok());
  }
  TestSwitch sw(4, state.path());
  auto cfg = sw.dataplane.last();
  REQUIRE(cfg.veths.size() == 1);
  CHECK(cfg.veths[0].vf == 1);
  CHECK_FALSE(cfg.veths[0].forwarding);
  CHECK(cfg.veths[0].reason == "no port-profile inherited");
  CHECK(sw.supervisor->registry().find(2)->vf == -1);
}

TEST_CASE("a corrupt registry file stops restore with an error naming it") {
  const char* bad_files[] = {
      "{not json",
      "[]",
      "{\"version\":2,\"veths\":[]}",
      "{\"version\":1}",
      "{\"version\":1,\"veths\":[{\"number\":0,\"key\":\"k\",\"vm\":\"\",\"vm_uuid\":\"\",\"mac\":"
      "\"\",\"vf\":null,\"profile\":\"\"}]}",
      "{\"version\":1,\"veths\":[{\"number\":1,\"key\":\"k\",\"vm\":\"\",\"vm_uuid\":\"\",\"mac\":"
      "\"\",\"vf\":\"1\",\"profile\":\"\"}]}",
      "{\"version\":1,\"veths\":[{\"number\":1,\"key\":\"k\",\"vm\":\"\",\"vm_uuid\":\"\",\"mac\":"
      "\"\",\"vf\":1,\"profile\":\"\"},"
      "{\"number\":2,\"key\":\"j\",\"vm\":\"\",\"vm_uuid\":\"\",\"mac\":\"\",\"vf\":1,\"profile\":"
      "\"\"}]}",
      "{\"version\":1,\"veths\":[{\"number\":1,\"key\":\"k\",\"vm\":\"\",\"vm_uuid\":\"\",\"mac\":"
      "\"\",\"vf\":1,\"profile\":\"\"},"
      "{\"number\":2,\"key\":\"k\",\"vm\":\"\",\"vm_uuid\":\"\",\"mac\":\"\",\"vf\":2,\"profile\":"
      "\"\"}]}",
      "{\"version\":1,\"veths\":[{\"number\":1,\"vm\":\"\",\"vm_uuid\":\"\",\"mac\":\"\",\"vf\":1,"
      "\"profile\":\"\"}]}",
  };
  for (const char* text : bad_files) {
    INFO(text);
    TempDir state;
    REQUIRE(vfs::write_file_atomically(state / "veths.json", text).ok());
    vfs::vsm::testing::FakeDataplane dp;
    Supervisor sup(dp, {state.path(), {}});
    auto r = sup.restore();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find(state / "veths.json" + ": corrupt vEthernet registry: ") == 0);
    CHECK(dp.applied() == 0);
    CHECK(vfs::read_file(state / "veths.json").value() == text);
  }
}

TEST_CASE("the registry file is written atomically and holds the bindings") {
  TestSwitch sw;
  sw.basic_config();
  REQUIRE(sw.supervisor->attach({2, "web", "vm1", "u1", "52:54:00:00:00:01"}).ok());
  auto text = vfs::read_file(sw.supervisor->registry_path());
  REQUIRE(text.ok());
  auto j = nlohmann::json::parse(*text);
  CHECK(j["version"] == 1);
  REQUIRE(j["veths"].size() == 1);
  CHECK(j["veths"][0]["number"] == 1);
  CHECK(j["veths"][0]["vf"] == 2);
  CHECK(j["veths"][0]["profile"] == "web");
  CHECK(j["veths"][0]["vm_uuid"] == "u1");
  REQUIRE(sw.supervisor->detach(2).ok());
  j = nlohmann::json::parse(vfs::read_file(sw.supervisor->registry_path()).value());
  CHECK(j["veths"][0]["vf"].is_null());
  for (const auto& e : std::filesystem::directory_iterator(sw.dir)) {
    CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
  }
}
