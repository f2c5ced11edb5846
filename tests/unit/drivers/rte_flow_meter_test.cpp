// The rte_flow backend's meters without a NIC: a ring port has no rte_mtr support, so
// every call fails; the errors must name the operation, the meter or profile and the port,
// keep the errno, and bad profiles must be refused before DPDK is asked.
#include <doctest/doctest.h>

#include <string>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "drivers/rte_flow/rte_flow_backend.h"
#include "slowpath/eal.h"

using namespace vfs::drivers;

TEST_CASE("rte_flow backend meters: a port without rte_mtr answers in DPDK's words") {
  vfs::slowpath::EalOptions opt;
  opt.file_prefix = "vfs-unit-drivers";
  opt.memory_mb = 256;
  auto eal = vfs::slowpath::eal_init(opt);
  REQUIRE_MESSAGE(eal.ok(), eal.error().message);
  rte_ring* ring =
      rte_ring_create("vfs_mtr_test", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  REQUIRE(ring != nullptr);
  const int port = rte_eth_from_rings("vfs_mtr_test_port", &ring, 1, &ring, 1, SOCKET_ID_ANY);
  REQUIRE(port >= 0);
  const std::string where = "on port " + std::to_string(port) + " (vfs_mtr_test_port)";
  {
    RteFlowBackend b(static_cast<uint16_t>(port), "vfs_mtr_test_port");
    auto bad = b.add_meter_profile(3, MeterProfile{0, 1000, 0});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code == EINVAL);
    CHECK(bad.error().message.find("meter profile 3") != std::string::npos);

    auto p = b.add_meter_profile(3, MeterProfile{125000, 1500, 0});
    REQUIRE_FALSE(p.ok());
    CAPTURE(p.error().message);
    CHECK((p.error().code == ENOSYS || p.error().code == ENOTSUP));
    CHECK(p.error().message.find("rte_mtr meter profile add 3 " + where) != std::string::npos);

    auto m = b.create_meter(9, 3);
    REQUIRE_FALSE(m.ok());
    CAPTURE(m.error().message);
    // The policy comes first: without rte_mtr even that fails, naming itself.
    CHECK(m.error().message.find("rte_mtr meter policy add") != std::string::npos);

    auto s = b.read_meter_stats(9);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message.find("rte_mtr stats read 9 " + where) != std::string::npos);
    CHECK(b.destroy_meter(9).error().message.find("rte_mtr destroy 9") != std::string::npos);
  }
  CHECK(rte_eth_dev_close(static_cast<uint16_t>(port)) == 0);
  rte_ring_free(ring);
}
