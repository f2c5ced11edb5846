// The access-list rows of the command table: `ip access-list` / `ipv6 access-list` /
// `mac access-list` and their entries, resequence, and the port-profile and interface
// filters that use them (their show rows are in cli_show_acl.cpp).
#include <fmt/core.h>
#include <fmt/format.h>

#include "vsm/cli_commands.h"
#include "vsm/command_rows.h"

namespace vfs::vsm {
namespace {

constexpr uint32_t kMaxAclNameLen = 64;

AclFamily family_of(Mode m) {
  return m == Mode::config_ipv6_acl  ? AclFamily::ipv6
         : m == Mode::config_mac_acl ? AclFamily::mac
                                     : AclFamily::ipv4;
}
Mode mode_of(AclFamily f) {
  return f == AclFamily::ipv6  ? Mode::config_ipv6_acl
         : f == AclFamily::mac ? Mode::config_mac_acl
                               : Mode::config_acl;
}

std::string_view family_title(AclFamily f) {
  return f == AclFamily::ipv6 ? "IPv6" : f == AclFamily::mac ? "MAC" : "IPv4";
}

Result<AccessList*> current_acl(CommandContext& c) {
  AclFamily f = family_of(c.session.mode);
  auto& acls = c.model.acls(f);
  auto it = acls.find(c.session.acl);
  if (it == acls.end())
    return refuse("{} access-list {} no longer exists", acl_family_keyword(f), c.session.acl);
  return &it->second;
}

Result<CommandOutput> add_entry(CommandContext& c, std::optional<uint32_t> seq, bool permit,
                                const std::string& text) {
  auto acl = current_acl(c);
  if (!acl) return acl.error();
  AccessList& a = **acl;
  auto e = parse_acl_entry(permit, text, a.family);
  if (!e) return e.error();
  uint32_t n = 0;
  if (seq) {
    n = *seq;
    if (a.entries.contains(n))
      return refuse("entry {} of {} access-list {} already exists (remove it with 'no {}')", n,
                    acl_family_keyword(a.family), a.name, n);
  } else {
    uint64_t next =
        a.entries.empty() ? kAclSeqStep : uint64_t{a.entries.rbegin()->first} + kAclSeqStep;
    if (next > kMaxAclSeq)
      return refuse("{} access-list {} has no sequence number left after {}",
                    acl_family_keyword(a.family), a.name, a.entries.rbegin()->first);
    n = static_cast<uint32_t>(next);
  }
  a.entries[n] = *e;
  return done();
}

Result<CommandOutput> delete_acl(CommandContext& c, AclFamily f, const std::string& name) {
  auto& acls = c.model.acls(f);
  if (!acls.contains(name))
    return refuse("{} access-list {} does not exist", acl_family_keyword(f), name);
  auto users = c.model.users_of_acl(f, name);
  if (!users.empty())
    return refuse("{} access-list {} is in use by {}", acl_family_keyword(f), name,
                  fmt::join(users, ", "));
  acls.erase(name);
  return done();
}

// The field a filter command sets.
std::string& filter_slot(PortPolicy& p, AclFamily f, bool in) {
  if (f == AclFamily::ipv6) return in ? p.ipv6_acl_in : p.ipv6_acl_out;
  if (f == AclFamily::mac) return in ? p.mac_acl_in : p.mac_acl_out;
  return in ? p.ip_acl_in : p.ip_acl_out;
}

Result<CommandOutput> set_filter(CommandContext& c, AclFamily f, bool in, const std::string* name) {
  auto policy = current_port_policy(c);
  if (!policy) return policy.error();
  std::string& slot = filter_slot(**policy, f, in);
  if (!name) {
    slot.clear();
    return done();
  }
  if (!c.model.acls(f).contains(*name))
    return refuse("{} access-list {} does not exist", acl_family_keyword(f), *name);
  slot = *name;
  return done();
}

}  // namespace

std::vector<CommandSpec> acl_command_rows() {
  const ModeSet config = in_mode(Mode::config);
  const ModeSet acl =
      in_mode(Mode::config_acl) | in_mode(Mode::config_ipv6_acl) | in_mode(Mode::config_mac_acl);
  const ModeSet port = in_mode(Mode::config_port_prof) | in_mode(Mode::config_if);
  std::vector<CommandSpec> rows;

  for (AclFamily f : {AclFamily::ipv4, AclFamily::ipv6, AclFamily::mac}) {
    const std::string kw(acl_family_keyword(f));
    const std::string fam(family_title(f));
    rows.push_back(row(config,
                       {keyword(kw), keyword("access-list"), word_arg("NAME", kMaxAclNameLen)},
                       fmt::format("Create an access list of {} entries (or edit it)", fam),
                       [f](CommandContext& c) -> Result<CommandOutput> {
                         const std::string& name = c.args[0].text;
                         auto& acls = c.model.acls(f);
                         if (!acls.contains(name)) acls[name] = AccessList{name, f, false, {}};
                         c.session.enter(mode_of(f));
                         c.session.acl = name;
                         return done();
                       }));
    rows.push_back(
        row(config,
            {keyword("no"), keyword(kw), keyword("access-list"), word_arg("NAME", kMaxAclNameLen)},
            fmt::format("Delete an access list of {} entries that nothing uses", fam),
            [f](CommandContext& c) { return delete_acl(c, f, c.args[0].text); }));
    rows.push_back(
        row(config,
            {keyword("resequence"), keyword(kw), keyword("access-list"),
             word_arg("NAME", kMaxAclNameLen), number_arg("START", 1, kMaxAclSeq),
             number_arg("STEP", 1, kMaxAclSeq)},
            fmt::format("Renumber the entries of an access list of {} entries", fam),
            [f](CommandContext& c) -> Result<CommandOutput> {
              auto& acls = c.model.acls(f);
              auto it = acls.find(c.args[0].text);
              if (it == acls.end())
                return refuse("{} access-list {} does not exist", acl_family_keyword(f),
                              c.args[0].text);
              if (auto r = resequence_acl(it->second, c.args[1].number, c.args[2].number); !r)
                return r.error();
              return done();
            }));
  }

  for (bool permit : {true, false}) {
    const char* verb = permit ? "permit" : "deny";
    const ModeSet ip_acl = in_mode(Mode::config_acl) | in_mode(Mode::config_ipv6_acl);
    const ModeSet mac_acl = in_mode(Mode::config_mac_acl);
    for (bool mac : {false, true}) {
      const std::string what =
          mac ? "SRC DST [ETHERTYPE]"
              : "PROTO SRC [PORTS] DST [PORTS] [ICMP-TYPE [CODE]] [established]";
      const std::string help = fmt::format("{} matching {}: {}", permit ? "Forward" : "Drop",
                                           mac ? "frames" : "packets", what);
      const std::string entry_help =
          mac ? "SRC DST [ETHERTYPE]; SRC/DST: any, host EEEE.EEEE.EEEE or EEEE.EEEE.EEEE MASK"
              : "PROTO SRC [PORTS] DST [PORTS] ...";
      rows.push_back(row(mac ? mac_acl : ip_acl,
                         {keyword(verb), text_arg("ENTRY", 200, entry_help)},
                         help + " (numbered 10 after the last entry)", [permit](CommandContext& c) {
                           return add_entry(c, std::nullopt, permit, c.args[0].text);
                         }));
      rows.push_back(row(mac ? mac_acl : ip_acl,
                         {number_arg("SEQ", 1, kMaxAclSeq, "Sequence number"), keyword(verb),
                          text_arg("ENTRY", 200, entry_help)},
                         help + " (at sequence number SEQ)", [permit](CommandContext& c) {
                           return add_entry(c, c.args[0].number, permit, c.args[1].text);
                         }));
    }
  }
  rows.push_back(row(
      acl, {keyword("no"), number_arg("SEQ", 1, kMaxAclSeq, "Sequence number")},
      "Remove the entry with this sequence number", [](CommandContext& c) -> Result<CommandOutput> {
        auto a = current_acl(c);
        if (!a) return a.error();
        if ((*a)->entries.erase(c.args[0].number) == 0)
          return refuse("{} access-list {} has no entry {}", acl_family_keyword((*a)->family),
                        (*a)->name, c.args[0].number);
        return done();
      }));
  for (bool on : {true, false}) {
    std::vector<TokenSpec> path{keyword("statistics"), keyword("per-entry")};
    if (!on) path.insert(path.begin(), keyword("no"));
    rows.push_back(row(acl, std::move(path),
                       on ? "Count the packets each entry matches" : "Stop counting per entry",
                       [on](CommandContext& c) -> Result<CommandOutput> {
                         auto a = current_acl(c);
                         if (!a) return a.error();
                         (*a)->statistics_per_entry = on;
                         return done();
                       }));
  }

  // Port-profile and interface filters. NX-OS's `mac port access-group NAME` filters
  // inbound; `in` / `out` may be said.
  for (AclFamily f : {AclFamily::ipv4, AclFamily::ipv6, AclFamily::mac}) {
    const std::string kw(acl_family_keyword(f));
    const std::string verb = f == AclFamily::ipv6 ? "traffic-filter" : "access-group";
    for (int dir_form = 0; dir_form < (f == AclFamily::mac ? 3 : 2); ++dir_form) {
      const bool in = dir_form != 1;
      const std::string what = in ? "from the VM" : "to the VM";
      std::vector<TokenSpec> path{keyword(kw), keyword("port"), keyword(verb),
                                  word_arg("NAME", kMaxAclNameLen)};
      if (dir_form < 2) path.push_back(keyword(in ? "in" : "out", fmt::format("Traffic {}", what)));
      std::vector<TokenSpec> no_path = path;
      no_path.insert(no_path.begin(), keyword("no"));
      rows.push_back(
          row(port, std::move(path), fmt::format("Filter traffic {} with this access list", what),
              [f, in](CommandContext& c) { return set_filter(c, f, in, &c.args[0].text); }));
      rows.push_back(row(port, std::move(no_path), fmt::format("Stop filtering traffic {}", what),
                         [f, in](CommandContext& c) -> Result<CommandOutput> {
                           auto policy = current_port_policy(c);
                           if (!policy) return policy.error();
                           if (filter_slot(**policy, f, in) != c.args[0].text)
                             return refuse("{} does not filter {} with {}", port_policy_owner(c),
                                           in ? "in" : "out", c.args[0].text);
                           return set_filter(c, f, in, nullptr);
                         }));
    }
  }
  return rows;
}

}  // namespace vfs::vsm
