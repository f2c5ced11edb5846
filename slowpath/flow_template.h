// slowpath/flow_template.h owns the test that lets the slow path decide a run of frames
// once (OVS batches a burst per flow the same way): a masked copy of one frame's headers
// that another frame matches only when the policy would read the same thing in it — the
// same length, and the same bytes in every header field that offload::frame_layout, the
// ACL walks and port security read. The masked fields are the ones the verdict cache's key
// leaves out too (slowpath/verdict_cache.h): IPv4 ID, TTL and checksum, IPv6 hop limit,
// TCP sequence and acknowledgement numbers, TCP flags but ACK and RST. Everything else up
// to the end of what the policy reads is compared, bit for bit, whatever it means.
//
// Pure and allocation-free; matches() is a handful of word compares, so that a frame of a
// run costs the slow path a compare instead of a policy decision.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "offload/frame_layout.h"

namespace vfs::slowpath {

class FlowTemplate {
 public:
  // The most the policy reads: four tags, IPv4 with 40 bytes of options, 14 bytes of TCP.
  static constexpr unsigned kMaxWords = (14 + 4 * 4 + 60 + 14 + 7) / 8;

  // From a frame the verdict cache keyed (flow_key() accepted it; l = frame_layout(p,
  // len)). False, and matches() false for everything, when what the policy reads ends
  // past the frame's last whole word.
  bool build(const offload::FrameLayout& l, const uint8_t* p, uint32_t len);

  bool matches(const uint8_t* p, uint32_t len) const {
    if (len != len_ || words_ == 0) return false;
    uint64_t d = 0;
    for (unsigned i = 0; i < words_; ++i) {
      uint64_t w;
      std::memcpy(&w, p + 8 * i, sizeof w);
      d |= (w ^ bytes_[i]) & mask_[i];
    }
    return d == 0;
  }

  unsigned compared_bytes() const { return words_ * 8; }

 private:
  uint32_t len_ = 0;
  unsigned words_ = 0;  // 0: matches nothing
  std::array<uint64_t, kMaxWords> bytes_{};
  std::array<uint64_t, kMaxWords> mask_{};
};

}  // namespace vfs::slowpath
