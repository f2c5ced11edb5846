// The access-list rows of the command table: `ip access-list` / `ipv6 access-list` and
// their entries, resequence, the port-profile filters that use them, and their show
// commands.
#include <fmt/core.h>
#include <fmt/format.h>

#include "vsm/cli_commands.h"

namespace vfs::vsm {
namespace {

constexpr uint32_t kMaxAclNameLen = 64;

template <class... A>
Error refuse(fmt::format_string<A...> f, A&&... a) {
  return make_error(EINVAL, f, std::forward<A>(a)...);
}

CommandSpec row(ModeSet modes, std::vector<TokenSpec> path, std::string help, CommandHandler h) {
  return CommandSpec{modes, std::move(path), std::move(help), false, std::move(h)};
}

Result<CommandOutput> done() { return CommandOutput{}; }

AclFamily family_of(Mode m) {
  return m == Mode::config_ipv6_acl ? AclFamily::ipv6 : AclFamily::ipv4;
}
Mode mode_of(AclFamily f) {
  return f == AclFamily::ipv6 ? Mode::config_ipv6_acl : Mode::config_acl;
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
  auto users = c.model.profiles_using_acl(f, name);
  if (!users.empty())
    return refuse("{} access-list {} is in use by port-profile {}", acl_family_keyword(f), name,
                  fmt::join(users, ", "));
  acls.erase(name);
  return done();
}

// The profile field a filter command sets.
std::string& filter_slot(PortProfile& p, AclFamily f, bool in) {
  if (f == AclFamily::ipv6) return in ? p.ipv6_acl_in : p.ipv6_acl_out;
  return in ? p.ip_acl_in : p.ip_acl_out;
}

Result<CommandOutput> set_filter(CommandContext& c, AclFamily f, bool in, const std::string* name) {
  auto it = c.model.profiles.find(c.session.profile);
  if (it == c.model.profiles.end())
    return refuse("port-profile {} no longer exists", c.session.profile);
  std::string& slot = filter_slot(it->second, f, in);
  if (!name) {
    slot.clear();
    return done();
  }
  if (!c.model.acls(f).contains(*name))
    return refuse("{} access-list {} does not exist", acl_family_keyword(f), *name);
  slot = *name;
  return done();
}

CommandSpec show_row(std::vector<TokenSpec> path, std::string help, CommandHandler h) {
  path.insert(path.begin(), keyword("show", "Show running system information"));
  return CommandSpec{in_mode(Mode::exec), std::move(path), std::move(help), true, std::move(h)};
}

Result<CommandOutput> show_acls(CommandContext& c, AclFamily f, const std::string* name) {
  const auto& acls = c.model.acls(f);
  if (name && !acls.contains(*name))
    return refuse("{} access-list {} does not exist", acl_family_keyword(f), *name);
  CommandOutput out;
  out.data = nlohmann::json::array();
  for (const auto& [n, a] : acls) {
    if (name && n != *name) continue;
    out.text += fmt::format("{} access list {}\n", f == AclFamily::ipv6 ? "IPv6" : "IP", n);
    if (a.statistics_per_entry) out.text += "        statistics per-entry\n";
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& [seq, e] : a.entries) {
      std::string text = render_acl_entry(e, f);
      out.text += fmt::format("        {} {}\n", seq, text);
      entries.push_back({{"seq", seq}, {"entry", text}});
    }
    out.data.push_back({{"name", n},
                        {"statistics_per_entry", a.statistics_per_entry},
                        {"entries", entries},
                        {"used_by", c.model.profiles_using_acl(f, n)}});
    out.text += "\n";
  }
  return out;
}

}  // namespace

