// running-config is text that replays through the same parser to the same model, byte
// for byte: random valid models -> render -> replay -> same model, same text.
#include <doctest/doctest.h>

#include <algorithm>
#include <iterator>
#include <random>

#include "vsm/config_replay.h"
#include "vsm/effective_port.h"
#include "vsm/running_config.h"

using namespace vfs::vsm;

namespace {

struct Gen {
  explicit Gen(uint32_t seed) : rng(seed) {}
  std::mt19937 rng;

  size_t upto(size_t n) { return std::uniform_int_distribution<size_t>(0, n)(rng); }
  bool coin() { return upto(1) == 1; }

  // Printable, no blanks, no '|' (a word token).
  std::string word(size_t max_len) {
    size_t len = 1 + upto(max_len - 1);
    std::string s;
    while (s.size() < len) {
      char c = static_cast<char>(0x21 + upto(0x7e - 0x21));
      if (c != '|') s += c;
    }
    return s;
  }

  // Printable with inner blanks (even runs of them), trimmed, at most max_len.
  std::string text(size_t max_len) {
    std::string s;
    size_t len = 1 + upto(max_len - 1);
    while (s.size() < len) s += static_cast<char>(0x20 + upto(0x7e - 0x20));
    while (!s.empty() && s.back() == ' ') s.pop_back();
    while (!s.empty() && s.front() == ' ') s.erase(0, 1);
    return s.empty() ? "x" : s;
  }

  SwitchModel model() {
    SwitchModel m;
    for (size_t i = upto(12); i > 0; --i) {
      auto id = static_cast<uint16_t>(2 + upto(4092));
      m.vlans[id] = Vlan{id, coin() ? default_vlan_name(id) : word(32)};
    }
    for (AclFamily f : {AclFamily::ipv4, AclFamily::ipv6, AclFamily::mac}) {
      for (size_t i = upto(3); i > 0; --i) {
        AccessList a;
        a.name = word(coin() ? 8 : 64);
        a.family = f;
        a.statistics_per_entry = coin();
        for (size_t n = upto(5); n > 0; --n)
          a.entries[static_cast<uint32_t>(1 + upto(coin() ? 100 : kMaxAclSeq - 1))] = entry(f);
        m.acls(f)[a.name] = a;
      }
    }
    for (size_t i = upto(3); i > 0; --i) {
      PolicyMap pm;
      pm.name = word(coin() ? 8 : 40);
      pm.class_default = coin();
      if (pm.class_default && coin()) pm.police = police();
      m.policy_maps[pm.name] = pm;
    }
    std::vector<std::string> names;
    for (size_t i = upto(6); i > 0; --i) {
      PortProfile p;
      p.name = word(coin() ? 8 : 80);
      if (m.profiles.contains(p.name)) continue;
      if (coin()) p.description = text(254);
      if (coin()) {
        p.access_vlan_set = true;
        p.access_vlan = static_cast<uint16_t>(1 + upto(4093));
      }
      if (coin()) {
        p.mode_set = true;
        p.mode = coin() ? SwitchportMode::trunk : SwitchportMode::access;
      }
      if (coin()) {
        p.shutdown_set = true;
        p.shutdown = coin();
      }
      p.state_enabled = coin();
      if (coin()) p.trunk_allowed = vlan_set();
      if (coin()) p.native_vlan = static_cast<uint16_t>(1 + upto(4093));
      // Parents come from the profiles made before: no loop.
      if (!names.empty() && coin()) p.inherit = names[upto(names.size() - 1)];
      if (coin()) p.max_ports = static_cast<uint32_t>(1 + upto(1023));
      policy(m, p);
      m.profiles[p.name] = p;
      names.push_back(p.name);
    }
    for (size_t i = upto(8); i > 0; --i) {
      VethInterface itf;
      itf.number = static_cast<uint32_t>(1 + upto(coin() ? 64 : kMaxVeth - 1));
      if (!names.empty() && coin()) itf.profile = names[upto(names.size() - 1)];
      if (coin()) itf.description = text(254);
      itf.shutdown = coin();
      if (coin()) itf.access_vlan = static_cast<uint16_t>(1 + upto(4093));
      if (coin()) policy(m, itf);
      m.interfaces[itf.number] = itf;
    }
    std::vector<uint32_t> veths;
    for (const auto& [n, itf] : m.interfaces) veths.push_back(n);
    if (!veths.empty()) {
      for (size_t i = upto(5); i > 0; --i) {
        IpSourceBinding b;
        b.v6 = coin();
        for (size_t k = 0; k < (b.v6 ? 16 : 4); ++k) b.ip[k] = static_cast<uint8_t>(upto(255));
        for (auto& x : b.mac) x = static_cast<uint8_t>(upto(255));
        b.vlan = static_cast<uint16_t>(1 + upto(4093));
        b.veth = veths[upto(veths.size() - 1)];
        bool clash = false;
        for (const auto& o : m.source_bindings)
          clash |= o.ip == b.ip && o.v6 == b.v6 && o.vlan == b.vlan;
        if (clash) continue;
        m.source_bindings.insert(
            std::lower_bound(m.source_bindings.begin(), m.source_bindings.end(), b), b);
      }
      for (size_t i = upto(3); i > 0; --i) {
        MonitorSession ms;
        ms.id = static_cast<uint32_t>(1 + upto(kMaxMonitorSession - 1));
        ms.shut = coin();
        if (coin()) ms.destination = veths[upto(veths.size() - 1)];
        for (size_t k = upto(3); k > 0; --k) {
          uint32_t src = veths[upto(veths.size() - 1)];
          if (ms.destination != src) ms.sources[src] = static_cast<SpanDirection>(upto(2));
        }
        m.monitor_sessions[ms.id] = ms;
      }
    }
    for (size_t i = upto(4); i > 0; --i) {
      UserAccount u;
      u.name = user_name();
      u.role = static_cast<Role>(upto(2));
      m.users[u.name] = u;
    }
    return m;
  }

