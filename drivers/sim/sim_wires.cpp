#include "drivers/sim/sim_wires.h"

#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "base/log.h"
#include "drivers/eswitch.h"
#include "drivers/sim/sim_eswitch.h"

namespace vfs::drivers::sim {
namespace {

constexpr int kMaxVfs = 9999;  // "<8 chars>vf9999s" is 15 characters, IFNAMSIZ - 1

class NlSocket {
 public:
  NlSocket() = default;
  NlSocket(const NlSocket&) = delete;
  NlSocket& operator=(const NlSocket&) = delete;
  ~NlSocket() {
    if (sk_) nl_socket_free(sk_);
  }
  Result<void> open() {
    sk_ = nl_socket_alloc();
    if (!sk_) return make_error(ENOMEM, "sim wires: cannot allocate a netlink socket");
    if (int err = nl_connect(sk_, NETLINK_ROUTE); err < 0)
      return make_error(EIO, "sim wires: cannot open rtnetlink: {}", nl_geterror(err));
    return ok();
  }
  nl_sock* get() const { return sk_; }

 private:
  nl_sock* sk_ = nullptr;
};

struct LinkDeleter {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkDeleter>;

// The link named `name` in this network namespace, or null if there is none.
Result<LinkPtr> find_link(nl_sock* sk, const std::string& name) {
  rtnl_link* link = nullptr;
  const int err = rtnl_link_get_kernel(sk, 0, name.c_str(), &link);
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return LinkPtr{};
  if (err < 0)
    return make_error(EIO, "sim wire {}: cannot read the link: {}", name, nl_geterror(err));
  return LinkPtr{link};
}

std::string alias_of(rtnl_link* l) {
  const char* a = rtnl_link_get_ifalias(l);
  return a ? a : "";
}

Result<void> create_veth(nl_sock* sk, const Wire& w) {
  rtnl_link* link = rtnl_link_veth_alloc();
  if (!link) return make_error(ENOMEM, "sim wire {}: cannot allocate a veth", w.vm_end);
  rtnl_link_set_name(link, w.vm_end.c_str());
  rtnl_link* peer = rtnl_link_veth_get_peer(link);
  rtnl_link_set_name(peer, w.switch_end.c_str());
  rtnl_link_put(peer);
  const int err = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
  rtnl_link_veth_release(link);
  if (err < 0)
    return make_error(EIO, "sim wire {}/{}: cannot create the veth pair: {}", w.vm_end,
                      w.switch_end, nl_geterror(err));
  return ok();
}

// A persistent tap (no packet-info header), so that it outlives this process like a VF and
// QEMU can attach to it by name.
Result<void> create_tap(const std::string& name) {
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return make_error(errno, "sim wire {}: cannot open /dev/net/tun: {}", name,
                      std::strerror(errno));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  Result<void> out = ok();
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0)
    out = make_error(errno, "sim wire {}: cannot create the tap (TUNSETIFF): {}", name,
                     std::strerror(errno));
  else if (::ioctl(fd, TUNSETPERSIST, 1) < 0)
    out = make_error(errno, "sim wire {}: cannot make the tap persistent: {}", name,
                     std::strerror(errno));
  ::close(fd);
  return out;
}

Result<void> delete_link(nl_sock* sk, const std::string& name) {
  LinkPtr l{rtnl_link_alloc()};
  if (!l) return make_error(ENOMEM, "sim wire {}: out of memory", name);
  rtnl_link_set_name(l.get(), name.c_str());
  if (int err = rtnl_link_delete(sk, l.get());
      err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NODEV)
    return make_error(EIO, "sim wire {}: cannot delete it: {}", name, nl_geterror(err));
  return ok();
}

// Brings the link up, and tags it with `alias` unless that is empty.
Result<void> set_up(nl_sock* sk, const std::string& name, const std::string& alias) {
  auto orig = find_link(sk, name);
  if (!orig) return orig.error();
  if (!orig.value()) return make_error(ENODEV, "sim wire {}: disappeared", name);
  LinkPtr change{rtnl_link_alloc()};
  if (!change) return make_error(ENOMEM, "sim wire {}: out of memory", name);
  if (!alias.empty()) rtnl_link_set_ifalias(change.get(), alias.c_str());
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (int err = rtnl_link_change(sk, orig.value().get(), change.get(), 0); err < 0)
    return make_error(EIO, "sim wire {}: cannot bring it up: {}", name, nl_geterror(err));
  return ok();
}

// AF_PACKET hands the sim frames exactly as the kernel holds them: with checksum or
// segmentation offloads on, TCP over a wire would carry unfinished checksums and
// 64 KiB super-frames.
Result<void> disable_offloads(const std::string& dev) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(errno, "sim wire {}: socket: {}", dev, std::strerror(errno));
  struct Feature {
    uint32_t cmd;
    const char* name;
  };
  static constexpr Feature kFeatures[] = {
      {ETHTOOL_SGRO, "gro"}, {ETHTOOL_SGSO, "gso"},        {ETHTOOL_STSO, "tso"},
      {ETHTOOL_SSG, "sg"},   {ETHTOOL_STXCSUM, "tx-csum"}, {ETHTOOL_SRXCSUM, "rx-csum"},
  };
  Result<void> out = ok();
  for (const Feature& f : kFeatures) {
    ethtool_value ev{};
    ev.cmd = f.cmd;
    ev.data = 0;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = reinterpret_cast<char*>(&ev);
    if (::ioctl(fd, SIOCETHTOOL, &ifr) < 0 && errno != EOPNOTSUPP) {
      out = make_error(errno, "sim wire {}: cannot turn off {}: {}", dev, f.name,
                       std::strerror(errno));
      break;
    }
  }
  ::close(fd);
  return out;
}

// The host must not talk into the switch: with IPv6 on, the switch end would send router
// solicitations and MLD reports that the sim reads as frames from the VM.
void disable_ipv6(const std::string& dev) {
  const std::string path = "/proc/sys/net/ipv6/conf/" + dev + "/disable_ipv6";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;  // no IPv6 in this kernel
  if (::write(fd, "1\n", 2) != 2)
    log::warn("sim", "wire {}: cannot disable IPv6: {}", dev, std::strerror(errno));
  ::close(fd);
}

Result<void> configure(nl_sock* sk, const Wire& w, const std::string& alias) {
  if (auto r = disable_offloads(w.switch_end); !r) return r;
  disable_ipv6(w.switch_end);
  if (auto r = set_up(sk, w.switch_end, alias); !r) return r;
  if (w.created && w.kind == WireKind::veth) {
    if (auto r = disable_offloads(w.vm_end); !r) return r;
    if (auto r = set_up(sk, w.vm_end, ""); !r) return r;
  }
  return ok();
}

// "<name>vf<digits>": the name of a VF's tap wire (or of a veth wire's VM end).
bool is_vf_name_of(const std::string& dev, const std::string& sim_name) {
  if (dev.rfind(sim_name + "vf", 0) != 0 || dev.size() < sim_name.size() + 3) return false;
  return dev.find_first_not_of("0123456789", sim_name.size() + 2) == std::string::npos;
}

const char* type_of(rtnl_link* l) {
  const char* t = rtnl_link_get_type(l);
  return t ? t : "";
}

// Checks the names of one wire; sets w.created if it is to be made.
Result<void> check_wire(nl_sock* sk, const std::string& sim_name, const std::string& alias,
                        Wire& w) {
  const std::string remove_first = fmt::format(
      "remove the sim's wires first (vfswitchd --sim-teardown --sim-name {})", sim_name);
  if (w.kind == WireKind::tap) {
    auto tap = find_link(sk, w.switch_end);
    if (!tap) return tap.error();
    if (tap.value()) {
      rtnl_link* l = tap.value().get();
      if (alias_of(l) == alias) {
        if (std::strcmp(type_of(l), "tun") != 0)
          return make_error(EEXIST, "sim {}: interface {} carries our alias but is not a tap",
                            sim_name, w.switch_end);
        w.created = false;
        return ok();
      }
      auto peer = find_link(sk, w.switch_end + "s");
      if (!peer) return peer.error();
      if (peer.value() && alias_of(peer.value().get()) == alias)
        return make_error(EEXIST,
                          "sim {}: interface {} is the VM end of a veth wire of this sim, and "
                          "this VF is asked to be a tap; {}",
                          sim_name, w.switch_end, remove_first);
      return make_error(EEXIST,
                        "sim {}: interface {} exists and is not a wire of this sim (ifalias "
                        "'{}', expected '{}'); remove it or choose another sim name",
                        sim_name, w.switch_end, alias_of(l), alias);
    }
    // The VM end of a veth wire may have gone into a namespace: look at its switch end.
    auto sw = find_link(sk, w.switch_end + "s");
    if (!sw) return sw.error();
    if (sw.value() && alias_of(sw.value().get()) == alias)
      return make_error(EEXIST,
                        "sim {}: {} has a veth wire (switch end {}s), and this VF is asked to "
                        "be a tap; {}",
                        sim_name, w.switch_end, w.switch_end, remove_first);
    w.created = true;
    return ok();
  }

  auto sw = find_link(sk, w.switch_end);
  if (!sw) return sw.error();
  if (sw.value()) {
    const std::string a = alias_of(sw.value().get());
    if (a != alias)
      return make_error(EEXIST,
                        "sim {}: interface {} exists and is not a wire of this sim (ifalias '{}', "
                        "expected '{}'); remove it or choose another sim name",
                        sim_name, w.switch_end, a, alias);
    if (std::strcmp(type_of(sw.value().get()), "veth") != 0)
      return make_error(EEXIST, "sim {}: interface {} carries our alias but is not a veth",
                        sim_name, w.switch_end);
    w.created = false;
    return ok();
  }
  auto vm = find_link(sk, w.vm_end);
  if (!vm) return vm.error();
  if (vm.value()) {
    if (alias_of(vm.value().get()) == alias)
      return make_error(EEXIST,
                        "sim {}: interface {} is a tap wire of this sim, and this VF is asked to "
                        "be a veth pair; {}",
                        sim_name, w.vm_end, remove_first);
    return make_error(EEXIST,
                      "sim {}: interface {} exists but its switch end {} does not; remove it or "
                      "choose another sim name",
                      sim_name, w.vm_end, w.switch_end);
  }
  w.created = true;
  return ok();
}

bool is_switch_end_of(const std::string& dev, const std::string& sim_name) {
  if (dev.rfind(sim_name, 0) != 0 || dev.size() < sim_name.size() + 3 || dev.back() != 's')
    return false;
  const std::string mid = dev.substr(sim_name.size(), dev.size() - sim_name.size() - 1);
  if (mid == "up") return true;
  if (mid.size() < 3 || mid.rfind("vf", 0) != 0) return false;
  return mid.find_first_not_of("0123456789", 2) == std::string::npos;
}

}  // namespace

