#include "slowpath/eal.h"

#include <unistd.h>

#include <mutex>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

namespace vfs::slowpath {
namespace {
std::once_flag g_once;
Result<void> g_result = ok();
rte_mempool* g_pool = nullptr;
std::mutex g_pool_mu;
}  // namespace

Result<void> eal_init(const EalOptions& opt) {
  std::call_once(g_once, [&] {
    std::vector<std::string> args = {
        "vfswitchd",
        "--no-huge",
        "-m",
        std::to_string(opt.memory_mb),
        "--file-prefix",
        opt.file_prefix.empty() ? "vfsw-" + std::to_string(::getpid()) : opt.file_prefix,
        "--log-level",
        opt.log_level,
        "-l",
        "0",
        "--no-telemetry"};
    if (opt.no_pci) args.push_back("--no-pci");
    for (const auto& e : opt.extra) args.push_back(e);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = rte_eal_init(static_cast<int>(args.size()), argv.data());
    if (rc < 0)
      g_result = make_error(rte_errno, "DPDK EAL init failed: {}", rte_strerror(rte_errno));
  });
  return g_result;
}

Result<rte_mempool*> packet_pool() {
  std::lock_guard<std::mutex> g(g_pool_mu);
  if (g_pool) return g_pool;
  // 16K mbufs x 2 KiB fit the 512 MiB of --no-huge memory with room to spare; per-lcore
  // caches stay small because only a few threads touch the pool.
  g_pool =
      rte_pktmbuf_pool_create("vfsw_pkts", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!g_pool) return make_error(rte_errno, "mbuf pool: {}", rte_strerror(rte_errno));
  return g_pool;
}

}  // namespace vfs::slowpath
