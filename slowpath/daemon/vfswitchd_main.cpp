// vfswitchd: the host daemon. Composition root: parses options, checks every input
// before it makes anything, then brings up EAL, the eSwitch driver, the offload engine,
// the slow path, the supervisor and the local API — in that order — and tears them down
// in reverse on SIGTERM/SIGINT. Without --foreground it detaches once it is ready (its
// socket accepts connections), so `vfswitchd ... && vfsw ...` works in scripts.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

#include "base/clock.h"
#include "base/log.h"
#include "drivers/eswitch.h"
#include "drivers/sim/sim_eswitch.h"
#include "offload/offload_engine.h"
#include "slowpath/daemon/daemon_options.h"
#include "slowpath/daemon/dry_run_dataplane.h"
#include "slowpath/daemon/eswitch_dataplane.h"
#include "slowpath/eal.h"
#include "slowpath/slow_path.h"
#include "vsm/api_server.h"
#include "vsm/supervisor.h"

using namespace vfs;

namespace {

constexpr const char* kVersion = "vfswitchd 0.1.0";

int fail(const Error& e, int code = 1) {
  std::fprintf(stderr, "vfswitchd: %s\n", e.message.c_str());
  return code;
}

bool socket_is_served(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
  bool served = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return served;
}

// Detaches from the terminal; the parent stays until the child reports readiness (or
// its error) on a pipe, and exits with the matching status.
int daemonize(int& ready_fd) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return fail(make_error(errno, "pipe: {}", std::strerror(errno)));
  pid_t pid = ::fork();
  if (pid < 0) return fail(make_error(errno, "fork: {}", std::strerror(errno)));
  if (pid > 0) {
    ::close(p[1]);
    std::string msg;
    char buf[512];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof(buf))) > 0) msg.append(buf, static_cast<size_t>(n));
    if (msg == "ready") return 0;
    std::fprintf(stderr, "vfswitchd: %s\n", msg.empty() ? "exited during start-up" : msg.c_str());
    std::exit(1);
  }
  ::close(p[0]);
  ::setsid();
  int devnull = ::open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    ::dup2(devnull, STDIN_FILENO);
    ::close(devnull);
  }
  ready_fd = p[1];
  return -1;  // the child goes on
}

