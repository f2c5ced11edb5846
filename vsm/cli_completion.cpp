#include "vsm/cli_completion.h"

#include <algorithm>
#include <utility>

#include <fmt/core.h>

#include "vsm/cli_tokens.h"
#include "vsm/vlan_list.h"

namespace vfs::vsm {
namespace {

struct Walk {
  std::vector<CompletionChoice> choices;
  bool can_end = false;
  std::optional<CliFailure> failure;
  size_t progress = 0;
};

// Whether tok is a value the argument accepts (the matcher's rules, without the message).
bool accepts(const TokenSpec& spec, std::string_view tok) {
  switch (spec.kind) {
    case TokenSpec::Kind::keyword:
      return false;
    case TokenSpec::Kind::number: {
      if (tok.empty() || tok.size() > 10 ||
          !std::all_of(tok.begin(), tok.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return false;
      uint64_t v = 0;
      for (char c : tok) v = v * 10 + static_cast<uint64_t>(c - '0');
      return v >= spec.min && v <= spec.max;
    }
    case TokenSpec::Kind::vlan_list:
      return parse_vlan_list(tok).has_value();
    case TokenSpec::Kind::word:
      return tok.find('|') == std::string_view::npos && tok.size() <= spec.max;
    case TokenSpec::Kind::text:
      return true;
  }
  return false;
}

std::string placeholder(const TokenSpec& spec) {
  if (spec.kind == TokenSpec::Kind::number) return fmt::format("<{}-{}>", spec.min, spec.max);
  return spec.name;
}

// A word's help: the first help a row gives this token, else the help of the command it
// leads to when that is one command (keywords such as `brief` carry none of their own) or
// of the command it ends, else a generic one (`no` begins many commands).
std::string help_of(const std::vector<const CommandSpec*>& cands, size_t depth,
                    const std::string& word) {
  std::string row_help, ending_here;
  bool one_command = true;
  for (const CommandSpec* c : cands) {
    if (c->path.size() <= depth) continue;
    const TokenSpec& t = c->path[depth];
    if ((t.kind == TokenSpec::Kind::keyword ? t.name : placeholder(t)) != word) continue;
    if (!t.help.empty()) return t.help;
    if (row_help.empty()) row_help = c->help;
    one_command = one_command && (row_help == c->help);
    if (c->path.size() == depth + 1 && ending_here.empty()) ending_here = c->help;
  }
  if (one_command) return row_help;
  if (!ending_here.empty()) return ending_here;  // `counters` (and `counters detail`)
  return word == "no" ? "Negate a command or set its defaults" : fmt::format("{} commands", word);
}

CliFailure completion_failure_at(size_t column, std::string message) {
  return {std::move(message), static_cast<int>(column)};
}

// The words after a show command's '|': stage, [pattern], then '|' again.
Walk walk_pipes(const std::vector<Token>& after_bar, std::string_view partial) {
  Walk w;
  const PipeStageName* pending = nullptr;  // a stage that still needs its pattern
  bool need_stage = true;
  for (const Token& t : after_bar) {
    if (need_stage) {
      const PipeStageName* found = nullptr;
      for (const auto& s : pipe_stage_names())
        if (is_keyword_prefix(t.text, s.name)) found = &s;
      if (!found) {
        w.failure = completion_failure_at(t.column, "Invalid command at '^' marker.");
        return w;
      }
      need_stage = false;
      pending = found->takes_pattern ? found : nullptr;
    } else if (pending) {
      pending = nullptr;
    } else if (t.text == "|") {
      need_stage = true;
    } else {
      w.failure = completion_failure_at(t.column, "Invalid command at '^' marker.");
      return w;
    }
  }
  if (need_stage) {
    for (const auto& s : pipe_stage_names())
      if (partial.empty() || is_keyword_prefix(partial, s.name))
        w.choices.push_back({std::string(s.name), std::string(s.help), true});
  } else if (pending) {
    w.choices.push_back({"RE", "A regular expression (ECMAScript)", false});
  } else if (partial.empty()) {
    w.choices.push_back({"|", "Output modifiers", true});
    w.can_end = true;
  }
  return w;
}

Walk walk_mode(std::span<const CommandSpec> table, const std::vector<Token>& full,
               std::string_view partial, Mode mode) {
  Walk w;
  std::vector<const CommandSpec*> cands;
  for (const auto& row : table)
    if (row.modes & in_mode(mode)) cands.push_back(&row);
  size_t depth = 0;
  for (size_t i = 0; i < full.size(); ++i, ++depth) {
    const Token& t = full[i];
    w.progress = depth;
    bool complete_show = std::any_of(cands.begin(), cands.end(), [&](const CommandSpec* c) {
      return c->path.size() == depth && c->is_show;
    });
    if (t.text.front() == '|' && complete_show && t.text.size() == 1) {
      Walk p = walk_pipes({full.begin() + static_cast<std::ptrdiff_t>(i) + 1, full.end()}, partial);
      p.progress = full.size();
      return p;
    }
    std::erase_if(cands, [&](const CommandSpec* c) { return c->path.size() <= depth; });
    if (cands.empty()) {
      w.failure = completion_failure_at(t.column, "Invalid command at '^' marker.");
      return w;
    }
    std::vector<std::string_view> prefixed;
    bool exact = false;
    for (const CommandSpec* c : cands) {
      const TokenSpec& tok = c->path[depth];
      if (tok.kind != TokenSpec::Kind::keyword) continue;
      if (iequals(t.text, tok.name)) exact = true;
      if (is_keyword_prefix(t.text, tok.name) &&
          std::find(prefixed.begin(), prefixed.end(), tok.name) == prefixed.end())
        prefixed.push_back(tok.name);
    }
    if (exact || prefixed.size() == 1) {
      std::string_view chosen = exact ? t.text : prefixed.front();
      std::erase_if(cands, [&](const CommandSpec* c) {
        const TokenSpec& tok = c->path[depth];
        return tok.kind != TokenSpec::Kind::keyword || !iequals(chosen, tok.name);
      });
      continue;
    }
    if (prefixed.size() > 1) {
      w.failure = completion_failure_at(t.column, "Ambiguous command at '^' marker.");
      return w;
    }
    std::erase_if(cands, [&](const CommandSpec* c) { return !accepts(c->path[depth], t.text); });
    if (cands.empty()) {
      w.failure = completion_failure_at(t.column, "Invalid command at '^' marker.");
      return w;
    }
    // A rest-of-line argument swallows every later word: only the end of the line is left.
    auto text = std::find_if(cands.begin(), cands.end(), [&](const CommandSpec* c) {
      return c->path[depth].kind == TokenSpec::Kind::text;
    });
    if (text != cands.end()) {
      w.progress = full.size();
      w.can_end = true;
      if (!partial.empty())
        w.choices.push_back({placeholder((*text)->path[depth]),
                             help_of(cands, depth, placeholder((*text)->path[depth])), false});
      return w;
    }
  }
  w.progress = full.size();
  for (const CommandSpec* c : cands) {
    if (c->path.size() == depth) {
      if (partial.empty()) {
        w.can_end = true;
        if (c->is_show) w.choices.push_back({"|", "Output modifiers", true});
      }
      continue;
    }
    const TokenSpec& tok = c->path[depth];
    bool fits = tok.kind == TokenSpec::Kind::keyword
                    ? partial.empty() || is_keyword_prefix(partial, tok.name)
                    : partial.empty() || accepts(tok, partial);
    if (!fits) continue;
    std::string word = tok.kind == TokenSpec::Kind::keyword ? tok.name : placeholder(tok);
    if (std::any_of(w.choices.begin(), w.choices.end(),
                    [&](const CompletionChoice& x) { return x.word == word; }))
      continue;
    w.choices.push_back({word, help_of(cands, depth, word), tok.kind == TokenSpec::Kind::keyword});
  }
  return w;
}

}  // namespace

Completion complete_line(std::span<const CommandSpec> table, std::string_view line, Mode mode) {
  Completion out;
  if (auto bad = first_unprintable(line)) {
    out.failure = completion_failure_at(*bad, "Invalid command at '^' marker.");
    return out;
  }
  std::vector<Token> words;
  size_t pos = 0;
  for (Token t = next_token(line, pos); !t.text.empty(); t = next_token(line, pos))
    words.push_back(t);
  std::string_view partial;
  out.word_start = line.size();
  if (!words.empty() && !is_blank(line.back())) {
    partial = words.back().text;
    out.word_start = words.back().column;
    words.pop_back();
  }

  std::vector<Mode> chain{mode};
  for (Mode p = parent_mode(mode); p != Mode::exec; p = parent_mode(p)) chain.push_back(p);
  if (mode != Mode::exec) chain.push_back(Mode::exec);

  std::optional<Walk> best_failure;
  bool parsed = false;
  std::vector<CompletionChoice> keywords, args;
  for (Mode m : chain) {
    Walk w = walk_mode(table, words, partial, m);
    if (w.failure) {
      if (!best_failure || w.progress > best_failure->progress) best_failure = std::move(w);
      continue;
    }
    parsed = true;
    out.can_end = out.can_end || w.can_end;
    for (auto& c : w.choices) {
      auto& list = c.keyword ? keywords : args;
      if (std::none_of(list.begin(), list.end(),
                       [&](const CompletionChoice& x) { return x.word == c.word; }))
        list.push_back(std::move(c));
    }
  }
  if (!parsed) {
    out.failure = best_failure ? best_failure->failure
                               : completion_failure_at(0, "Invalid command at '^' marker.");
    return out;
  }
  std::sort(keywords.begin(), keywords.end(),
            [](const auto& a, const auto& b) { return a.word < b.word; });
  out.choices = std::move(keywords);
  out.choices.insert(out.choices.end(), std::make_move_iterator(args.begin()),
                     std::make_move_iterator(args.end()));
  return out;
}

}  // namespace vfs::vsm
