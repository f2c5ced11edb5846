#include "tools/libvirt-hook/domain_xml.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/core.h>
#include <pugixml.hpp>

namespace vfs::tools::libvirt {
namespace {

std::string_view local_name(std::string_view qname) {
  auto colon = qname.find(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

// The namespace URI of an element, from the xmlns declarations in scope (pugixml keeps
// them as plain attributes and knows nothing of namespaces).
std::string namespace_of(const pugi::xml_node& n) {
  std::string_view qname = n.name();
  auto colon = qname.find(':');
  const std::string decl =
      colon == std::string_view::npos ? "xmlns" : "xmlns:" + std::string(qname.substr(0, colon));
  for (pugi::xml_node p = n; p && p.type() == pugi::node_element; p = p.parent())
    if (pugi::xml_attribute a = p.attribute(decl.c_str())) return a.value();
  return "";
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// One <address type='pci'> attribute: 0x-hex or decimal, at most `max`.
Result<uint32_t> pci_field(const pugi::xml_node& addr, const char* name, uint32_t max,
                           bool required, const std::string& where) {
  pugi::xml_attribute a = addr.attribute(name);
  if (!a) {
    if (required) return make_error(EINVAL, "{}: PCI address has no '{}'", where, name);
    return 0u;
  }
  const char* s = a.value();
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(s, &end, 0);
  if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v > max)
    return make_error(EINVAL, "{}: PCI address {}='{}' is not a number up to 0x{:x}", where, name,
                      s, max);
  return static_cast<uint32_t>(v);
}

Result<PciAddress> parse_pci(const pugi::xml_node& addr, const std::string& where) {
  PciAddress p;
  auto d = pci_field(addr, "domain", 0xffff, false, where);
  if (!d) return d.error();
  auto b = pci_field(addr, "bus", 0xff, true, where);
  if (!b) return b.error();
  auto s = pci_field(addr, "slot", 0x1f, true, where);
  if (!s) return s.error();
  auto f = pci_field(addr, "function", 0x7, true, where);
  if (!f) return f.error();
  p.domain = *d;
  p.bus = *b;
  p.slot = *s;
  p.function = *f;
  return p;
}

Result<InterfaceXml> parse_interface(const pugi::xml_node& itf, int position) {
  InterfaceXml x;
  x.position = position;
  x.type = itf.attribute("type").value();
  const std::string where = fmt::format("<interface> {} (type '{}')", position, x.type);
  if (pugi::xml_node mac = itf.child("mac")) {
    auto m = normalize_mac(mac.attribute("address").value());
    if (!m)
      return make_error(EINVAL, "{}: MAC address '{}' is not xx:xx:xx:xx:xx:xx", where,
                        mac.attribute("address").value());
    x.mac = *m;
  }
  // A running domain's interface on a hostdev network may carry two <source> elements:
  // the network's (network=, portgroup=) and the VF's (<address>).
  for (pugi::xml_node src : itf.children("source")) {
    if (pugi::xml_attribute n = src.attribute("network")) x.network = n.value();
    if (pugi::xml_attribute g = src.attribute("portgroup")) x.portgroup = g.value();
    // The VF's host address; an <address> directly under <interface> is the guest's slot.
    for (pugi::xml_node addr : src.children("address")) {
      if (std::strcmp(addr.attribute("type").value(), "pci") != 0) continue;
      if (x.pci) return make_error(EINVAL, "{}: more than one PCI address in <source>", where);
      auto p = parse_pci(addr, where);
      if (!p) return p.error();
      x.pci = *p;
    }
  }
  x.target_dev = itf.child("target").attribute("dev").value();
  // libvirt infers 802.1Qbh for a type-less <virtualport> with only a profileid.
  for (pugi::xml_node vp : itf.children("virtualport")) {
    std::string_view type = vp.attribute("type").value();
    if (type != "802.1Qbh" && !type.empty()) continue;
    if (pugi::xml_attribute id = vp.child("parameters").attribute("profileid")) {
      if (std::strlen(id.value()) == 0)
        return make_error(EINVAL, "{}: empty 802.1Qbh profileid", where);
      x.qbh_profile = id.value();
    }
  }
  return x;
}

// <vfswitch:port mac='..' profile='..'/> into profiles.
Result<void> parse_port(const pugi::xml_node& port, std::map<std::string, std::string>& profiles) {
  auto mac = normalize_mac(port.attribute("mac").value());
  if (!mac)
    return make_error(EINVAL, "vfswitch metadata: <{}> needs mac='xx:xx:xx:xx:xx:xx' (got '{}')",
                      port.name(), port.attribute("mac").value());
  std::string profile = port.attribute("profile").value();
  if (profile.empty())
    return make_error(EINVAL, "vfswitch metadata: <{}> for MAC {} has no profile", port.name(),
                      *mac);
  auto [it, fresh] = profiles.emplace(*mac, profile);
  if (!fresh && it->second != profile)
    return make_error(EINVAL, "vfswitch metadata: MAC {} is given profiles {} and {}", *mac,
                      it->second, profile);
  return ok();
}

Result<void> parse_metadata(const pugi::xml_node& metadata,
                            std::map<std::string, std::string>& profiles) {
  for (pugi::xml_node n : metadata.children()) {
    if (n.type() != pugi::node_element || namespace_of(n) != kVfswitchXmlns) continue;
    std::string_view name = local_name(n.name());
    if (name == "port") {
      if (auto r = parse_port(n, profiles); !r) return r;
    } else if (name == "ports") {
      for (pugi::xml_node p : n.children()) {
        if (p.type() != pugi::node_element) continue;
        if (namespace_of(p) != kVfswitchXmlns || local_name(p.name()) != "port")
          return make_error(EINVAL,
                            "vfswitch metadata: unexpected <{}> in <{}> (only <port> elements)",
                            p.name(), n.name());
        if (auto r = parse_port(p, profiles); !r) return r;
      }
    } else {
      return make_error(
          EINVAL, "vfswitch metadata: unknown element <{}> (expected <ports> or <port>)", n.name());
    }
  }
  return ok();
}

}  // namespace

std::string PciAddress::text() const {
  return fmt::format("{:04x}:{:02x}:{:02x}.{:x}", domain, bus, slot, function);
}

std::string InterfaceXml::describe() const {
  return fmt::format("interface {} ({}{}{})", position, type.empty() ? "no type" : type,
                     mac.empty() ? "" : ", MAC ", mac);
}

std::optional<std::string> normalize_mac(std::string_view mac) {
  if (mac.size() != 17) return std::nullopt;
  std::string out = lower(std::string(mac));
  for (size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    if (i % 3 == 2) {
      if (c != ':') return std::nullopt;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return std::nullopt;
    }
  }
  return out;
}

Result<DomainXml> parse_domain_xml(std::string_view xml) {
  pugi::xml_document doc;
  pugi::xml_parse_result pr =
      doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!pr)
    return make_error(EINVAL, "malformed domain XML at byte {}: {}", pr.offset, pr.description());
  pugi::xml_node dom = doc.document_element();
  if (std::strcmp(dom.name(), "domain") != 0)
    return make_error(EINVAL, "domain XML: the document is <{}>, not <domain>", dom.name());

  DomainXml d;
  d.name = dom.child("name").text().get();
  if (d.name.empty()) return make_error(EINVAL, "domain XML: <domain> has no <name>");
  d.uuid = lower(dom.child("uuid").text().get());
  int position = 0;
  for (pugi::xml_node itf : dom.child("devices").children("interface")) {
    auto x = parse_interface(itf, position++);
    if (!x) return x.error();
    d.interfaces.push_back(std::move(*x));
  }
  if (pugi::xml_node md = dom.child("metadata")) {
    if (auto r = parse_metadata(md, d.metadata_profiles); !r) return r.error();
  }
  return d;
}

}  // namespace vfs::tools::libvirt