std::string wire_alias(const std::string& sim_name) { return "vfswitch-sim:" + sim_name; }

std::vector<Wire> wire_names(const std::string& sim_name, int vfs,
                             const std::vector<int>& tap_vfs) {
  const bool all_taps = std::find(tap_vfs.begin(), tap_vfs.end(), kSimAllVfs) != tap_vfs.end();
  std::vector<Wire> out;
  out.push_back({sim_name + "up", sim_name + "ups", WireKind::veth, false});
  for (int i = 0; i < vfs; ++i) {
    const std::string vm = fmt::format("{}vf{}", sim_name, i);
    if (all_taps || std::find(tap_vfs.begin(), tap_vfs.end(), i) != tap_vfs.end())
      out.push_back({vm, vm, WireKind::tap, false});
    else
      out.push_back({vm, vm + "s", WireKind::veth, false});
  }
  return out;
}

Result<void> check_tap_vfs(const std::string& sim_name, int vfs, const std::vector<int>& tap_vfs) {
  for (int i : tap_vfs)
    if (i != kSimAllVfs && (i < 0 || i >= vfs))
      return make_error(EINVAL, "sim {}: tap VF {} is out of range (it has VFs 0..{})", sim_name, i,
                        vfs - 1);
  return ok();
}

Result<std::vector<Wire>> open_wires(const std::string& sim_name, int vfs,
                                     const std::vector<int>& tap_vfs) {
  if (auto r = validate_sim_name(sim_name); !r) return r.error();
  if (vfs < 0 || vfs > kMaxVfs)
    return make_error(EINVAL, "sim {}: {} VFs is out of range 0..{}", sim_name, vfs, kMaxVfs);
  if (auto r = check_tap_vfs(sim_name, vfs, tap_vfs); !r) return r.error();
  NlSocket sk;
  if (auto r = sk.open(); !r) return r.error();
  const std::string alias = wire_alias(sim_name);
  std::vector<Wire> wires = wire_names(sim_name, vfs, tap_vfs);

  // Check every name before creating anything.
  for (Wire& w : wires)
    if (auto r = check_wire(sk.get(), sim_name, alias, w); !r) return r.error();

  std::vector<Wire> done;  // created so far, for the rollback
  auto fail = [&](Error e) -> Result<std::vector<Wire>> {
    delete_created_wires(done);
    return e;
  };
  for (const Wire& w : wires) {
    if (w.created) {
      auto r = w.kind == WireKind::tap ? create_tap(w.switch_end) : create_veth(sk.get(), w);
      if (!r) return fail(r.error());
      done.push_back(w);
    }
    if (auto r = configure(sk.get(), w, alias); !r) return fail(r.error());
  }
  for (const Wire& w : wires) {
    if (w.kind == WireKind::tap)
      log::info("sim", "wire {} (tap) {}", w.vm_end, w.created ? "created" : "adopted");
    else
      log::info("sim", "wire {} <-> {} {}", w.vm_end, w.switch_end,
                w.created ? "created" : "adopted");
  }
  return wires;
}