std::vector<CommandSpec> acl_command_rows() {
  const ModeSet config = in_mode(Mode::config);
  const ModeSet acl = in_mode(Mode::config_acl) | in_mode(Mode::config_ipv6_acl);
  const ModeSet prof = in_mode(Mode::config_port_prof);
  std::vector<CommandSpec> rows;

  for (AclFamily f : {AclFamily::ipv4, AclFamily::ipv6}) {
    const std::string kw(acl_family_keyword(f));
    const std::string fam = f == AclFamily::ipv6 ? "IPv6" : "IPv4";
    rows.push_back(
        row(config, {keyword(kw), keyword("access-list"), word_arg("NAME", kMaxAclNameLen)},
            fmt::format("Create an {} access list (or edit it) and enter its entries", fam),
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
            fmt::format("Delete an {} access list no port-profile uses", fam),
            [f](CommandContext& c) { return delete_acl(c, f, c.args[0].text); }));
    rows.push_back(
        row(config,
            {keyword("resequence"), keyword(kw), keyword("access-list"),
             word_arg("NAME", kMaxAclNameLen), number_arg("START", 1, kMaxAclSeq),
             number_arg("STEP", 1, kMaxAclSeq)},
            fmt::format("Renumber the entries of an {} access list", fam),
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
    const std::string help = fmt::format(
        "{} matching packets: PROTO SRC [PORTS] DST [PORTS] [ICMP-TYPE [CODE]] [established]",
        permit ? "Forward" : "Drop");
    rows.push_back(row(acl,
                       {keyword(verb), text_arg("ENTRY", 200, "PROTO SRC [PORTS] DST [PORTS] ...")},
                       help + " (numbered 10 after the last entry)", [permit](CommandContext& c) {
                         return add_entry(c, std::nullopt, permit, c.args[0].text);
                       }));
    rows.push_back(row(acl,
                       {number_arg("SEQ", 1, kMaxAclSeq, "Sequence number"), keyword(verb),
                        text_arg("ENTRY", 200, "PROTO SRC [PORTS] DST [PORTS] ...")},
                       help + " (at sequence number SEQ)", [permit](CommandContext& c) {
                         return add_entry(c, c.args[0].number, permit, c.args[1].text);
                       }));
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

  // Port-profile filters.
  for (AclFamily f : {AclFamily::ipv4, AclFamily::ipv6}) {
    const std::string kw(acl_family_keyword(f));
    const std::string verb = f == AclFamily::ipv6 ? "traffic-filter" : "access-group";
    for (bool in : {true, false}) {
      const std::string dir = in ? "in" : "out";
      const std::string what = in ? "from the VM" : "to the VM";
      rows.push_back(
          row(prof,
              {keyword(kw), keyword("port"), keyword(verb), word_arg("NAME", kMaxAclNameLen),
               keyword(dir)},
              fmt::format("Filter traffic {} with this access list", what),
              [f, in](CommandContext& c) { return set_filter(c, f, in, &c.args[0].text); }));
      rows.push_back(row(prof,
                         {keyword("no"), keyword(kw), keyword("port"), keyword(verb),
                          word_arg("NAME", kMaxAclNameLen), keyword(dir)},
                         fmt::format("Stop filtering traffic {}", what),
                         [f, in](CommandContext& c) -> Result<CommandOutput> {
                           auto it = c.model.profiles.find(c.session.profile);
                           if (it == c.model.profiles.end())
                             return refuse("port-profile {} no longer exists", c.session.profile);
                           if (filter_slot(it->second, f, in) != c.args[0].text)
                             return refuse("port-profile {} does not filter {} with {}",
                                           it->second.name, in ? "in" : "out", c.args[0].text);
                           return set_filter(c, f, in, nullptr);
                         }));
    }
    rows.push_back(show_row({keyword(kw), keyword("access-lists")},
                            fmt::format("Show every {} access list", kw),
                            [f](CommandContext& c) { return show_acls(c, f, nullptr); }));
    rows.push_back(
        show_row({keyword(kw), keyword("access-lists"), word_arg("NAME", kMaxAclNameLen)},
                 fmt::format("Show one {} access list", kw),
                 [f](CommandContext& c) { return show_acls(c, f, &c.args[0].text); }));
  }
  return rows;
}

}  // namespace vfs::vsm
