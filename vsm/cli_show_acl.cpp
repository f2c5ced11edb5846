// The show rows about access lists: every list of a family (or one), its entries in
// canonical form, the port-profiles using it and, for lists with `statistics per-entry`,
// how many packets each entry (and the implicit deny) matched — counters_json()'s
// "acl_entries" {"ip:NAME": {"SEQ": packets, "0": implicit deny}}, summed over every
// vEthernet using the list.
#include <fmt/core.h>

#include "vsm/acl.h"
#include "vsm/cli_show.h"

namespace vfs::vsm {
namespace {

using nlohmann::json;

// "ip", "ipv6", "mac": the prefix of the list's key in "acl_entries".
std::string counter_key(AclFamily f, const std::string& name) {
  std::string_view fam = acl_family_keyword(f);
  return fmt::format("{}:{}", fam, name);
}

const char* title(AclFamily f) {
  switch (f) {
    case AclFamily::ipv4:
      return "IP";
    case AclFamily::ipv6:
      return "IPv6";
    case AclFamily::mac:
      return "MAC";
  }
  return "?";
}

Result<CommandOutput> show_acls(CommandContext& c, AclFamily f, const std::string* name) {
  const auto& acls = c.model.acls(f);
  if (name && !acls.contains(*name))
    return make_error(ENOENT, "{} access-list {} does not exist", acl_family_keyword(f), *name);
  // Counts are a bonus: replaying a file (no environment) still shows the lists.
  json counts = json::object();
  if (c.env) {
    json all = c.env->counters();
    if (all.is_object() && all.contains("acl_entries") && all["acl_entries"].is_object())
      counts = all["acl_entries"];
  }
  CommandOutput out;
  out.data = json::array();
  for (const auto& [n, a] : acls) {
    if (name && n != *name) continue;
    const std::string key = counter_key(f, n);
    const json mine = counts.contains(key) ? counts[key] : json::object();
    const bool stats = a.statistics_per_entry;
    auto matches = [&](uint32_t seq) { return counter(mine, std::to_string(seq).c_str()); };
    out.text += fmt::format("{} access list {}\n", title(f), n);
    if (stats) out.text += "        statistics per-entry\n";
    json entries = json::array();
    for (const auto& [seq, e] : a.entries) {
      std::string text = render_acl_entry(e, f);
      out.text += fmt::format("        {} {}", seq, text);
      json entry{{"seq", seq}, {"entry", text}};
      if (stats) {
        out.text += fmt::format(" [match={}]", matches(seq));
        entry["matches"] = matches(seq);
      }
      out.text += "\n";
      entries.push_back(std::move(entry));
    }
    if (stats) out.text += fmt::format("        implicit deny [match={}]\n", matches(0));
    json list{{"name", n},
              {"statistics_per_entry", stats},
              {"entries", entries},
              {"used_by", c.model.users_of_acl(f, n)}};
    if (stats) list["implicit_deny_matches"] = matches(0);
    out.data.push_back(std::move(list));
    out.text += "\n";
  }
  return out;
}

}  // namespace

std::vector<CommandSpec> acl_show_rows() {
  std::vector<CommandSpec> rows;
  for (AclFamily f : {AclFamily::ipv4, AclFamily::ipv6, AclFamily::mac}) {
    const std::string kw(acl_family_keyword(f));
    rows.push_back(show_row({keyword(kw), keyword("access-lists")},
                            fmt::format("Show every {} access list", title(f)),
                            [f](CommandContext& c) { return show_acls(c, f, nullptr); }));
    rows.push_back(
        show_row({keyword(kw), keyword("access-lists"), word_arg("NAME", 64, "Access list name")},
                 fmt::format("Show one {} access list", title(f)),
                 [f](CommandContext& c) { return show_acls(c, f, &c.args[0].text); }));
  }
  return rows;
}

}  // namespace vfs::vsm
