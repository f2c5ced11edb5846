// vsm/veth_registry.h owns the vEthernet registry: which VM vNIC owns which vEthernet
// number (sticky: the same vNIC gets the same number again) and which VF each is bound
// to now, with its persistent form (<state-dir>/veths.json). The inherited profile of a
// vEthernet lives in the model (interface config); the file records it so a restarted
// daemon binds the same VFs to the same vEthernets and profiles.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "base/result.h"
#include "vsm/model.h"

namespace vfs::vsm {

struct VethRecord {
  uint32_t number = 0;
  std::string key;  // identity of the vNIC, see vnic_key()
  std::string vm;
  std::string vm_uuid;
  std::string mac;
  int vf = -1;  // VF bound now, -1 = detached
  bool operator==(const VethRecord&) const = default;
};

// The vNIC's identity: the VM (uuid if given, else name) plus the NIC (MAC if given, else
// the VF index it first attached on).
std::string vnic_key(const std::string& vm, const std::string& vm_uuid, const std::string& mac,
                     int vf);

class VethRegistry {
 public:
  const VethRecord* find(uint32_t number) const;
  const VethRecord* find_by_key(const std::string& key) const;
  const VethRecord* find_by_vf(int vf) const;
  VethRecord* find(uint32_t number);

  // Lowest number used neither by a record nor by an interface in the model.
  std::optional<uint32_t> free_number(const SwitchModel& model) const;
  void put(VethRecord r);

  const std::map<uint32_t, VethRecord>& records() const { return records_; }
  bool operator==(const VethRegistry&) const = default;

  // The file's content; each record carries the profile its interface inherits in model.
  std::string to_json(const SwitchModel& model) const;

  struct Loaded;
  // Parses the file's content; errors name path and what is wrong.
  static Result<Loaded> from_json(const std::string& text, const std::string& path);

 private:
  std::map<uint32_t, VethRecord> records_;
};

struct VethRegistry::Loaded {
  VethRegistry registry;
  std::map<uint32_t, std::string> profiles;  // number -> inherited profile at save time
};

}  // namespace vfs::vsm
