// drivers/sim/sim_match.h owns how the sim compares a frame with a rule's pattern: the
// frame's layout (VLAN tags, L3 and L4 offsets), a pattern's shape (which headers, which
// structural conditions, which mask bits) and the key (the masked bytes, plus the source
// port when the pattern names one) that a frame and a rule must share to match. Rules of
// one shape share one hash table (drivers/sim/sim_classifier.h).
//
// Matching semantics are those documented in drivers/sim/sim_flow_table.h.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

namespace vfs::drivers::sim {

inline constexpr unsigned kMaxHeader = 40;  // IPv6, the longest header item
inline constexpr unsigned kMaxSteps = 5;    // ETH, two VLAN, one L3, one L4
inline constexpr unsigned kMaxTags = 4;     // VLAN tags the parser walks
// Port (2) + ETH (14) + two VLAN (8) + IPv6 (40) + TCP (20), rounded up to whole words.
inline constexpr unsigned kMaxKey = 88;

inline uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline bool is_vlan_tpid(uint16_t t) { return t == 0x8100 || t == 0x88a8 || t == 0x9100; }

// Where the headers of a frame are.
struct Layout {
  bool eth = false;      // a full Ethernet header is present
  uint8_t n_tags = 0;    // VLAN tags after the MAC addresses
  uint16_t l3_off = 0;   // first byte after the tags' EtherType
  uint16_t l3_type = 0;  // that EtherType
  bool ip = false;       // a whole IPv4 (version 4, IHL >= 5) or IPv6 fixed header
  bool l4 = false;       // an L4 header starts at l4_off
  uint8_t l4_proto = 0;
  uint16_t l4_off = 0;
};

Layout parse_layout(const uint8_t* p, uint32_t len);

enum class StepKind : uint8_t { eth, vlan, l3, l4 };

// One header item of a pattern without its values: the header must be there (and meet
// the structural conditions); then cmp_len bytes at its offset are masked into the key.
struct StepShape {
  StepKind kind = StepKind::eth;
  uint8_t cmp_len = 0;     // 0: the header's presence is enough
  uint8_t vlan_index = 0;  // vlan: 0 = outermost tag
  int8_t flag = -1;        // eth: has_vlan; vlan: has_more_vlan (-1 = not matched)
  int8_t tags = -1;        // l3: VLAN tags that must precede it (-1 = any)
  uint8_t l4_proto = 0;    // l4: IP protocol
  uint16_t ethertype = 0;  // l3: its EtherType; l4: that of its L3 (0 = IPv4 or IPv6)
  std::array<uint8_t, kMaxHeader> mask{};
  bool operator==(const StepShape&) const = default;
};

// What a pattern looks at; rules that differ only in their values share a shape.
struct MatchShape {
  bool port = false;  // the source port is part of the key
  uint8_t n_steps = 0;
  std::array<StepShape, kMaxSteps> steps{};
  // Set by finish():
  uint8_t key_len = 0;
  uint64_t hash = 0;

  void finish();
  bool operator==(const MatchShape& o) const;
};

// Masked bytes in the order of the shape's steps, after the port (2 bytes) when the shape
// has one; zero past key_len up to the next word.
struct MatchKey {
  alignas(8) std::array<uint8_t, kMaxKey> bytes{};
};

uint64_t key_hash(const MatchKey& k, unsigned key_len);
// Whole words, inline: both keys are zero past key_len up to the next word (a lookup
// compares one per subtable probed, and memcmp's call and length dispatch cost more than
// the compare).
inline bool key_equal(const MatchKey& a, const MatchKey& b, unsigned key_len) {
  uint64_t diff = 0;
  for (unsigned i = 0; i < key_len; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.bytes.data() + i, 8);
    std::memcpy(&y, b.bytes.data() + i, 8);
    diff |= x ^ y;
  }
  return diff == 0;
}

// The frame's key under `shape`: false if a header the shape needs is missing or too
// short, or a structural condition (tags, has_vlan, protocol) fails. No allocation.
bool frame_key(const MatchShape& shape, uint16_t in_port, const Layout& l, const uint8_t* p,
               uint32_t len, MatchKey& key);

}  // namespace vfs::drivers::sim
