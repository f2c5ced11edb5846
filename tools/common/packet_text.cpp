#include "tools/common/packet_text.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <vector>

#include <fmt/format.h>

namespace vfs::tools {
namespace {

using offload::kEtherTypeIpv4;
using offload::kEtherTypeIpv6;

constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17, kProtoIcmp6 = 58;

struct Flag {
  char letter;
  const char* name;
  uint8_t bit;
};
constexpr Flag kFlags[] = {{'F', "fin", 0x01}, {'S', "syn", 0x02}, {'R', "rst", 0x04},
                           {'P', "psh", 0x08}, {'A', "ack", 0x10}, {'U', "urg", 0x20},
                           {'E', "ece", 0x40}, {'C', "cwr", 0x80}};

class Words {
 public:
  explicit Words(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
      size_t j = i;
      while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
      if (j > i) words_.push_back(text.substr(i, j - i));
      i = j;
    }
  }
  bool done() const { return at_ == words_.size(); }
  std::string_view next() { return done() ? std::string_view() : words_[at_++]; }
  // An error about the word just read (or the end of the text).
  Error error(std::string_view what) const {
    if (words_.empty()) return make_error(EINVAL, "packet: the text is empty: {}", what);
    if (past_end_) return make_error(EINVAL, "packet: at the end of the text: {}", what);
    std::string w(words_[at_ - 1].substr(0, 48));
    for (char& c : w)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return make_error(EINVAL, "packet: '{}' (word {}): {}", w, at_, what);
  }
  // Reads the next word; an error if the text has ended.
  Result<std::string_view> value(std::string_view what) {
    if (done()) {
      past_end_ = true;
      return error(fmt::format("expected {}", what));
    }
    return next();
  }