  template <class Map>
  std::string pick_name(const Map& names) {
    if (names.empty() || !coin()) return std::string();
    auto it = names.begin();
    std::advance(it, static_cast<long>(upto(names.size() - 1)));
    return it->first;
  }

  std::vector<uint16_t> vlan_set() {
    switch (upto(3)) {
      case 0:
        return {};
      case 1:
        return all_vlans();
      default: {
        std::vector<uint16_t> v;
        for (size_t n = 1 + upto(20); n > 0; --n)
          v.push_back(static_cast<uint16_t>(1 + upto(4093)));
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
        return v;
      }
    }
  }

  PoliceAction police() {
    PoliceAction p;
    p.cir_unit = static_cast<RateUnit>(upto(3));
    static const uint64_t max_cir[] = {4294967295u, 4294967295u, 4294967295u, 8000};
    p.cir = 8 + upto(std::min<uint64_t>(max_cir[static_cast<size_t>(p.cir_unit)], 1u << 20) - 8);
    if (coin()) {
      p.bc_unit = static_cast<BurstUnit>(upto(3));
      p.bc = 1 + upto(coin() ? 1000 : 100000);
    }
    if (!resolve_policer("x", p)) {
      p.bc.reset();
      p.bc_unit = BurstUnit::bytes;  // the unit of an absent burst is not configuration
    }
    return p;
  }

  void policy(const SwitchModel& m, PortPolicy& p) {
    p.ip_acl_in = pick_name(m.ip_acls);
    p.ip_acl_out = pick_name(m.ip_acls);
    p.ipv6_acl_in = pick_name(m.ipv6_acls);
    p.ipv6_acl_out = pick_name(m.ipv6_acls);
    p.mac_acl_in = pick_name(m.mac_acls);
    p.mac_acl_out = pick_name(m.mac_acls);
    p.policy_in = pick_name(m.policy_maps);
    p.policy_out = pick_name(m.policy_maps);
    if (coin()) p.port_security = coin();
    if (coin()) p.port_security_maximum = static_cast<uint32_t>(1 + upto(coin() ? 4 : 1024));
    for (size_t n = upto(p.port_security_maximum.value_or(1)); n > 0 && n < 6; --n) {
      MacBytes mac;
      for (auto& x : mac) x = static_cast<uint8_t>(upto(255));
      p.port_security_macs.push_back(mac);
    }
    std::sort(p.port_security_macs.begin(), p.port_security_macs.end());
    p.port_security_macs.erase(
        std::unique(p.port_security_macs.begin(), p.port_security_macs.end()),
        p.port_security_macs.end());
    if (coin()) p.port_security_violation = static_cast<ViolationMode>(upto(2));
    if (coin()) p.ip_verify_source = coin();
    for (auto* level : {&p.storm_broadcast, &p.storm_multicast, &p.storm_unicast}) {
      if (coin()) *level = static_cast<uint16_t>(upto(kMaxStormLevel));
    }
  }

  MacMatch mac_match() {
    MacMatch m;
    m.form = static_cast<MacMatch::Form>(upto(2));
    if (m.form == MacMatch::Form::any) return m;
    for (auto& x : m.addr) x = static_cast<uint8_t>(upto(255));
    if (m.form == MacMatch::Form::masked) {
      for (auto& x : m.wildcard) x = static_cast<uint8_t>(coin() ? 0 : upto(255));
      for (size_t i = 0; i < 6; ++i) m.addr[i] = static_cast<uint8_t>(m.addr[i] & ~m.wildcard[i]);
    }
    return m;
  }