void delete_created_wires(const std::vector<Wire>& wires) {
  NlSocket sk;
  if (auto r = sk.open(); !r) {
    log::error("sim", "{}", r.error().message);
    return;
  }
  for (const Wire& w : wires)
    if (w.created)
      if (auto r = delete_link(sk.get(), w.switch_end); !r)
        log::error("sim", "{}", r.error().message);
}

}  // namespace vfs::drivers::sim

namespace vfs::drivers {

Result<void> validate_sim_name(const std::string& sim_name) {
  const bool ok_chars = std::all_of(sim_name.begin(), sim_name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
  if (sim_name.empty() || sim_name.size() > 8 || !ok_chars)
    return make_error(EINVAL,
                      "sim name '{}' is invalid: use 1 to 8 characters of a-z and 0-9 (interface "
                      "names '<name>vf<i>s' must fit in 15 characters)",
                      sim_name);
  return ok();
}

Result<void> remove_sim_wires(const std::string& sim_name, int vfs) {
  if (auto r = validate_sim_name(sim_name); !r) return r;
  if (vfs < 0) return make_error(EINVAL, "sim {}: {} VFs is negative", sim_name, vfs);
  sim::NlSocket sk;
  if (auto r = sk.open(); !r) return r;
  const std::string alias = sim::wire_alias(sim_name);

  nl_cache* cache = nullptr;
  if (int err = rtnl_link_alloc_cache(sk.get(), AF_UNSPEC, &cache); err < 0)
    return make_error(EIO, "sim {}: cannot list links: {}", sim_name, nl_geterror(err));
  std::vector<std::string> ours, foreign;
  for (nl_object* o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
    auto* l = reinterpret_cast<rtnl_link*>(o);
    const char* n = rtnl_link_get_name(l);
    if (!n) continue;
    if (sim::is_vf_name_of(n, sim_name)) {
      // A tap wire carries the alias itself; a veth wire's VM end carries none.
      if (sim::alias_of(l) == alias) ours.push_back(n);
      continue;
    }
    if (!sim::is_switch_end_of(n, sim_name)) continue;
    (sim::alias_of(l) == alias ? ours : foreign).push_back(n);
  }
  nl_cache_free(cache);

  std::vector<std::string> errors;
  for (const std::string& n : ours)
    if (auto r = sim::delete_link(sk.get(), n); !r) errors.push_back(r.error().message);
  // Foreign links matter only under the names this sim would use.
  for (const sim::Wire& w : sim::wire_names(sim_name, vfs))
    if (std::find(foreign.begin(), foreign.end(), w.switch_end) != foreign.end())
      errors.push_back(
          fmt::format("interface {} is not a wire of sim {} (no ifalias '{}'); left alone",
                      w.switch_end, sim_name, alias));
  if (!ours.empty()) log::info("sim", "removed {} wires of sim {}", ours.size(), sim_name);
  if (!errors.empty())
    return make_error(EEXIST, "sim {}: {}", sim_name, fmt::format("{}", fmt::join(errors, "; ")));
  return ok();
}

}  // namespace vfs::drivers
