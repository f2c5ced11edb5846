// The CLI fuzzer (tests/fuzz/cli_fuzz.h), bounded and with a fixed seed so that CI runs it
// on every build: no crash, no state change by a failing line, running-config replays.
#include <doctest/doctest.h>

#include "tests/fuzz/cli_fuzz.h"
#include "vsm/vsm_test_support.h"

using namespace vfs::vsm;

TEST_CASE("CLI fuzz: random and mutated lines never crash or change state on error") {
  testing::TempDir dir;
  fuzz::CliFuzzer fuzzer(dir.path());
  REQUIRE(fuzzer.start().ok());
  fuzz::LineGenerator gen(20261125);
  constexpr int kIterations = 2000;  // ~4 ms per line in a Debug build
  int failures = 0;
  for (int i = 0; i < kIterations; ++i) {
    if (gen.chance(50)) fuzzer.reset_session();
    const std::string line = gen.line();
    auto broken = fuzzer.run(line);
    if (broken) {
      ++failures;
      FAIL_CHECK("line '", line, "': ", *broken);
      if (failures > 5) break;
    }
    if (i % 1000 == 999) {
      auto rt = fuzzer.check_round_trip();
      if (rt) FAIL_CHECK("after line ", i, ": ", *rt);
    }
  }
  CHECK(failures == 0);
}
