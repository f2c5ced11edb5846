// tools/libvirt-hook/hook_main.cpp: vfswitch-libvirt-hook, installed as
// /etc/libvirt/hooks/qemu.d/vfswitch. libvirt runs it as `vfswitch NAME OP SUBOP EXTRA`
// with the domain XML on stdin; what it does per call is hook_run.h. This file only reads
// argv, the config and stdin under one deadline, and reports: stdout for libvirt, one
// line on stderr when it refuses, everything in the hook log. It never calls libvirt
// (that deadlocks libvirtd).
#include <poll.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/core.h>

#include "tools/common/api_client.h"
#include "tools/libvirt-hook/daemon_switch_api.h"
#include "tools/libvirt-hook/hook_log.h"
#include "tools/libvirt-hook/hook_run.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace vfs::tools::libvirt;

constexpr size_t kMaxXml = 64u << 20;

// The last resort against a hook that would hang libvirtd: past the deadline (plus a
// grace for reporting), say so and exit. Prepared before arming: the handler may only
// call async-signal-safe functions.
char g_alarm_message[160];

void on_alarm(int) {
  (void)!::write(STDERR_FILENO, g_alarm_message, std::strlen(g_alarm_message));
  ::_exit(1);
}

void arm_alarm(std::chrono::milliseconds timeout) {
  std::snprintf(g_alarm_message, sizeof(g_alarm_message),
                "vfswitch: no answer within %lld ms (VFSWITCH_HOOK_TIMEOUT); giving up\n",
                static_cast<long long>(timeout.count()));
  struct sigaction sa {};
  sa.sa_handler = on_alarm;
  ::sigaction(SIGALRM, &sa, nullptr);
  const long long ms = timeout.count() + 500;
  itimerval t{};
  t.it_value.tv_sec = static_cast<time_t>(ms / 1000);
  t.it_value.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  ::setitimer(ITIMER_REAL, &t, nullptr);
}

// All of stdin (libvirt writes the XML and closes it), within the deadline.
vfs::Result<std::string> read_stdin(Clock::time_point deadline) {
  std::string xml;
  char buf[65536];
  while (true) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0)
      return vfs::make_error(ETIMEDOUT, "the domain XML did not arrive on stdin in time");
    pollfd p{STDIN_FILENO, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return vfs::make_error(errno, "reading stdin: {}", std::strerror(errno));
    if (r == 0) continue;
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return vfs::make_error(errno, "reading stdin: {}", std::strerror(errno));
    if (n == 0) return xml;
    xml.append(buf, static_cast<size_t>(n));
    if (xml.size() > kMaxXml)
      return vfs::make_error(EFBIG, "the domain XML on stdin is over {} bytes", kMaxXml);
  }
}

int run(int argc, char** argv) {
  const auto start = Clock::now();
  if (argc < 4) {
    std::fprintf(stderr,
                 "vfswitch: usage: %s NAME OP SUBOP [EXTRA] < domain.xml (run by libvirt as "
                 "/etc/libvirt/hooks/qemu.d/vfswitch)\n",
                 argc > 0 ? argv[0] : "vfswitch-libvirt-hook");
    return 2;
  }
  const HookCall call{argv[1], argv[2], argv[3]};

  auto config = load_hook_config([](const char* k) { return std::getenv(k); });
  const auto timeout = config ? config->timeout : std::chrono::milliseconds(5000);
  const auto deadline = start + timeout;
  arm_alarm(timeout);

  // Read stdin even when not acting on it, so that libvirt's write never meets a closed pipe.
  auto xml = read_stdin(deadline);
  if (!hook_acts_on(call)) return 0;

  HookLog log(config ? config->log : kDefaultHookLog,
              call.domain + " " + call.op + " " + call.subop);
  const bool fail_closed = call.op == "prepare" || call.op == "migrate";
  auto give_up = [&](const std::string& why) {
    log.write((fail_closed ? "refused: " : "") + why);
    if (!fail_closed) return 0;
    std::fprintf(stderr, "vfswitch: %s\n", why.c_str());
    return 1;
  };
  if (!config) return give_up(config.error().message);
  if (!xml) return give_up(xml.error().message);

  const VfDirectory vfs = read_vf_directory(*config);
  DaemonSwitchApi api(config->socket.empty() ? vfs::tools::kDefaultSocket : config->socket,
                      deadline);
  HookOutcome out = run_hook(call, *xml, *config, vfs, api);
  for (const auto& line : out.log) log.write(line);
  if (!out.stdout_text.empty()) {
    std::fwrite(out.stdout_text.data(), 1, out.stdout_text.size(), stdout);
    std::fflush(stdout);
  }
  if (out.exit_code != 0) std::fprintf(stderr, "vfswitch: %s\n", out.error.c_str());
  return out.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    // A bug; still one line for libvirt, and non-zero so a VM does not start unpoliced.
    std::fprintf(stderr, "vfswitch: internal error: %s\n", e.what());
    return 1;
  }
}
