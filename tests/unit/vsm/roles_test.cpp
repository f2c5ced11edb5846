// Roles (username -> network-admin / network-operator / server-admin, root built in) and
// the accounting log, through the Supervisor and through ApiSession requests.
#include <doctest/doctest.h>

#include "base/atomic_file.h"
#include "vsm/api_session.h"
#include "vsm/running_config.h"
#include "vsm/vsm_test_support.h"

using namespace vfs::vsm;
using nlohmann::json;
using vfs::vsm::testing::TestSwitch;

namespace {

const Caller kAlice{1001, "alice"};  // network-operator
const Caller kNova{1002, "nova"};    // server-admin
const Caller kNet{1003, "neteng"};   // network-admin
const Caller kEve{1004, "eve"};      // no role

struct RolesSwitch : TestSwitch {
  RolesSwitch() {
    basic_config();
    must({"configure terminal", "username alice role network-operator",
          "username nova role server-admin", "username neteng role network-admin", "end"});
  }
  CliOutcome as(const Caller& who, const std::string& line) {
    CliSession s;
    return supervisor->execute(s, line, who);
  }
};

}  // namespace

TEST_CASE("root is network-admin; users get the role of their username; others are refused") {
  RolesSwitch s;
  CHECK(s.supervisor->authorize(Caller{0, "root"}).value() == Role::network_admin);
  CHECK(s.supervisor->authorize(kAlice).value() == Role::network_operator);
  CHECK(s.supervisor->authorize(kNova).value() == Role::server_admin);
  CHECK(s.supervisor->authorize(kNet).value() == Role::network_admin);
  auto eve = s.supervisor->authorize(kEve);
  REQUIRE_FALSE(eve.ok());
  CHECK(eve.error().message ==
        "user eve (uid 1004) has no role (configure 'username eve role ...'); access refused");
  CHECK_FALSE(s.supervisor->authorize(Caller{1005, ""}).ok());

  auto r = s.as(kEve, "show version");
  CHECK_FALSE(r.ok);
  CHECK(r.failure.message.find("access refused") != std::string::npos);
}

TEST_CASE("network-operator runs show commands only; a refused command changes nothing") {
  RolesSwitch s;
  CHECK(s.as(kAlice, "show vlan brief").ok);
  CHECK(s.as(kAlice, "show running-config | include username").ok);
  const SwitchModel before = s.supervisor->model();
  for (const char* line : {"configure terminal", "copy running-config startup-config"}) {
    auto r = s.as(kAlice, line);
    INFO(line);
    CHECK_FALSE(r.ok);
    CHECK(r.failure.message ==
          "Permission denied: user alice has role network-operator, which may only run show "
          "commands");
  }
  // Even in a config-mode session (entered by someone else's session state), nothing runs.
  CliSession cfg;
  cfg.enter(Mode::config);
  CHECK_FALSE(s.supervisor->execute(cfg, "vlan 99", kAlice).ok);
  CHECK(s.supervisor->model() == before);
  CHECK_FALSE(std::filesystem::exists(s.supervisor->startup_config_path()));
  CHECK_FALSE(s.supervisor->attach({1, "web", "vm1", "", ""}, kAlice).ok());
  CHECK(s.supervisor->registry().find_by_vf(1) == nullptr);
}

TEST_CASE("server-admin attaches and detaches and shows, but does not configure") {
  RolesSwitch s;
  auto n = s.supervisor->attach({1, "web", "vm1", "", ""}, kNova);
  REQUIRE_MESSAGE(n.ok(), n.error().message);
  CHECK(s.as(kNova, "show interface virtual").ok);
  CHECK_FALSE(s.as(kNova, "configure terminal").ok);
  CHECK(s.supervisor->detach(1, kNova).ok());
  CHECK_FALSE(s.supervisor->attach({1, "web", "vm1", "", ""}, kEve).ok());
}

TEST_CASE("network-admin users configure; no username takes effect at once") {
  RolesSwitch s;
  CliSession sess;
  REQUIRE(s.supervisor->execute(sess, "configure terminal", kNet).ok);
  REQUIRE(s.supervisor->execute(sess, "vlan 77", kNet).ok);
  CHECK(s.supervisor->model().vlans.contains(77));
  s.must({"configure terminal", "no username neteng", "end"});
  CHECK_FALSE(s.supervisor->execute(sess, "vlan 78", kNet).ok);
  CHECK_FALSE(s.supervisor->model().vlans.contains(78));
}

