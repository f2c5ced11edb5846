// slowpath/eal.h owns DPDK EAL start-up for vfswitchd and for tests: no hugepages
// (--no-huge), a unique --file-prefix so that several daemons and tests share a host,
// and the mbuf pool the representors and the sim use.
#pragma once

#include <string>
#include <vector>

#include <rte_mempool.h>

#include "base/result.h"

namespace vfs::slowpath {

struct EalOptions {
  std::string file_prefix;  // unique per process; default vfsw-<pid>
  unsigned memory_mb = 512;
  std::vector<std::string> extra;  // e.g. "-a", "0000:03:00.0,representor=vf[0-3]"
  bool no_pci = true;              // the sim needs no PCI bus scan
  std::string log_level = "error";
};

// Initialises the EAL once per process; later calls return the first outcome.
Result<void> eal_init(const EalOptions& opt);

// The process-wide packet buffer pool (created on first use, after eal_init).
Result<rte_mempool*> packet_pool();

}  // namespace vfs::slowpath
