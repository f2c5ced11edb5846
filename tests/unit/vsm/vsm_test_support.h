// tests/unit/vsm/vsm_test_support.h: a temporary state directory and a supervisor on a
// FakeDataplane with one CLI session, so tests read like a switch transcript.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "vsm/cli_session.h"
#include "vsm/fake_dataplane.h"
#include "vsm/supervisor.h"

namespace vfs::vsm::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vfs-vsm-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct TestSwitch {
  explicit TestSwitch(int vfs = 8, std::string state_dir = {})
      : dataplane(vfs), dir(state_dir.empty() ? tmp.path() : std::move(state_dir)) {
    supervisor = std::make_unique<Supervisor>(dataplane, SupervisorOptions{dir, {}});
    auto r = supervisor->restore();
    REQUIRE_MESSAGE(r.ok(), r.error().message);
  }

  CliOutcome run(const std::string& line) { return supervisor->execute(session, line); }

  // Runs lines that must succeed; returns their output.
  std::string must(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) {
      auto r = run(l);
      INFO("command: ", l);
      REQUIRE_MESSAGE(r.ok, r.failure.message);
      out += r.output;
    }
    return out;
  }

  // The failure of a line that must fail.
  CliFailure refused(const std::string& line) {
    auto r = run(line);
    INFO("command: ", line);
    REQUIRE_FALSE(r.ok);
    return r.failure;
  }

  // VLAN 10/20 and enabled profiles web (vlan 10) and db (vlan 20).
  void basic_config() {
    must({"configure terminal", "vlan 10", "name web", "vlan 20", "name db", "exit",
          "port-profile type vethernet web", "switchport mode access", "switchport access vlan 10",
          "no shutdown", "state enabled", "exit", "port-profile type vethernet db",
          "switchport mode access", "switchport access vlan 20", "no shutdown", "state enabled",
          "end"});
  }

  TempDir tmp;
  FakeDataplane dataplane;
  std::string dir;
  std::unique_ptr<Supervisor> supervisor;
  CliSession session;
};

// The repository root, from this file's path (tests/unit/vsm/...).
inline std::filesystem::path repo_root() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
}

}  // namespace vfs::vsm::testing