 private:
  std::vector<std::string_view> words_;
  size_t at_ = 0;
  bool past_end_ = false;
};

std::optional<uint64_t> number(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// An address: family 4 or 6 by its form.
struct Address {
  uint8_t family = 0;
  std::array<uint8_t, 16> bytes{};
};

std::optional<Address> address(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.empty() || s.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string z(s);
  Address a;
  if (inet_pton(AF_INET, z.c_str(), a.bytes.data()) == 1) {
    a.family = 4;
    return a;
  }
  if (inet_pton(AF_INET6, z.c_str(), a.bytes.data()) == 1) {
    a.family = 6;
    return a;
  }
  return std::nullopt;
}

// ADDR:PORT or [ADDR6]:PORT.
Result<std::pair<Address, uint16_t>> endpoint(Words& w, std::string_view what) {
  auto word = w.value(what);
  if (!word) return word.error();
  std::string_view s = *word;
  size_t colon = std::string_view::npos;
  if (!s.empty() && s.front() == '[') {
    const size_t close = s.find("]:");
    if (close != std::string_view::npos) colon = close + 1;
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    colon = s.find(':');
  }
  if (colon == std::string_view::npos)
    return w.error(fmt::format("expected {} as ADDR:PORT ([ADDR]:PORT for IPv6)", what));
  auto a = address(s.substr(0, colon));
  if (!a) return w.error(fmt::format("'{}' is not an IPv4 or IPv6 address", s.substr(0, colon)));
  auto port = number(s.substr(colon + 1));
  if (!port || *port > 0xffff)
    return w.error(fmt::format("the port must be a number from 0 to 65535"));
  return std::pair{*a, static_cast<uint16_t>(*port)};
}

Result<Address> plain_address(Words& w, std::string_view what) {
  auto word = w.value(what);
  if (!word) return word.error();
  auto a = address(*word);
  if (!a) return w.error(fmt::format("expected {} (an IPv4 or IPv6 address)", what));
  return *a;
}

Result<uint8_t> tcp_flags(Words& w) {
  auto word = w.value("TCP flags (S|A|R...)");
  if (!word) return word.error();
  uint8_t out = 0;
  std::string_view s = *word;
  while (!s.empty()) {
    const size_t bar = s.find('|');
    const std::string_view f = s.substr(0, bar);
    const Flag* hit = nullptr;
    for (const auto& k : kFlags) {
      std::string lower(f);
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if ((f.size() == 1 && std::toupper(static_cast<unsigned char>(f[0])) == k.letter) ||
          lower == k.name)
        hit = &k;
    }
    if (!hit)
      return w.error(
          fmt::format("unknown TCP flag '{}' (expected S A R F P U E C, or syn ack "
                      "rst fin psh urg ece cwr, joined by '|')",
                      f.substr(0, 16)));
    out |= hit->bit;
    if (bar == std::string_view::npos) break;
    s.remove_prefix(bar + 1);
    if (s.empty()) return w.error("a TCP flag must follow '|'");
  }
  if (word->empty()) return w.error("expected TCP flags");
  return out;
}

Result<uint64_t> option_number(Words& w, std::string_view what, uint64_t max) {
  auto word = w.value(what);
  if (!word) return word.error();
  auto v = number(*word);
  if (!v || *v > max) return w.error(fmt::format("{} must be a number from 0 to {}", what, max));
  return *v;
}

}  // namespace

Result<PacketText> parse_packet(std::string_view text) {
  Words w(text);
  auto kind_word = w.value("tcp, udp, icmp, ip, tcp6, udp6, icmp6 or ipv6");
  if (!kind_word) return kind_word.error();
  std::string_view kind = *kind_word;
  bool want6 = false;
  if (kind == "tcp6" || kind == "udp6" || kind == "icmp6" || kind == "ipv6" || kind == "ip6") {
    want6 = true;
    kind = kind == "tcp6" ? "tcp" : kind == "udp6" ? "udp" : kind == "icmp6" ? "icmp" : "ip";
  } else if (kind == "ipv4") {
    kind = "ip";
  }
  if (kind != "tcp" && kind != "udp" && kind != "icmp" && kind != "ip")
    return w.error("unknown packet kind (expected tcp, udp, icmp, ip, tcp6, udp6, icmp6 or ipv6)");

  PacketText out;
  offload::PacketFields& p = out.fields;
  Address src, dst;
  const bool ports = kind == "tcp" || kind == "udp";
  if (ports) {
    auto s = endpoint(w, "the source");
    if (!s) return s.error();
    src = s->first;
    p.l4_src = s->second;
  } else {
    auto s = plain_address(w, "the source address");
    if (!s) return s.error();
    src = *s;
  }
  if (want6 && src.family != 6) return w.error("an IPv6 packet needs IPv6 addresses");
  auto arrow = w.value("'>'");
  if (!arrow) return arrow.error();
  if (*arrow != ">") return w.error("expected '>' between source and destination");
  if (ports) {
    auto d = endpoint(w, "the destination");
    if (!d) return d.error();
    dst = d->first;
    p.l4_dst = d->second;
  } else {
    auto d = plain_address(w, "the destination address");
    if (!d) return d.error();
    dst = *d;
  }
  if (dst.family != src.family)
    return w.error("source and destination must both be IPv4 or both IPv6");

  const bool v6 = src.family == 6;
  p.ether_type = v6 ? kEtherTypeIpv6 : kEtherTypeIpv4;
  p.ip_src = src.bytes;
  p.ip_dst = dst.bytes;
  if (kind == "tcp") p.ip_proto = kProtoTcp, p.tcp_flags = 0x02;
  if (kind == "udp") p.ip_proto = kProtoUdp;
  if (kind == "icmp") p.ip_proto = v6 ? kProtoIcmp6 : kProtoIcmp, p.icmp_type = v6 ? 128 : 8;

  std::vector<std::string> seen;
  while (!w.done()) {
    const std::string opt(w.next());
    if (std::find(seen.begin(), seen.end(), opt) != seen.end())
      return w.error("option given twice");
    seen.push_back(opt);
    if (opt == "vlan") {
      auto v = option_number(w, "the VLAN id", 4095);
      if (!v) return v.error();
      p.tags.push_back({0x8100, static_cast<uint16_t>(*v)});
    } else if (opt == "from" || opt == "to") {
      auto word = w.value("a MAC address");
      if (!word) return word.error();
      auto m = offload::parse_mac(*word);
      if (!m) return w.error("expected a MAC address (xx:xx:xx:xx:xx:xx)");
      (opt == "from" ? p.eth_src : p.eth_dst) = *m;
      (opt == "from" ? out.has_from : out.has_to) = true;
    } else if (opt == "flags") {
      if (kind != "tcp") return w.error("'flags' is for tcp packets only");
      auto f = tcp_flags(w);
      if (!f) return f.error();
      p.tcp_flags = *f;
    } else if (opt == "type" || opt == "code") {
      if (kind != "icmp") return w.error(fmt::format("'{}' is for icmp packets only", opt));
      auto v = option_number(w, fmt::format("the ICMP {}", opt), 255);
      if (!v) return v.error();
      (opt == "type" ? p.icmp_type : p.icmp_code) = static_cast<uint8_t>(*v);
    } else if (opt == "proto") {
      if (kind != "ip") return w.error("'proto' is for ip packets only (tcp, udp, icmp set it)");
      auto v = option_number(w, "the IP protocol", 255);
      if (!v) return v.error();
      p.ip_proto = static_cast<uint8_t>(*v);
    } else if (opt == "fragment") {
      if (v6) return w.error("'fragment' is for IPv4 packets (an IPv4 fragment past the first)");
      p.later_fragment = true;
    } else {
      return w.error(
          "unknown option (expected vlan, from, to, flags, type, code, proto or "
          "fragment)");
    }
  }
  return out;
}

std::string packet_summary(const offload::PacketFields& p) {
  const bool v6 = p.ether_type == kEtherTypeIpv6;
  if (!v6 && p.ether_type != kEtherTypeIpv4) return fmt::format("ethertype 0x{:04x}", p.ether_type);
  auto addr = [&](const std::array<uint8_t, 16>& a) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(v6 ? AF_INET6 : AF_INET, a.data(), buf, sizeof buf);
    return std::string(buf);
  };
  auto ep = [&](const std::array<uint8_t, 16>& a, uint16_t port) {
    return v6 ? fmt::format("[{}]:{}", addr(a), port) : fmt::format("{}:{}", addr(a), port);
  };
  std::string out;
  if (p.ip_proto == kProtoTcp || p.ip_proto == kProtoUdp) {
    out = fmt::format("{}{} {} > {}", p.ip_proto == kProtoTcp ? "tcp" : "udp", v6 ? "6" : "",
                      ep(p.ip_src, p.l4_src), ep(p.ip_dst, p.l4_dst));
    if (p.ip_proto == kProtoTcp) {
      std::string flags;
      for (const auto& f : kFlags)
        if (p.tcp_flags & f.bit) flags += (flags.empty() ? "" : "|") + std::string(1, f.letter);
      out += " flags " + (flags.empty() ? std::string("none") : flags);
    }
  } else if (p.ip_proto == (v6 ? kProtoIcmp6 : kProtoIcmp)) {
    out = fmt::format("icmp{} {} > {} type {} code {}", v6 ? "6" : "", addr(p.ip_src),
                      addr(p.ip_dst), p.icmp_type, p.icmp_code);
  } else {
    out = fmt::format("{} {} > {} proto {}", v6 ? "ipv6" : "ip", addr(p.ip_src), addr(p.ip_dst),
                      p.ip_proto);
  }
  if (p.later_fragment) out += " fragment";
  return out;
}

}  // namespace vfs::tools