void report(int ready_fd, const std::string& msg) {
  if (ready_fd < 0) return;
  [[maybe_unused]] auto n = ::write(ready_fd, msg.data(), msg.size());
  ::close(ready_fd);
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = daemon::parse_daemon_options(argc, argv);
  if (!parsed.ok()) return fail(parsed.error(), 2);
  daemon::DaemonOptions& opt = parsed.value();
  if (opt.help) {
    std::fputs(opt.help_text.c_str(), stdout);
    return 0;
  }
  if (opt.version) {
    std::puts(kVersion);
    return 0;
  }
  log::set_level(opt.log_level == "debug"   ? log::Level::debug
                 : opt.log_level == "warn"  ? log::Level::warn
                 : opt.log_level == "error" ? log::Level::error
                                            : log::Level::info);

  if (opt.sim_teardown) {
    if (opt.driver != "sim")
      return fail(make_error(EINVAL, "--sim-teardown needs --driver sim"), 2);
    if (auto r = drivers::remove_sim_wires(opt.sim_name, opt.sim_vfs); !r.ok())
      return fail(r.error());
    std::printf("removed the wires of sim '%s'\n", opt.sim_name.c_str());
    return 0;
  }

  // --- everything that can be checked is checked before anything is made ---
  if (socket_is_served(opt.socket))
    return fail(
        make_error(EADDRINUSE, "socket {} is already served by another vfswitchd", opt.socket));
  if (opt.driver == "sim")
    if (auto r = drivers::validate_sim_name(opt.sim_name); !r.ok()) return fail(r.error(), 2);
  std::error_code ec;
  std::filesystem::create_directories(opt.state_dir, ec);
  if (ec) return fail(make_error(ec.value(), "--state-dir {}: {}", opt.state_dir, ec.message()));
  vsm::SupervisorOptions sup_opt{opt.state_dir, opt.startup_config};
  if (!opt.startup_config.empty() && ::access(opt.startup_config.c_str(), R_OK) != 0)
    return fail(make_error(errno, "{}: cannot read startup-config: {}", opt.startup_config,
                           std::strerror(errno)));
  {
    daemon::DryRunDataplane dry(opt.driver == "sim" ? opt.sim_vfs : 64);
    vsm::Supervisor check(dry, sup_opt);
    if (auto r = check.restore(); !r.ok()) return fail(r.error());
  }

  int ready_fd = -1;
  if (!opt.foreground) {
    int rc = daemonize(ready_fd);
    if (rc >= 0) return rc;
  }
  auto abort_start = [&](const Error& e) {
    report(ready_fd, e.message);
    return fail(e);
  };

  // Signals are taken synchronously by the main thread; the others never see them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  slowpath::EalOptions eal;
  eal.file_prefix = "vfswitchd-" + std::to_string(::getpid());
  if (opt.driver == "rte_flow") {
    if (opt.pci.empty())
      return abort_start(make_error(
          EINVAL, "driver rte_flow: --pci <PF address> of a NIC in switchdev mode is required"));
    eal.no_pci = false;
    eal.extra = {"-a", opt.pci + ",representor=" + opt.representors};
  }
  if (auto r = slowpath::eal_init(eal); !r.ok()) return abort_start(r.error());
  auto pool = slowpath::packet_pool();
  if (!pool.ok()) return abort_start(pool.error());

  drivers::ESwitchOptions eo;
  eo.sim_vfs = opt.sim_vfs;
  eo.sim_name = opt.sim_name;
  eo.sim_capacity = opt.sim_capacity;
  eo.sim_unsupported = opt.sim_unsupported;
  eo.sim_tap_vfs = opt.sim_tap_vfs;
  eo.sim_insert_latency_us = opt.sim_insert_latency_us;
  eo.sim_fail_rate = opt.sim_fail_rate;
  eo.pci = opt.pci;
  eo.pool = pool.value();
  auto esw = drivers::open_eswitch(opt.driver, eo);
  if (!esw.ok()) return abort_start(esw.error());
  drivers::ESwitch& eswitch = *esw.value();

  MonotonicClock clock;
  offload::PolicyChannel policy;
  offload::OffloadEngine engine(eswitch.flows(), clock, policy);
  if (auto r = engine.start(); !r.ok()) return abort_start(r.error());
  slowpath::SlowPathOptions so;
  so.mac_aging_ns = uint64_t{opt.mac_aging_s} * 1'000'000'000ULL;
  slowpath::SlowPath slow(eswitch.ports(), pool.value(), policy, engine, clock, so,
                          eswitch.rx_wakeup());
  if (auto r = eswitch.start(); !r.ok()) return abort_start(r.error());
  slow.start();

  daemon::ESwitchDataplane dataplane(eswitch.ports(), policy, engine, slow, eswitch.vf_admin(),
                                     eswitch.has_meters(), opt.state_dir);
  vsm::Supervisor supervisor(dataplane, sup_opt);
  if (auto r = supervisor.restore(); !r.ok()) {
    slow.stop();
    eswitch.stop();
    return abort_start(r.error());
  }
  vsm::ApiServerOptions ao;
  ao.socket_path = opt.socket;
  vsm::ApiServer api(supervisor, ao);
  if (auto r = api.start(); !r.ok()) {
    slow.stop();
    eswitch.stop();
    return abort_start(r.error());
  }
  log::info("vfswitchd", "ready: driver {}, {} port(s), socket {}", eswitch.driver_name(),
            eswitch.ports().size(), opt.socket);
  report(ready_fd, "ready");

  for (;;) {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (sig == SIGHUP) continue;
    log::info("vfswitchd", "signal {}: shutting down", sig);
    break;
  }
  api.stop();
  slow.stop();
  engine.stop();  // removes every rule it installed
  eswitch.stop();
  log::info("vfswitchd", "stopped");
  return 0;
}
