// vsm/cli_completion.h owns `?` help and TAB completion: given a partly typed line and the
// session's mode, the words that may come next, each with its help, computed from the
// same command table (and the same abbreviation rules) the matcher uses, so what the
// interactive CLI offers is exactly what it accepts.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vsm/cli_engine.h"

namespace vfs::vsm {

struct CompletionChoice {
  std::string word;  // a keyword, or an argument's placeholder ("<1-4094>", "NAME", "|")
  std::string help;
  bool keyword = true;  // false: a placeholder, not text to insert
  bool operator==(const CompletionChoice&) const = default;
};

struct Completion {
  // Where the word being completed starts: the last token when the line does not end in a
  // blank, else the end of the line (an empty word: every next word is offered).
  size_t word_start = 0;
  std::vector<CompletionChoice> choices;  // keywords (sorted), then placeholders
  bool can_end = false;                   // the line is a whole command as typed: "<cr>"
  // The words before the one being completed do not parse (no choices then); the caret
  // column is where they stop parsing.
  std::optional<CliFailure> failure;
};

// Completes line in mode, its parent modes and exec mode (as run_line tries them); the
// choices of every mode in which the line so far parses, without duplicates.
Completion complete_line(std::span<const CommandSpec> table, std::string_view line, Mode mode);

}  // namespace vfs::vsm
