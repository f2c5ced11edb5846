#include "vsm/cli_engine.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include <fmt/core.h>

#include "vsm/cli_tokens.h"
#include "vsm/vlan_list.h"

namespace vfs::vsm {

TokenSpec keyword(std::string name, std::string help) {
  return {TokenSpec::Kind::keyword, std::move(name), std::move(help), 0, 0};
}
TokenSpec number_arg(std::string name, uint32_t min, uint32_t max, std::string help) {
  return {TokenSpec::Kind::number, std::move(name), std::move(help), min, max};
}
TokenSpec vlan_list_arg(std::string name, std::string help) {
  return {TokenSpec::Kind::vlan_list, std::move(name), std::move(help), 0, 0};
}
TokenSpec word_arg(std::string name, uint32_t max_len, std::string help) {
  return {TokenSpec::Kind::word, std::move(name), std::move(help), 0, max_len};
}
TokenSpec text_arg(std::string name, uint32_t max_len, std::string help) {
  return {TokenSpec::Kind::text, std::move(name), std::move(help), 0, max_len};
}

std::string CommandSpec::syntax() const {
  std::string s;
  for (const auto& t : path) {
    if (!s.empty()) s += ' ';
    s += t.name;
  }
  return s;
}

namespace {

struct Candidate {
  const CommandSpec* spec;
  std::vector<Arg> args;
};

struct Attempt {
  std::optional<CommandMatch> match;
  CliFailure failure;
  size_t progress = 0;  // tokens matched before the failure
};

CliFailure at(int column, std::string message) { return {std::move(message), column}; }

// nullopt = the token is a valid value for spec (stored in out); else the NX-OS message.
std::optional<std::string> parse_arg(const TokenSpec& spec, std::string_view tok,
                                     std::string_view rest, Arg& out) {
  switch (spec.kind) {
    case TokenSpec::Kind::keyword:
      return "Invalid command at '^' marker.";
    case TokenSpec::Kind::number: {
      uint64_t v = 0;
      if (tok.size() > 10 ||
          !std::all_of(tok.begin(), tok.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return "Invalid number at '^' marker.";
      std::from_chars(tok.data(), tok.data() + tok.size(), v);
      if (v < spec.min || v > spec.max) return "Invalid range at '^' marker.";
      out.number = static_cast<uint32_t>(v);
      out.text = std::string(tok);
      return std::nullopt;
    }
    case TokenSpec::Kind::vlan_list: {
      auto vlans = parse_vlan_list(tok);
      if (!vlans) return "Invalid range at '^' marker.";
      out.vlans = std::move(*vlans);
      out.text = std::string(tok);
      return std::nullopt;
    }
    case TokenSpec::Kind::word:
      if (tok.find('|') != std::string_view::npos) return "Invalid command at '^' marker.";
      if (tok.size() > spec.max)
        return fmt::format("String exceeded max length of ({}) at '^' marker.", spec.max);
      out.text = std::string(tok);
      return std::nullopt;
    case TokenSpec::Kind::text:
      if (rest.size() > spec.max)
        return fmt::format("String exceeded max length of ({}) at '^' marker.", spec.max);
      out.text = std::string(rest);
      return std::nullopt;
  }
  return "Invalid command at '^' marker.";
}

Attempt match_in_mode(std::span<const CommandSpec> table, std::string_view line, Mode mode) {
  Attempt a;
  std::vector<Candidate> cands;
  for (const auto& row : table) {
    if (row.modes & in_mode(mode)) cands.push_back({&row, {}});
  }
  size_t pos = 0;
  for (size_t depth = 0;; ++depth) {
    a.progress = depth;
    Token t = next_token(line, pos);
    auto complete = std::find_if(cands.begin(), cands.end(),
                                 [&](const Candidate& c) { return c.spec->path.size() == depth; });
    if (t.text.empty()) {
      if (complete == cands.end()) {
        a.failure = cands.empty() ? at(static_cast<int>(t.column), "Invalid command at '^' marker.")
                                  : at(static_cast<int>(end_column(line)),
                                       "Incomplete command at '^' marker.");
        return a;
      }
      a.match = CommandMatch{complete->spec, std::move(complete->args), {}};
      return a;
    }
    // '|' after a complete show command starts its pipes; anywhere else it is an ordinary
    // token (a description may begin with it).
    if (t.text.front() == '|' && complete != cands.end() && complete->spec->is_show) {
      auto stages = parse_pipes(line, t.column);
      if (auto* f = std::get_if<CliFailure>(&stages)) {
        a.failure = std::move(*f);
        a.progress = depth + 1;
        return a;
      }
      a.match = CommandMatch{complete->spec, std::move(complete->args),
                             std::move(std::get<std::vector<PipeStage>>(stages))};
      return a;
    }

    std::erase_if(cands, [&](const Candidate& c) { return c.spec->path.size() <= depth; });
    if (cands.empty()) {
      a.failure = at(static_cast<int>(t.column), "Invalid command at '^' marker.");
      return a;
    }

    // Keywords first: an exact match, else a unique prefix. A keyword that matches hides
    // the argument alternatives at this position (`port-profile type ...` vs NAME).
    std::vector<std::string_view> prefixed;
    bool exact = false;
    for (const auto& c : cands) {
      const auto& tok = c.spec->path[depth];
      if (tok.kind != TokenSpec::Kind::keyword) continue;
      if (iequals(t.text, tok.name)) exact = true;
      if (is_keyword_prefix(t.text, tok.name) &&
          std::find(prefixed.begin(), prefixed.end(), tok.name) == prefixed.end())
        prefixed.push_back(tok.name);
    }
    if (exact || prefixed.size() == 1) {
      std::string_view chosen = exact ? t.text : prefixed.front();
      std::erase_if(cands, [&](const Candidate& c) {
        const auto& tok = c.spec->path[depth];
        return tok.kind != TokenSpec::Kind::keyword || !iequals(chosen, tok.name);
      });
      continue;
    }
    if (prefixed.size() > 1) {
      a.failure = at(static_cast<int>(t.column), "Ambiguous command at '^' marker.");
      return a;
    }

    std::string_view rest = trim_right(line.substr(t.column));
    std::optional<std::string> first_error;
    bool took_rest = false;
    std::vector<Candidate> accepted;
    for (auto& c : cands) {
      const auto& tok = c.spec->path[depth];
      Arg arg;
      if (auto err = parse_arg(tok, t.text, rest, arg)) {
        if (!first_error) first_error = std::move(err);
        continue;
      }
      if (tok.kind == TokenSpec::Kind::text) took_rest = true;
      c.args.push_back(std::move(arg));
      accepted.push_back(std::move(c));
    }
    cands = std::move(accepted);
    if (cands.empty()) {
      a.failure =
          at(static_cast<int>(t.column), first_error.value_or("Invalid command at '^' marker."));
      return a;
    }
    if (took_rest) pos = line.size();
  }
}

}  // namespace

std::variant<CommandMatch, CliFailure> match_command(std::span<const CommandSpec> table,
                                                     std::string_view line,
                                                     std::span<const Mode> modes) {
  if (auto bad = first_unprintable(line))
    return at(static_cast<int>(*bad), "Invalid command at '^' marker.");
  std::optional<Attempt> best;
  for (Mode m : modes) {
    Attempt a = match_in_mode(table, line, m);
    if (a.match) return std::move(*a.match);
    if (!best || a.progress > best->progress) best = std::move(a);
  }
  if (!best) return at(0, "Invalid command at '^' marker.");
  return std::move(best->failure);
}

}  // namespace vfs::vsm
