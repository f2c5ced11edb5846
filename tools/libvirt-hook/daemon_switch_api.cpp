#include "tools/libvirt-hook/daemon_switch_api.h"

#include <fmt/core.h>

#include "tools/common/api_client.h"

namespace vfs::tools::libvirt {

using nlohmann::json;

Result<json> DaemonSwitchApi::call(const json& request, const char* what) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline_ - std::chrono::steady_clock::now());
  if (left.count() <= 0)
    return make_error(ETIMEDOUT, "out of time before {} (VFSWITCH_HOOK_TIMEOUT)", what);
  auto client = ApiClient::connect(socket_, left);
  if (!client) return client.error();
  auto resp = client->call(request);
  if (!resp) return resp.error();
  if (!(*resp)["ok"].get<bool>()) {
    const json& e = (*resp)["error"];
    return make_error(
        EPERM, "{}",
        e.is_string() ? e.get<std::string>() : std::string("the daemon refused, giving no reason"));
  }
  return resp;
}

Result<uint32_t> DaemonSwitchApi::attach(const AttachSpec& s) {
  auto r = call({{"op", "attach"},
                 {"vf", s.vf},
                 {"profile", s.profile},
                 {"vm", s.vm},
                 {"vm_uuid", s.vm_uuid},
                 {"mac", s.mac}},
                "attach");
  if (!r) return r.error();
  const json& v = (*r)["veth"];
  if (!v.is_number_unsigned() || v.get<uint64_t>() > UINT32_MAX)
    return make_error(EPROTO, "{} answered attach without a vEthernet number", socket_);
  return static_cast<uint32_t>(v.get<uint64_t>());
}

Result<void> DaemonSwitchApi::detach(int vf) {
  auto r = call({{"op", "detach"}, {"vf", vf}}, "detach");
  if (!r) return r.error();
  return ok();
}

Result<std::vector<Binding>> DaemonSwitchApi::bindings() {
  auto r = call({{"op", "cli"}, {"commands", {"show interface virtual | json"}}},
                "reading the bindings");
  if (!r) return r.error();
  const json& out = (*r)["output"];
  if (!out.is_string())
    return make_error(EPROTO, "{} answered the bindings without output", socket_);
  return parse_bindings(out.get<std::string>());
}

Result<std::vector<Binding>> parse_bindings(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    return make_error(EPROTO, "bindings are not JSON: {}", e.what());
  }
  if (!j.is_object() || !j.contains("interfaces") || !j["interfaces"].is_array())
    return make_error(EPROTO, "bindings have no 'interfaces' list");
  std::vector<Binding> out;
  for (const json& i : j["interfaces"]) {
    if (!i.is_object() || !i.contains("vf") || !i["vf"].is_number_integer() ||
        !i.contains("vethernet") || !i["vethernet"].is_number_unsigned())
      return make_error(EPROTO, "a binding lacks an integer 'vf' or 'vethernet': {}", i.dump());
    Binding b;
    b.vf = i["vf"].get<int>();
    b.veth = static_cast<uint32_t>(i["vethernet"].get<uint64_t>());
    auto str = [&](const char* k) {
      return i.contains(k) && i[k].is_string() ? i[k].get<std::string>() : std::string();
    };
    b.vm = str("vm");
    b.vm_uuid = str("vm_uuid");
    b.mac = str("mac");
    b.profile = str("port_profile");
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace vfs::tools::libvirt
