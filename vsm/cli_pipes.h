// vsm/cli_pipes.h owns the output filters that may follow a show command:
// `| json`, `| include RE`, `| exclude RE`, `| begin RE`, `| count`, `| no-more`, chained
// left to right, and their names and help (for `?` and TAB completion).
#pragma once

#include <memory>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "vsm/cli_failure.h"

namespace vfs::vsm {

struct PipeStage {
  enum class Kind : uint8_t { json, include, exclude, begin, count, no_more };
  Kind kind = Kind::json;
  std::string pattern;                      // include / exclude / begin
  std::shared_ptr<const std::regex> regex;  // compiled at parse time, so errors have a caret
};

struct PipeStageName {
  std::string_view name;  // unique in its first letter, so any prefix abbreviates it
  PipeStage::Kind kind;
  bool takes_pattern;
  std::string_view help;
};
std::span<const PipeStageName> pipe_stage_names();

// Parses the pipe section of line starting at the '|' at bar_column. A regular expression
// is one token, or a double-quoted string (spaces and '|' allowed inside).
std::variant<std::vector<PipeStage>, CliFailure> parse_pipes(std::string_view line,
                                                             size_t bar_column);

// Applies stages to a show command's output. `json` (always first) replaces the text by
// the data, pretty-printed; it fails if the command has no JSON form. `no-more` changes
// nothing: the output is never paged.
Result<std::string> apply_pipes(const std::string& text, const nlohmann::json& data,
                                const std::vector<PipeStage>& stages);

}  // namespace vfs::vsm
