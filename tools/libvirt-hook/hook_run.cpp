#include "tools/libvirt-hook/hook_run.h"

#include <algorithm>

#include <fmt/core.h>

namespace vfs::tools::libvirt {
namespace {

// libvirt quotes the hook's stderr in its error; keep it to one line.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

std::string lower_case(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string port_text(const DomainXml& d, const VfswitchPort& p) {
  return fmt::format("VM {} interface {}{}{} on {}", d.name, p.position,
                     p.mac.empty() ? "" : " (MAC ", p.mac.empty() ? "" : p.mac + ")", p.device);
}

HookOutcome refuse(HookOutcome out, std::string why) {
  out.exit_code = 1;
  out.error = one_line(std::move(why));
  out.log.push_back("refused: " + out.error);
  return out;
}

HookOutcome prepare(const DomainXml& d, const std::vector<VfswitchPort>& ports, SwitchApi& api) {
  HookOutcome out;
  std::vector<const VfswitchPort*> attached;
  for (const VfswitchPort& p : ports) {
    auto n = api.attach({p.vf, p.profile, d.name, d.uuid, p.mac});
    if (!n) {
      // Undo, newest first, so that a refused start leaves nothing bound.
      std::string undone;
      for (auto it = attached.rbegin(); it != attached.rend(); ++it) {
        auto r = api.detach((*it)->vf);
        out.log.push_back(
            r ? fmt::format("rolled back: detached VF {}", (*it)->vf)
              : fmt::format("roll back of VF {} failed: {}", (*it)->vf, r.error().message));
      }
      if (!attached.empty())
        undone = fmt::format(" (the {} attached before were detached)", attached.size());
      return refuse(std::move(out), fmt::format("{}, port-profile {}: {}{}", port_text(d, p),
                                                p.profile, n.error().message, undone));
    }
    attached.push_back(&p);
    out.log.push_back(fmt::format("{} -> Vethernet{}, port-profile {} ({})", port_text(d, p), *n,
                                  p.profile, p.profile_source));
  }
  return out;
}

HookOutcome release(const DomainXml& d, const std::vector<VfswitchPort>& ports, SwitchApi& api) {
  HookOutcome out;
  auto bound = api.bindings();
  if (!bound) {
    out.log.push_back(fmt::format("VM {}: cannot read the bindings, detached nothing: {}", d.name,
                                  bound.error().message));
    return out;
  }
  for (const VfswitchPort& p : ports) {
    auto b =
        std::find_if(bound->begin(), bound->end(), [&](const Binding& x) { return x.vf == p.vf; });
    if (b == bound->end()) {
      out.log.push_back(fmt::format("{}: not attached", port_text(d, p)));
      continue;
    }
    if (!bound_to(*b, d, p)) {
      out.log.push_back(fmt::format("{}: bound to Vethernet{} of VM {} (MAC {}), left alone",
                                    port_text(d, p), b->veth, b->vm.empty() ? b->vm_uuid : b->vm,
                                    b->mac.empty() ? "-" : b->mac));
      continue;
    }
    auto r = api.detach(p.vf);
    out.log.push_back(r ? fmt::format("{}: detached Vethernet{}", port_text(d, p), b->veth)
                        : fmt::format("{}: detach failed: {}", port_text(d, p), r.error().message));
  }
  return out;
}

HookOutcome reconnect(const DomainXml& d, const std::vector<VfswitchPort>& ports, SwitchApi& api) {
  HookOutcome out;
  for (const VfswitchPort& p : ports) {
    auto n = api.attach({p.vf, p.profile, d.name, d.uuid, p.mac});
    out.log.push_back(
        n ? fmt::format("{}: Vethernet{}, port-profile {}", port_text(d, p), *n, p.profile)
          : fmt::format("{}: re-attach to port-profile {} failed: {}", port_text(d, p), p.profile,
                        n.error().message));
  }
  return out;
}

}  // namespace

bool hook_acts_on(const HookCall& c) {
  return (c.op == "prepare" && c.subop == "begin") || (c.op == "release" && c.subop == "end") ||
         (c.op == "migrate" && c.subop == "begin") || (c.op == "reconnect" && c.subop == "begin");
}

bool bound_to(const Binding& b, const DomainXml& d, const VfswitchPort& p) {
  if (!d.uuid.empty() && !b.vm_uuid.empty()) {
    if (lower_case(b.vm_uuid) != d.uuid) return false;
  } else if (b.vm != d.name) {
    return false;
  }
  if (!p.mac.empty() && !b.mac.empty() && lower_case(b.mac) != p.mac) return false;
  return true;
}

HookOutcome run_hook(const HookCall& call, std::string_view xml, const HookConfig& config,
                     const VfDirectory& vfs, SwitchApi& api) {
  HookOutcome out;
  if (!hook_acts_on(call)) return out;
  const bool fail_closed = call.op == "prepare" || call.op == "migrate";

  auto domain = parse_domain_xml(xml);
  if (!domain) {
    if (fail_closed)
      return refuse(std::move(out), "domain " + call.domain + ": " + domain.error().message);
    out.log.push_back("domain " + call.domain + ": " + domain.error().message);
    return out;
  }
  if (domain->name != call.domain)
    out.log.push_back(
        fmt::format("note: libvirt named the domain {}, its XML {}", call.domain, domain->name));

  const PortCheck check = call.op == "release" ? PortCheck::devices_only : PortCheck::strict;
  auto ports = vfswitch_ports(*domain, config, vfs, check);
  if (!ports) {
    if (fail_closed) return refuse(std::move(out), ports.error().message);
    out.log.push_back(ports.error().message);
    return out;
  }

  if (call.op == "migrate") {
    out.stdout_text = std::string(xml);
    out.log.push_back(fmt::format("VM {}: {} vfswitch interface(s); XML passed back unchanged",
                                  domain->name, ports->size()));
    return out;
  }
  if (ports->empty()) {
    if (call.op == "prepare")
      out.log.push_back(fmt::format("VM {}: no vfswitch interface", domain->name));
    return out;
  }
  if (call.op == "prepare") return prepare(*domain, *ports, api);
  if (call.op == "release") return release(*domain, *ports, api);
  return reconnect(*domain, *ports, api);
}

}  // namespace vfs::tools::libvirt
