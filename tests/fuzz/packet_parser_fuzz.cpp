// tests/fuzz/packet_parser_fuzz.cpp: libFuzzer target for the slow path's packet parser
// and MAC text parser. Not built by default; run it with
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
//     tests/fuzz/packet_parser_fuzz.cpp slowpath/packet_parser.cpp slowpath/mac_address.cpp \
//     -o /tmp/packet_parser_fuzz && /tmp/packet_parser_fuzz -max_len=2048
// Out-of-bounds reads are ASan's to find; the checks below catch a parse that claims
// offsets outside the frame or L4 data where there can be none.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "slowpath/packet_parser.h"

using namespace vfs::slowpath;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_parse(const ParsedPacket& p, uint32_t len) {
  check(len >= 14);
  check(p.vlan_count <= 2);
  check(p.l3_offset == 14u + 4u * p.vlan_count);
  check(p.l3_offset <= p.l3_end && p.l3_end <= len);
  if (p.l4 != L4Kind::none) {
    check(p.l3 == L3Kind::ipv4 || p.l3 == L3Kind::ipv6);
    check(p.l4_offset >= p.l3_offset && p.l4_offset <= p.l3_end);
    check(p.ip_fragment_offset_bytes == 0);
    if (p.l4 == L4Kind::tcp) check(p.l3_end - p.l4_offset >= 20);
    if (p.l4 == L4Kind::udp) check(p.l3_end - p.l4_offset >= 8);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto len = static_cast<uint32_t>(size > UINT32_MAX ? UINT32_MAX : size);
  // A heap copy of exactly len bytes, so that ASan sees a read one byte too far.
  std::unique_ptr<uint8_t[]> frame(new uint8_t[len]);
  if (len) std::memcpy(frame.get(), data, len);
  ParsedPacket p;
  const ParseStatus s = parse_packet(frame.get(), len, &p);
  check(static_cast<size_t>(s) < kParseStatusCount);
  if (s == ParseStatus::ok) check_parse(p, len);

  uint8_t mac[6] = {};
  if (parse_mac(std::string_view(reinterpret_cast<const char*>(data), size), mac)) {
    uint8_t again[6] = {};
    check(parse_mac(mac_to_string(mac), again) && std::memcmp(mac, again, 6) == 0);
  }
  return 0;
}
