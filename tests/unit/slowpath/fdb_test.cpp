// FDB: learning outcomes, per-VLAN keys, aging at its boundary, bulk removal, a full
// table, and long random sequences checked against a std::map model (small tables, so
// that probe chains wrap around and backward-shift deletion is exercised hard).
#include <algorithm>
#include <array>
#include <map>
#include <random>
#include <stdexcept>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>

#include "slowpath/fdb.h"

using namespace vfs::slowpath;

namespace {

using MacBytes = std::array<uint8_t, 6>;

MacBytes mac(uint32_t n) {
  return {0x52, 0x54, uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
}

struct Removed {
  uint16_t vid;
  MacBytes mac;
  uint16_t port;
  bool operator<(const Removed& o) const {
    return std::tie(vid, mac, port) < std::tie(o.vid, o.mac, o.port);
  }
  bool operator==(const Removed& o) const = default;
};

auto collect(std::vector<Removed>& into) {
  return [&into](uint16_t vid, const uint8_t* m, uint16_t port) {
    MacBytes b;
    std::copy(m, m + 6, b.begin());
    into.push_back({vid, b, port});
  };
}

auto ignore() {
  return [](uint16_t, const uint8_t*, uint16_t) {};
}

}  // namespace

TEST_CASE("learn, lookup, refresh and move") {
  Fdb fdb(16, 1);
  const auto a = mac(1), b = mac(2);
  CHECK(fdb.lookup(10, a.data()) == -1);
  CHECK(fdb.learn(10, a.data(), 3, 100) == LearnOutcome::learned);
  CHECK(fdb.lookup(10, a.data()) == 3);
  CHECK(fdb.lookup(10, b.data()) == -1);
  CHECK(fdb.size() == 1);

  CHECK(fdb.learn(10, a.data(), 3, 200) == LearnOutcome::refreshed);
  CHECK(fdb.find(10, a.data())->last_seen_ns == 200);
  CHECK(fdb.size() == 1);

  CHECK(fdb.learn(10, a.data(), 5, 300) == LearnOutcome::moved);
  CHECK(fdb.lookup(10, a.data()) == 5);
  auto e = fdb.find(10, a.data());
  REQUIRE(e);
  CHECK(e->vid == 10);
  CHECK(e->port == 5);
  CHECK(e->last_seen_ns == 300);
  CHECK(std::equal(a.begin(), a.end(), e->mac));
  CHECK(fdb.size() == 1);

  // A late, older timestamp does not rewind last-seen.
  CHECK(fdb.learn(10, a.data(), 5, 250) == LearnOutcome::refreshed);
  CHECK(fdb.find(10, a.data())->last_seen_ns == 300);

  CHECK(std::string(learn_outcome_name(LearnOutcome::moved)) == "moved");
  CHECK(std::string(learn_outcome_name(LearnOutcome::table_full)) == "table_full");
}

TEST_CASE("the same MAC in two VLANs is two entries") {
  Fdb fdb(16, 2);
  const auto a = mac(7);
  CHECK(fdb.learn(10, a.data(), 1, 1) == LearnOutcome::learned);
  CHECK(fdb.learn(20, a.data(), 2, 1) == LearnOutcome::learned);
  CHECK(fdb.lookup(10, a.data()) == 1);
  CHECK(fdb.lookup(20, a.data()) == 2);
  CHECK(fdb.lookup(30, a.data()) == -1);
  CHECK(fdb.size() == 2);
  CHECK(fdb.remove(10, a.data()));
  CHECK_FALSE(fdb.remove(10, a.data()));
  CHECK(fdb.lookup(10, a.data()) == -1);
  CHECK(fdb.lookup(20, a.data()) == 2);
  // VLAN ids use all 16 bits of the key: 4095 and 0 do not alias.
  CHECK(fdb.learn(4095, a.data(), 9, 1) == LearnOutcome::learned);
  CHECK(fdb.learn(0, a.data(), 8, 1) == LearnOutcome::learned);
  CHECK(fdb.lookup(4095, a.data()) == 9);
  CHECK(fdb.lookup(0, a.data()) == 8);
}

TEST_CASE("touch refreshes without moving") {
  Fdb fdb(16, 3);
  const auto a = mac(1);
  CHECK_FALSE(fdb.touch(1, a.data(), 50));
  CHECK(fdb.size() == 0);
  fdb.learn(1, a.data(), 4, 100);
  CHECK(fdb.touch(1, a.data(), 500));
  CHECK(fdb.find(1, a.data())->last_seen_ns == 500);
  CHECK(fdb.lookup(1, a.data()) == 4);
  CHECK(fdb.touch(1, a.data(), 400));
  CHECK(fdb.find(1, a.data())->last_seen_ns == 500);
}

TEST_CASE("aging removes entries idle for max_age or more, and only those") {
  Fdb fdb(16, 4);
  const uint64_t kAge = 300;
  const auto a = mac(1), b = mac(2), c = mac(3);
  fdb.learn(1, a.data(), 1, 1000);
  fdb.learn(1, b.data(), 2, 1100);
  fdb.learn(2, c.data(), 3, 1200);

  std::vector<Removed> gone;
  CHECK(fdb.age(1299, kAge, collect(gone)) == 0);  // a idle 299
  CHECK(gone.empty());
  CHECK(fdb.age(1300, kAge, collect(gone)) == 1);  // a idle exactly 300
  REQUIRE(gone.size() == 1);
  CHECK(gone[0] == Removed{1, a, 1});
  CHECK(fdb.lookup(1, a.data()) == -1);

  fdb.touch(1, b.data(), 1350);
  CHECK(fdb.age(1500, kAge, collect(gone)) == 1);  // c idle 300, b only 150
  CHECK(gone.back() == Removed{2, c, 3});
  CHECK(fdb.lookup(1, b.data()) == 2);

  // Entries stamped after now (a clock read late) are not aged.
  fdb.learn(1, a.data(), 1, 5000);
  CHECK(fdb.age(4000, kAge, collect(gone)) == 1);  // b only
  CHECK(gone.back() == Removed{1, b, 2});
  CHECK(fdb.lookup(1, a.data()) == 1);
  CHECK(fdb.size() == 1);
  CHECK(fdb.age(10'000, kAge, ignore()) == 1);
  CHECK(fdb.size() == 0);
  CHECK(fdb.age(10'000, kAge, ignore()) == 0);
}

TEST_CASE("remove_port, remove_vlan and remove_if report what they remove") {
  Fdb fdb(64, 5);
  for (uint32_t i = 0; i < 30; ++i)
    fdb.learn(uint16_t(i % 3), mac(i).data(), uint16_t(i % 5), 10 * i);
  std::vector<Removed> gone;
  CHECK(fdb.remove_port(2, collect(gone)) == 6);
  CHECK(gone.size() == 6);
  for (const auto& r : gone) CHECK(r.port == 2);
  for (uint32_t i = 0; i < 30; ++i)
    CHECK(fdb.lookup(uint16_t(i % 3), mac(i).data()) == (i % 5 == 2 ? -1 : int(i % 5)));
  CHECK(fdb.size() == 24);

  gone.clear();
  const size_t in_vlan1 = [&] {
    size_t n = 0;
    fdb.for_each([&](const FdbEntry& e) { n += e.vid == 1; });
    return n;
  }();
  CHECK(fdb.remove_vlan(1, collect(gone)) == in_vlan1);
  for (const auto& r : gone) CHECK(r.vid == 1);
  fdb.for_each([](const FdbEntry& e) { CHECK(e.vid != 1); });

  // Four-argument predicate sees last-seen.
  const size_t before = fdb.size();
  size_t old = 0;
  fdb.for_each([&](const FdbEntry& e) { old += e.last_seen_ns < 150; });
  CHECK(fdb.remove_if([](uint16_t, const uint8_t*, uint16_t, uint64_t t) { return t < 150; },
                      ignore()) == old);
  CHECK(fdb.size() == before - old);
  CHECK(fdb.remove_port(42, ignore()) == 0);

  fdb.clear();
  CHECK(fdb.size() == 0);
  CHECK(fdb.lookup(0, mac(0).data()) == -1);
}

TEST_CASE("a full table refuses new entries but keeps serving known ones") {
  Fdb fdb(4, 6);
  CHECK(fdb.capacity() == 4);
  for (uint32_t i = 0; i < 4; ++i)
    CHECK(fdb.learn(1, mac(i).data(), 1, 1) == LearnOutcome::learned);
  CHECK(fdb.learn(1, mac(99).data(), 1, 2) == LearnOutcome::table_full);
  CHECK(fdb.size() == 4);
  CHECK(fdb.lookup(1, mac(99).data()) == -1);
  CHECK(fdb.learn(1, mac(0).data(), 1, 3) == LearnOutcome::refreshed);
  CHECK(fdb.learn(1, mac(1).data(), 2, 3) == LearnOutcome::moved);
  CHECK(fdb.remove(1, mac(2).data()));
  CHECK(fdb.learn(1, mac(99).data(), 1, 4) == LearnOutcome::learned);
  CHECK(fdb.size() == 4);
}

TEST_CASE("capacity must be sane") {
  CHECK_THROWS_AS(Fdb(0), std::invalid_argument);
  CHECK_THROWS_AS(Fdb(size_t{1} << 31), std::invalid_argument);
  Fdb random_seeded(1);
  CHECK(random_seeded.learn(1, mac(1).data(), 1, 1) == LearnOutcome::learned);
  CHECK(random_seeded.learn(1, mac(2).data(), 1, 1) == LearnOutcome::table_full);
}

TEST_CASE("random operations agree with a std::map model") {
  struct Value {
    uint16_t port;
    uint64_t last;
  };
  using Key = std::pair<uint16_t, uint32_t>;  // vid, mac number

  for (size_t capacity : {size_t{1}, size_t{8}, size_t{13}, size_t{64}, size_t{500}}) {
    for (uint64_t seed : {1ULL, 2ULL, 0xdeadbeefULL}) {
      CAPTURE(capacity);
      CAPTURE(seed);
      Fdb fdb(capacity, seed);
      std::map<Key, Value> model;
      std::mt19937_64 rng(seed * 7919 + capacity);
      // Key space about 3x the capacity: the table is often full, chains are long.
      const uint32_t macs = uint32_t(capacity * 3 / 2 + 2);
      auto rand_key = [&] { return Key{uint16_t(rng() % 2 + 1), uint32_t(rng() % macs)}; };
      uint64_t now = 1000;
      size_t mismatches = 0;
      auto expect = [&](bool c) { mismatches += !c; };

      for (int op = 0; op < 20000; ++op) {
        now += rng() % 10;
        const Key k = rand_key();
        const auto m = mac(k.second);
        switch (rng() % 10) {
          case 0:
          case 1:
          case 2:
          case 3: {  // learn
            const uint16_t port = uint16_t(rng() % 4);
            LearnOutcome want;
            auto it = model.find(k);
            if (it == model.end()) {
              if (model.size() == capacity) {
                want = LearnOutcome::table_full;
              } else {
                want = LearnOutcome::learned;
                model[k] = {port, now};
              }
            } else {
              want = it->second.port == port ? LearnOutcome::refreshed : LearnOutcome::moved;
              it->second = {port, now};
            }
            expect(fdb.learn(k.first, m.data(), port, now) == want);
            break;
          }
          case 4:
          case 5: {  // remove
            expect(fdb.remove(k.first, m.data()) == (model.erase(k) == 1));
            break;
          }
          case 6: {  // touch
            auto it = model.find(k);
            if (it != model.end()) it->second.last = now;
            expect(fdb.touch(k.first, m.data(), now) == (it != model.end()));
            break;
          }
          case 7: {  // age
            const uint64_t max_age = 50 + rng() % 200;
            std::vector<Removed> got, want;
            for (auto it = model.begin(); it != model.end();) {
              if (now - it->second.last >= max_age) {
                want.push_back({it->first.first, mac(it->first.second), it->second.port});
                it = model.erase(it);
              } else {
                ++it;
              }
            }
            expect(fdb.age(now, max_age, collect(got)) == want.size());
            std::sort(got.begin(), got.end());
            std::sort(want.begin(), want.end());
            expect(got == want);
            break;
          }
          case 8: {  // remove_port
            const uint16_t port = uint16_t(rng() % 4);
            size_t want = 0;
            for (auto it = model.begin(); it != model.end();)
              it = it->second.port == port ? (++want, model.erase(it)) : std::next(it);
            expect(fdb.remove_port(port, ignore()) == want);
            break;
          }
          default: {  // lookup
            auto it = model.find(k);
            expect(fdb.lookup(k.first, m.data()) == (it == model.end() ? -1 : it->second.port));
            break;
          }
        }
        expect(fdb.size() == model.size());
        if (op % 500 == 0) {
          // Full comparison: every key of the space, and everything the table holds.
          for (uint16_t vid = 1; vid <= 2; ++vid)
            for (uint32_t i = 0; i < macs; ++i) {
              auto it = model.find({vid, i});
              auto e = fdb.find(vid, mac(i).data());
              expect(bool(e) == (it != model.end()));
              if (e && it != model.end())
                expect(e->port == it->second.port && e->last_seen_ns == it->second.last);
            }
          size_t n = 0;
          fdb.for_each([&](const FdbEntry&) { ++n; });
          expect(n == model.size());
        }
      }
      CHECK(mismatches == 0);
    }
  }
}
