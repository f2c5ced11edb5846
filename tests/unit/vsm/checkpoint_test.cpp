// Checkpoints: checkpoint NAME, no checkpoint NAME, rollback running-config checkpoint NAME
// (all or nothing, applied once), show checkpoint summary, persistence across a restart.
#include <doctest/doctest.h>

#include <filesystem>

#include "base/atomic_file.h"
#include "vsm/checkpoint_store.h"
#include "vsm/vsm_test_support.h"

using namespace vfs::vsm;
using vfs::vsm::testing::TestSwitch;

TEST_CASE("checkpoint, show checkpoint summary, no checkpoint") {
  TestSwitch sw;
  sw.basic_config();
  const std::string text = sw.supervisor->running_config();
  CHECK(sw.must({"checkpoint before-change"}) == "Checkpoint before-change created.\n");
  auto out = sw.must({"show checkpoint summary"});
  CHECK(out.find("before-change") != std::string::npos);
  CHECK(out.find(" root ") != std::string::npos);
  CHECK(out.find(std::to_string(text.size())) != std::string::npos);
  auto j = nlohmann::json::parse(sw.must({"show checkpoint summary | json"}));
  REQUIRE(j["checkpoints"].size() == 1);
  CHECK(j["checkpoints"][0]["name"] == "before-change");
  CHECK(j["checkpoints"][0]["user"] == "root");
  CHECK(j["checkpoints"][0]["size"] == text.size());
  CHECK(sw.must({"show checkpoint before-change"}) == text);
  CHECK(std::filesystem::exists(sw.dir + "/checkpoints/before-change.json"));

  CHECK(sw.refused("checkpoint before-change").message.find("already exists") != std::string::npos);
  CHECK(sw.refused("checkpoint a/../../evil").message.find("may hold only") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(sw.dir + "/evil.json"));

  sw.must({"no checkpoint before-change"});
  CHECK_FALSE(std::filesystem::exists(sw.dir + "/checkpoints/before-change.json"));
  CHECK(sw.refused("no checkpoint before-change").message ==
        "checkpoint before-change does not exist");
  CHECK(sw.refused("rollback running-config checkpoint before-change").message ==
        "checkpoint before-change does not exist");
}

TEST_CASE("rollback restores the checkpoint exactly and applies once") {
  TestSwitch sw;
  sw.basic_config();
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", "52:54:00:00:00:01"}).ok());
  const std::string saved = sw.supervisor->running_config();
  sw.must({"checkpoint good"});

  sw.must({"conf t", "vlan 30", "exit", "port-profile web", "switchport access vlan 30",
           "description changed", "exit", "no port-profile db", "username alice role network-admin",
           "end"});
  REQUIRE(sw.supervisor->running_config() != saved);
  CHECK(sw.dataplane.find(sw.dataplane.last(), 1)->access_vlan == 30);

  const int applies = sw.dataplane.applied();
  CHECK(sw.must({"rollback running-config checkpoint good"}) ==
        "Rollback completed successfully.\n");
  CHECK(sw.supervisor->running_config() == saved);
  CHECK(sw.dataplane.applied() == applies + 1);
  CHECK(sw.dataplane.find(sw.dataplane.last(), 1)->access_vlan == 10);
  CHECK(sw.dataplane.find(sw.dataplane.last(), 1)->forwarding);

  // Abbreviated, and a rollback to the current configuration applies nothing.
  sw.must({"roll run check good"});
  CHECK(sw.dataplane.applied() == applies + 1);

  // Accounted like any change.
  auto log = sw.supervisor->accounting_records();
  REQUIRE_FALSE(log.empty());
  CHECK(log.back().command == "roll run check good");
  CHECK(log.back().result == "SUCCESS");
  bool found = false;
  for (const auto& r : log) found = found || r.command == "rollback running-config checkpoint good";
  CHECK(found);
}

TEST_CASE("a rollback that fails changes nothing and names the failing line") {
  TestSwitch sw;
  sw.basic_config();
  // A checkpoint whose text no longer replays (written by hand, as an older version might).
  nlohmann::json bad{{"name", "broken"},
                     {"time", 1764085000},
                     {"user", "root"},
                     {"running_config", "vlan 10\nvlan 5000\n"},
                     {"model", nullptr}};
  std::filesystem::create_directories(sw.dir + "/checkpoints");
  REQUIRE(vfs::write_file_atomically(sw.dir + "/checkpoints/broken.json", bad.dump()).ok());
  TestSwitch again(8, sw.dir);
  const std::string before = again.supervisor->running_config();
  const int applies = again.dataplane.applied();
  auto f = again.refused("rollback running-config checkpoint broken");
  CHECK(f.message.find("Rollback failed, nothing changed: checkpoint broken:2: Invalid range") ==
        0);
  CHECK(f.message.find("vlan 5000") != std::string::npos);
  CHECK(again.supervisor->running_config() == before);
  CHECK(again.dataplane.applied() == applies);
  auto log = again.supervisor->accounting_records();
  REQUIRE_FALSE(log.empty());
  CHECK(log.back().result.find("FAILURE: Rollback failed") == 0);
}

