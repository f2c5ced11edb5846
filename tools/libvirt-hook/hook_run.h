// tools/libvirt-hook/hook_run.h owns what the hook does for one libvirt call
// (`/etc/libvirt/hooks/qemu.d/vfswitch NAME OP SUBOP -`, the domain XML on stdin), given
// a SwitchApi to the daemon (a fake in tests):
//
//   prepare begin    attach every vfswitch interface (before QEMU starts, so the first
//                    packet is policed). Fail closed: malformed XML, an interface that
//                    cannot be resolved, or any attach the daemon refuses (daemon down,
//                    profile missing or disabled, max-ports, VF taken) -> the ones
//                    attached so far are detached and the hook exits 1 with one line.
//   release end      detach the domain's VFs that are still bound to this VM's vNICs (a VF
//                    now bound to someone else is left alone: libvirt also runs release
//                    after a refused prepare). Failures are logged; exit 0, since libvirt
//                    ignores it.
//   migrate begin    (destination) checks the XML and prints it back unchanged: nothing
//                    in it is host-specific for vfswitch. Refuses (exit 1) what prepare
//                    would refuse without asking the daemon.
//   reconnect begin  (libvirtd restarted) re-attaches what the XML says; attach is
//                    idempotent for the same vNIC. Failures are logged, exit 0: refusing
//                    would make libvirt kill a running guest, while a VF the daemon has
//                    not bound already forwards nothing.
//   anything else    exit 0, silently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "tools/libvirt-hook/domain_xml.h"
#include "tools/libvirt-hook/hook_config.h"
#include "tools/libvirt-hook/vfswitch_ports.h"

namespace vfs::tools::libvirt {

struct AttachSpec {
  int vf = -1;
  std::string profile;
  std::string vm;
  std::string vm_uuid;
  std::string mac;
};

// One attached vEthernet as the daemon reports it (`show interface virtual | json`).
struct Binding {
  int vf = -1;
  uint32_t veth = 0;
  std::string vm;
  std::string vm_uuid;
  std::string mac;
  std::string profile;
};

// The daemon's side of the hook; each call bounded in time by the implementation.
class SwitchApi {
 public:
  virtual ~SwitchApi() = default;
  virtual Result<uint32_t> attach(const AttachSpec& spec) = 0;  // the vEthernet number
  virtual Result<void> detach(int vf) = 0;
  virtual Result<std::vector<Binding>> bindings() = 0;
};

struct HookCall {
  std::string domain;  // argv[1]
  std::string op;      // argv[2]
  std::string subop;   // argv[3]
};

struct HookOutcome {
  int exit_code = 0;
  std::string stdout_text;       // what libvirt reads back (migrate: the XML)
  std::string error;             // one line for stderr when exit_code != 0
  std::vector<std::string> log;  // what happened, for the hook log
};

// Whether the hook acts on (op, subop) at all.
bool hook_acts_on(const HookCall& call);

HookOutcome run_hook(const HookCall& call, std::string_view xml, const HookConfig& config,
                     const VfDirectory& vfs, SwitchApi& api);

// Whether binding b is vNIC `port` of `domain` (UUID when both have one, else VM name;
// and MAC when both have one).
bool bound_to(const Binding& b, const DomainXml& domain, const VfswitchPort& port);

}  // namespace vfs::tools::libvirt
