// tests/fuzz/cli_fuzz.cpp: libFuzzer target for the CLI (see cli_fuzz.h for what it
// checks). The input is lines separated by '\n'. Not built by default; with clang:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. -Itests/unit \
//     tests/fuzz/cli_fuzz.cpp vsm/*.cpp base/*.cpp -lfmt -o /tmp/cli_fuzz && /tmp/cli_fuzz
// unit_vsm runs the same checks on generated lines for a bounded number of iterations
// (tests/unit/vsm/cli_fuzz_test.cpp).
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string_view>

#include "tests/fuzz/cli_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/vfs-cli-fuzz-XXXXXX";
    if (!::mkdtemp(tmpl)) std::abort();
    return std::string(tmpl);
  }();
  vfs::vsm::fuzz::CliFuzzer fuzzer(dir);
  if (!fuzzer.start()) std::abort();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (!in.empty()) {
    size_t nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    if (auto broken = fuzzer.run(line)) {
      std::fprintf(stderr, "line '%.*s': %s\n", static_cast<int>(line.size()), line.data(),
                   broken->c_str());
      std::abort();
    }
  }
  if (auto broken = fuzzer.check_round_trip()) {
    std::fprintf(stderr, "%s\n", broken->c_str());
    std::abort();
  }
  return 0;
}
