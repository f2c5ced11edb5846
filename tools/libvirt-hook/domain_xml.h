// tools/libvirt-hook/domain_xml.h owns reading the libvirt domain XML the qemu hook gets
// on stdin: the VM's identity (<name>, <uuid>), each <interface> with what may tie it to
// vfswitch (device: hostdev PCI address, <target dev>; profile: 802.1Qbh profileid,
// <source network portgroup>), and vfswitch's own metadata. It only reads; deciding which
// interfaces are vfswitch's is vfswitch_ports.h.
//
// vfswitch's metadata namespace (kVfswitchXmlns) — libvirt keeps one element per
// namespace under <metadata>, so several vNICs go in one <ports> element:
//   <metadata>
//     <vfswitch:ports xmlns:vfswitch='https://vfswitch.dev/xmlns/1'>
//       <vfswitch:port mac='52:54:00:00:00:01' profile='web'/>
//       <vfswitch:port mac='52:54:00:00:00:02' profile='db'/>
//     </vfswitch:ports>
//   </metadata>
// A single <vfswitch:port mac='..' profile='..'/> directly under <metadata> works too.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vfs::tools::libvirt {

inline constexpr const char* kVfswitchXmlns = "https://vfswitch.dev/xmlns/1";

struct PciAddress {
  uint32_t domain = 0, bus = 0, slot = 0, function = 0;
  std::string text() const;  // "0000:03:10.1", as sysfs names PCI devices
  bool operator==(const PciAddress&) const = default;
};

struct InterfaceXml {
  int position = 0;               // among the domain's <interface> elements, from 0
  std::string type;               // "hostdev", "ethernet", "network", "bridge", ...
  std::string mac;                // lower-case xx:xx:xx:xx:xx:xx; "" when the XML has none
  std::optional<PciAddress> pci;  // <source><address type='pci' .../></source>
  std::string target_dev;         // <target dev='...'/>
  std::string network;            // <source network='...'/>
  std::string portgroup;          // <source ... portgroup='...'/>
  std::string qbh_profile;        // <virtualport type='802.1Qbh'><parameters profileid='...'/>

  std::string describe() const;  // "interface 2 (hostdev, MAC 52:54:00:..)" for messages
};

struct DomainXml {
  std::string name;
  std::string uuid;  // lower-case; "" when absent
  std::vector<InterfaceXml> interfaces;
  std::map<std::string, std::string> metadata_profiles;  // vNIC MAC -> profile
};

// Parses the document; any error (not XML, not a <domain>, no <name>, a MAC or PCI
// address or vfswitch metadata entry that does not parse) names what and where.
Result<DomainXml> parse_domain_xml(std::string_view xml);

// "52:54:00:AB:cd:01" -> "52:54:00:ab:cd:01"; nullopt if not six hex pairs with ':'.
std::optional<std::string> normalize_mac(std::string_view mac);

}  // namespace vfs::tools::libvirt
