#include "vsm/veth_registry.h"

#include <set>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace vfs::vsm {

std::string vnic_key(const std::string& vm, const std::string& vm_uuid, const std::string& mac,
                     int vf) {
  std::string k = vm_uuid.empty() ? "vm:" + vm : "uuid:" + vm_uuid;
  k += mac.empty() ? fmt::format("/vf:{}", vf) : "/mac:" + mac;
  return k;
}

const VethRecord* VethRegistry::find(uint32_t number) const {
  auto it = records_.find(number);
  return it == records_.end() ? nullptr : &it->second;
}

VethRecord* VethRegistry::find(uint32_t number) {
  auto it = records_.find(number);
  return it == records_.end() ? nullptr : &it->second;
}

const VethRecord* VethRegistry::find_by_key(const std::string& key) const {
  for (const auto& [n, r] : records_) {
    if (r.key == key) return &r;
  }
  return nullptr;
}

const VethRecord* VethRegistry::find_by_vf(int vf) const {
  if (vf < 0) return nullptr;
  for (const auto& [n, r] : records_) {
    if (r.vf == vf) return &r;
  }
  return nullptr;
}

std::optional<uint32_t> VethRegistry::free_number(const SwitchModel& model) const {
  for (uint32_t n = 1; n <= kMaxVeth; ++n) {
    if (!records_.contains(n) && !model.interfaces.contains(n)) return n;
  }
  return std::nullopt;
}

void VethRegistry::put(VethRecord r) { records_[r.number] = std::move(r); }

std::string VethRegistry::to_json(const SwitchModel& model) const {
  nlohmann::json veths = nlohmann::json::array();
  for (const auto& [n, r] : records_) {
    auto itf = model.interfaces.find(n);
    veths.push_back({{"number", n},
                     {"key", r.key},
                     {"vm", r.vm},
                     {"vm_uuid", r.vm_uuid},
                     {"mac", r.mac},
                     {"vf", r.vf >= 0 ? nlohmann::json(r.vf) : nlohmann::json(nullptr)},
                     {"profile", itf == model.interfaces.end() ? "" : itf->second.profile}});
  }
  nlohmann::json doc{{"version", 1}, {"veths", std::move(veths)}};
  return doc.dump(2) + "\n";
}

Result<VethRegistry::Loaded> VethRegistry::from_json(const std::string& text,
                                                     const std::string& path) {
  auto bad = [&](const std::string& what) {
    return make_error(EINVAL, "{}: corrupt vEthernet registry: {}", path, what);
  };
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return bad(e.what());
  }
  if (!doc.is_object()) return bad("top level is not an object");
  if (!doc.contains("version") || doc["version"] != 1)
    return bad("missing or unsupported 'version' (expected 1)");
  if (!doc.contains("veths") || !doc["veths"].is_array()) return bad("missing 'veths' array");

  Loaded out;
  std::set<std::string> keys;
  std::set<int> vfs;
  size_t i = 0;
  for (const auto& e : doc["veths"]) {
    std::string where = fmt::format("veths[{}]", i++);
    if (!e.is_object()) return bad(where + " is not an object");
    auto str = [&](const char* f, std::string& dst) -> bool {
      if (!e.contains(f) || !e[f].is_string()) return false;
      dst = e[f].get<std::string>();
      return true;
    };
    VethRecord r;
    std::string profile;
    if (!e.contains("number") || !e["number"].is_number_unsigned() ||
        e["number"].get<uint64_t>() < 1 || e["number"].get<uint64_t>() > kMaxVeth)
      return bad(where + ".number is not a vEthernet number (1.." + std::to_string(kMaxVeth) + ")");
    r.number = e["number"].get<uint32_t>();
    if (!str("key", r.key) || r.key.empty())
      return bad(where + ".key is missing or not a non-empty string");
    if (!str("vm", r.vm)) return bad(where + ".vm is missing or not a string");
    if (!str("vm_uuid", r.vm_uuid)) return bad(where + ".vm_uuid is missing or not a string");
    if (!str("mac", r.mac)) return bad(where + ".mac is missing or not a string");
    if (!str("profile", profile)) return bad(where + ".profile is missing or not a string");
    if (!e.contains("vf")) return bad(where + ".vf is missing");
    if (!e["vf"].is_null()) {
      if (!e["vf"].is_number_unsigned() || e["vf"].get<uint64_t>() > 65535)
        return bad(where + ".vf is neither null nor a VF index");
      r.vf = e["vf"].get<int>();
      if (!vfs.insert(r.vf).second) return bad(fmt::format("VF {} is bound twice", r.vf));
    }
    if (out.registry.records_.contains(r.number))
      return bad(fmt::format("vEthernet {} appears twice", r.number));
    if (!keys.insert(r.key).second) return bad(fmt::format("vNIC key '{}' appears twice", r.key));
    if (!profile.empty()) out.profiles[r.number] = profile;
    out.registry.records_[r.number] = std::move(r);
  }
  return out;
}

}  // namespace vfs::vsm
