// tools/libvirt-hook/daemon_switch_api.h owns the hook's SwitchApi over vfswitchd's local
// API (tools/common/api_client.h): attach / detach ops, and the bindings read with
// `show interface virtual | json`. Every call connects afresh with what is left of one
// overall deadline, so the hook as a whole answers libvirt in bounded time.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "tools/libvirt-hook/hook_run.h"

namespace vfs::tools::libvirt {

class DaemonSwitchApi final : public SwitchApi {
 public:
  DaemonSwitchApi(std::string socket_path, std::chrono::steady_clock::time_point deadline)
      : socket_(std::move(socket_path)), deadline_(deadline) {}

  Result<uint32_t> attach(const AttachSpec& spec) override;
  Result<void> detach(int vf) override;
  Result<std::vector<Binding>> bindings() override;

 private:
  // The daemon's answer object with "ok": true, or an Error carrying its "error" text.
  Result<nlohmann::json> call(const nlohmann::json& request, const char* what);

  std::string socket_;
  std::chrono::steady_clock::time_point deadline_;
};

// The interfaces of a `show interface virtual | json` output.
Result<std::vector<Binding>> parse_bindings(const std::string& json_text);

}  // namespace vfs::tools::libvirt