  AclAddress address(AclFamily f) {
    AclAddress a;
    a.form = static_cast<AclAddress::Form>(upto(f == AclFamily::ipv6 ? 2 : 3));
    const size_t len = f == AclFamily::ipv6 ? 16 : 4;
    std::array<uint8_t, 16> raw{};
    for (size_t i = 0; i < len; ++i) raw[i] = static_cast<uint8_t>(upto(255));
    a.addr = raw;
    if (a.form == AclAddress::Form::any) a.addr = {};
    if (a.form == AclAddress::Form::prefix) {
      a.prefix_len = static_cast<uint8_t>(upto(len * 8));
      for (size_t bit = a.prefix_len; bit < 128; ++bit)
        a.addr[bit / 8] = static_cast<uint8_t>(a.addr[bit / 8] & ~(0x80 >> (bit % 8)));
    }
    if (a.form == AclAddress::Form::wildcard) {
      for (size_t i = 0; i < len; ++i) a.wildcard[i] = static_cast<uint8_t>(upto(255));
      for (size_t i = 0; i < 16; ++i) a.addr[i] = static_cast<uint8_t>(a.addr[i] & ~a.wildcard[i]);
    }
    return a;
  }

  AclPorts ports() {
    AclPorts p;
    p.op = static_cast<PortMatch::Op>(upto(5));
    if (p.op == PortMatch::Op::any) return p;
    p.lo = static_cast<uint16_t>(upto(65535));
    if (p.op == PortMatch::Op::range) p.hi = static_cast<uint16_t>(p.lo + upto(65535 - p.lo));
    return p;
  }

  AclEntry entry(AclFamily f) {
    AclEntry e;
    e.permit = coin();
    if (f == AclFamily::mac) {
      e.src_mac = mac_match();
      e.dst_mac = mac_match();
      if (coin()) e.ethertype = static_cast<int>(0x600 + upto(0xffff - 0x600));
      return e;
    }
    static const int protos[] = {-1, 6, 17, 1, 58, 47, 0, 255};
    e.protocol = protos[upto(7)];
    const int icmp = f == AclFamily::ipv6 ? 58 : 1;
    e.src = address(f);
    e.dst = address(f);
    if (e.protocol == 6 || e.protocol == 17) {
      e.src_ports = ports();
      e.dst_ports = ports();
    }
    if (e.protocol == icmp && coin()) {
      e.icmp_type = static_cast<int>(upto(255));
      if (coin()) e.icmp_code = static_cast<int>(upto(255));
    }
    if (e.protocol == 6) e.established = coin();
    return e;
  }

  // A valid Unix login name other than root.
  std::string user_name() {
    static const std::string first = "abcdefghijklmnopqrstuvwxyz_";
    static const std::string rest = "abcdefghijklmnopqrstuvwxyz0123456789_-";
    std::string s(1, first[upto(first.size() - 1)]);
    for (size_t n = upto(31); n > 0; --n) s += rest[upto(rest.size() - 1)];
    return s == "root" ? "roots" : s;
  }
};

}  // namespace

TEST_CASE("running-config round-trips through the parser") {
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    Gen g(seed);
    SwitchModel m = g.model();
    std::string text = render_running_config(m);
    auto back = replay_config(SwitchModel{}, VethRegistry{}, text, "running-config");
    INFO("seed ", seed, "\n", text);
    REQUIRE_MESSAGE(back.ok(), back.error().message);
    CHECK(*back == m);
    if (!(*back == m)) {  // name what differs
      for (const auto& [name, p] : m.profiles)
        if (!(back->profiles.at(name) == p)) MESSAGE("profile ", name, " differs");
      for (const auto& [n, i] : m.interfaces)
        if (!(back->interfaces.at(n) == i)) MESSAGE("interface ", n, " differs");
      CHECK(back->source_bindings == m.source_bindings);
      CHECK(back->monitor_sessions == m.monitor_sessions);
      CHECK(back->policy_maps == m.policy_maps);
      CHECK(back->mac_acls == m.mac_acls);
    }
    CHECK(render_running_config(*back) == text);
  }
}

TEST_CASE("the default model renders VLAN 1 only") {
  CHECK(render_running_config(SwitchModel{}) ==
        "!Command: show running-config\n!vfswitch version " + std::string(kVersion) +
            "\n\nvlan 1\n");
}