TEST_CASE("a rollback the datapath refuses changes nothing") {
  TestSwitch sw;
  sw.basic_config();
  REQUIRE(sw.supervisor->attach({0, "web", "vm1", "", ""}).ok());
  sw.must({"checkpoint a", "conf t", "port-profile web", "switchport access vlan 20", "end"});
  const std::string before = sw.supervisor->running_config();
  sw.dataplane.refuse_applies(vfs::make_error(ENOSPC, "table full"));
  CHECK(sw.refused("rollback running-config checkpoint a").message.find("table full") !=
        std::string::npos);
  sw.dataplane.refuse_applies(std::nullopt);
  CHECK(sw.supervisor->running_config() == before);
}

TEST_CASE("checkpoints survive a restart; a corrupt one stops restore naming it") {
  TestSwitch sw;
  sw.basic_config();
  sw.must({"checkpoint one", "conf t", "vlan 99", "end", "checkpoint two"});
  {
    TestSwitch again(8, sw.dir);
    auto j = nlohmann::json::parse(again.must({"show checkpoint summary | json"}));
    REQUIRE(j["checkpoints"].size() == 2);
    CHECK(j["checkpoints"][0]["name"] == "one");
    CHECK(j["checkpoints"][1]["name"] == "two");
    again.must({"rollback running-config checkpoint one"});
    CHECK(again.supervisor->running_config().find("vlan 1,10,20\n") != std::string::npos);
  }
  REQUIRE(vfs::write_file_atomically(sw.dir + "/checkpoints/two.json", "{not json").ok());
  vfs::vsm::testing::FakeDataplane dp;
  Supervisor sup(dp, SupervisorOptions{sw.dir, {}});
  auto r = sup.restore();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("checkpoints/two.json") != std::string::npos);
}

TEST_CASE("rollback keeps VMs attached since the checkpoint, or refuses with the reason") {
  TestSwitch sw;
  sw.basic_config();
  sw.must({"checkpoint base"});
  REQUIRE(sw.supervisor->attach({1, "db", "vm2", "", ""}).ok());
  sw.must({"rollback running-config checkpoint base"});
  CHECK(sw.supervisor->model().interfaces.at(1).profile == "db");
  CHECK(sw.dataplane.find(sw.dataplane.last(), 1)->forwarding);

  sw.must({"conf t", "port-profile type vethernet app", "state enabled", "end"});
  REQUIRE(sw.supervisor->attach({2, "app", "vm3", "", ""}).ok());
  auto f = sw.refused("rollback running-config checkpoint base");
  CHECK(f.message.find("inherits port-profile app, which checkpoint base does not have") !=
        std::string::npos);
  CHECK(sw.supervisor->model().profiles.contains("app"));
}

TEST_CASE("checkpoint names") {
  CHECK(CheckpointStore::check_name("a-b_c.1").ok());
  CHECK_FALSE(CheckpointStore::check_name("").ok());
  CHECK_FALSE(CheckpointStore::check_name(".hidden").ok());
  CHECK_FALSE(CheckpointStore::check_name("a/b").ok());
  CHECK_FALSE(CheckpointStore::check_name(std::string(kMaxCheckpointNameLen + 1, 'a')).ok());
}

TEST_CASE("operators may show checkpoints but not take or roll back") {
  TestSwitch sw;
  sw.basic_config();
  sw.must({"checkpoint a", "conf t", "username bob role network-operator", "end"});
  Caller bob{4242, "bob"};
  CHECK(sw.supervisor->execute(sw.session, "show checkpoint summary", bob).ok);
  CHECK_FALSE(sw.supervisor->execute(sw.session, "checkpoint b", bob).ok);
  CHECK_FALSE(sw.supervisor->execute(sw.session, "rollback running-config checkpoint a", bob).ok);
  CHECK_FALSE(sw.supervisor->execute(sw.session, "no checkpoint a", bob).ok);
}
