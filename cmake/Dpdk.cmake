# DPDK 22.11 as IMPORTED targets, so its headers are system headers (they warn under
# C++20's -Wvolatile) and the driver libraries that the shared pkg-config file omits are
# linked explicitly. Drivers reached only through --vdev/rte_eth_from_rings need
# --no-as-needed, or the linker drops them and their constructors never register.
pkg_check_modules(DPDK REQUIRED libdpdk>=22.11)
add_library(dpdk::dpdk INTERFACE IMPORTED)
set_target_properties(dpdk::dpdk PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${DPDK_INCLUDE_DIRS}"
  INTERFACE_COMPILE_OPTIONS "${DPDK_CFLAGS_OTHER}"
  INTERFACE_LINK_LIBRARIES "${DPDK_LINK_LIBRARIES}")
add_library(dpdk::drivers INTERFACE IMPORTED)
set_target_properties(dpdk::drivers PROPERTIES
  INTERFACE_LINK_LIBRARIES "-Wl,--no-as-needed;-lrte_net_ring;-lrte_bus_vdev;-lrte_net_af_packet;-Wl,--as-needed;dpdk::dpdk")
