// running-config is text that replays through the same parser to the same model, byte
// for byte: random valid models -> render -> replay -> same model, same text.
#include <doctest/doctest.h>

#include <iterator>
#include <random>

#include "vsm/config_replay.h"
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
    for (AclFamily f : {AclFamily::ipv4, AclFamily::ipv6}) {
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
    std::vector<std::string> names;
    for (size_t i = upto(6); i > 0; --i) {
      PortProfile p;
      p.name = word(coin() ? 8 : 80);
      if (coin()) p.description = text(254);
      p.access_vlan = static_cast<uint16_t>(coin() ? 1 + upto(4093) : 1);
      p.state_enabled = coin();
      p.shutdown = coin();
      auto pick = [&](AclFamily f) {
        const auto& acls = m.acls(f);
        if (acls.empty() || !coin()) return std::string();
        auto it = acls.begin();
        std::advance(it, static_cast<long>(upto(acls.size() - 1)));
        return it->first;
      };
      p.ip_acl_in = pick(AclFamily::ipv4);
      p.ip_acl_out = pick(AclFamily::ipv4);
      p.ipv6_acl_in = pick(AclFamily::ipv6);
      p.ipv6_acl_out = pick(AclFamily::ipv6);
      m.profiles[p.name] = p;
      names.push_back(p.name);
    }
    for (size_t i = upto(8); i > 0; --i) {
      VethInterface itf;
      itf.number = static_cast<uint32_t>(1 + upto(coin() ? 64 : kMaxVeth - 1));
      if (!names.empty() && coin()) itf.profile = names[upto(names.size() - 1)];
      if (coin()) itf.description = text(254);
      itf.shutdown = coin();
      m.interfaces[itf.number] = itf;
    }
    for (size_t i = upto(4); i > 0; --i) {
      UserAccount u;
      u.name = user_name();
      u.role = static_cast<Role>(upto(2));
      m.users[u.name] = u;
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
    CHECK(render_running_config(*back) == text);
  }
}

TEST_CASE("the default model renders VLAN 1 only") {
  CHECK(render_running_config(SwitchModel{}) ==
        "!Command: show running-config\n!vfswitch version " + std::string(kVersion) +
            "\n\nvlan 1\n");
}
