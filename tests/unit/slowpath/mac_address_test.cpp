// MAC address helpers: classification, formatting, and the three accepted text forms.
#include <cstring>

#include <doctest/doctest.h>

#include "slowpath/mac_address.h"

using namespace vfs::slowpath;

TEST_CASE("MAC classification") {
  const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
  const uint8_t ucast[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  const uint8_t almost[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
  const uint8_t zero[6] = {};
  CHECK(is_broadcast(bcast));
  CHECK(is_multicast(bcast));
  CHECK(is_multicast(mcast));
  CHECK_FALSE(is_broadcast(mcast));
  CHECK_FALSE(is_multicast(ucast));
  CHECK_FALSE(is_broadcast(ucast));
  CHECK_FALSE(is_broadcast(almost));
  CHECK(is_zero_mac(zero));
  CHECK_FALSE(is_zero_mac(ucast));
}

TEST_CASE("MAC text round trip") {
  const uint8_t m[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
  CHECK(mac_to_string(m) == "52:54:00:ab:cd:ef");
  const char* forms[] = {"52:54:00:ab:cd:ef", "52:54:00:AB:CD:EF", "52-54-00-ab-cd-ef",
                         "5254.00ab.cdef"};
  for (const char* f : forms) {
    CAPTURE(f);
    uint8_t out[6] = {};
    REQUIRE(parse_mac(f, out));
    CHECK(std::memcmp(out, m, 6) == 0);
  }
}

TEST_CASE("bad MAC text is refused and leaves the output alone") {
  const char* bad[] = {"",
                       "52:54:00:ab:cd",
                       "52:54:00:ab:cd:ef:01",
                       "52:54:00:ab:cd:eg",
                       "52:54-00:ab:cd:ef",
                       "52:54:00:ab:cd:ef ",
                       " 52:54:00:ab:cd:ef",
                       "5254.00ab.cde",
                       "5254:00ab:cdef",
                       "525400abcdef",
                       "5:54:00:ab:cd:eff"};
  for (const char* b : bad) {
    CAPTURE(b);
    uint8_t out[6] = {1, 2, 3, 4, 5, 6};
    CHECK_FALSE(parse_mac(b, out));
    const uint8_t untouched[6] = {1, 2, 3, 4, 5, 6};
    CHECK(std::memcmp(out, untouched, 6) == 0);
  }
}