TEST_CASE("username: syntax, validation, running-config and show user-account") {
  TestSwitch s;
  s.must({"configure terminal"});
  CHECK(s.refused("username root role network-operator").message ==
        "root is always network-admin and cannot be given a role");
  CHECK(s.refused("username Alice role network-admin").message.find("not a Unix user name") !=
        std::string::npos);
  CHECK(s.refused("username alice role superuser").column == 20);
  CHECK(s.refused("no username alice").message == "user alice does not exist");
  s.must({"username bob role server-admin", "username alice role network-operator",
          "username alice role network-admin"});
  CHECK(s.supervisor->model().users.size() == 2);
  CHECK(s.supervisor->model().users.at("alice").role == Role::network_admin);
  const std::string run = s.supervisor->running_config();
  CHECK(run.find("\nusername alice role network-admin\nusername bob role server-admin\n") !=
        std::string::npos);
  s.must({"end"});
  CHECK(s.must({"show user-account"}) ==
        "user:root\n        roles:network-admin (built in)\n\n"
        "user:alice\n        roles:network-admin\n\n"
        "user:bob\n        roles:server-admin\n\n");
  auto j = json::parse(s.must({"show user-account | json"}));
  REQUIRE(j.size() == 3);
  CHECK(j[2] == json{{"username", "bob"}, {"role", "server-admin"}, {"builtin", false}});
}

TEST_CASE("the accounting log records every change with time, user, command and result") {
  RolesSwitch s;
  s.as(kNet, "configure terminal");
  s.as(kAlice, "configure terminal");
  s.as(kAlice, "show vlan brief");
  CHECK(s.supervisor->attach({2, "web", "vm2", "", ""}, kNova).ok());
  CHECK_FALSE(s.supervisor->detach(5, kNova).ok());
  CliSession sess;
  sess.enter(Mode::config);
  s.supervisor->execute(sess, "vlan 5000", kNet);

  auto recs = s.supervisor->accounting_records();
  // basic_config and the usernames were run by root through the two-argument execute.
  REQUIRE(recs.size() > 5);
  CHECK(recs.front().user == "root");
  CHECK(recs.front().command == "configure terminal");
  std::vector<AccountingRecord> tail(recs.end() - 5, recs.end());
  CHECK(tail[0].user == "neteng");
  CHECK(tail[0].command == "configure terminal");
  CHECK(tail[0].result == "SUCCESS");
  CHECK(tail[1].user == "alice");
  CHECK(tail[1].result.rfind("FAILURE: Permission denied", 0) == 0);
  CHECK(tail[2].command == "attach vf 2 port-profile web vm vm2");
  CHECK(tail[2].result == "SUCCESS");
  CHECK(tail[3].command == "detach vf 5");
  CHECK(tail[3].result == "FAILURE: VF 5 is not attached to any vEthernet");
  CHECK(tail[4].command == "vlan 5000");
  CHECK(tail[4].result == "FAILURE: Invalid range at '^' marker.");
  for (const auto& r : recs) CHECK(r.command != "show vlan brief");
  for (const auto& r : tail) CHECK(r.time > 1700000000);

  const std::string shown = s.must({"show accounting log"});
  CHECK(shown.find(":user=alice:cmd=configure terminal (FAILURE: Permission denied") !=
        std::string::npos);
  auto file = vfs::read_file(s.dir + "/accounting.log");
  REQUIRE(file.ok());
  CHECK(file->find(":user=nova:cmd=attach vf 2 port-profile web vm vm2 (SUCCESS)\n") !=
        std::string::npos);
  CHECK(format_accounting_record({0, "u", "vlan 10", "SUCCESS"}) ==
        "Thu Jan  1 00:00:00 1970:user=u:cmd=vlan 10 (SUCCESS)");
}

TEST_CASE("API requests carry the peer's role") {
  RolesSwitch s;
  ApiSession alice(*s.supervisor, kAlice);
  ApiSession eve(*s.supervisor, kEve);
  ApiSession nova(*s.supervisor, kNova);
  auto r = json::parse(alice.handle(R"({"op":"cli","commands":["show version","conf t"]})"));
  CHECK(r["ok"] == false);
  CHECK(r["failed_command"] == "conf t");
  CHECK(r["error"] ==
        "% Permission denied: user alice has role network-operator, which may only run show "
        "commands");
  CHECK(json::parse(alice.handle(R"({"op":"counters"})"))["ok"] == true);
  CHECK(json::parse(eve.handle(R"({"op":"counters"})"))["ok"] == false);
  CHECK(json::parse(eve.handle(R"({"op":"dump-rules"})"))["ok"] == false);
  CHECK(json::parse(alice.handle(R"({"op":"attach","vf":1,"profile":"web","vm":"a"})"))["ok"] ==
        false);
  CHECK(json::parse(nova.handle(R"({"op":"attach","vf":1,"profile":"web","vm":"a"})"))["ok"] ==
        true);
  CHECK(json::parse(nova.handle(R"({"op":"detach","vf":1})"))["ok"] == true);
  // uid 0 is root whatever name it is given.
  ApiSession root(*s.supervisor, 0);
  CHECK(root.caller().user == "root");
  CHECK(json::parse(root.handle(R"({"op":"cli","commands":["conf t","vlan 9"]})"))["ok"] == true);
}
