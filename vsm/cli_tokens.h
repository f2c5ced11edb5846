// vsm/cli_tokens.h owns how a CLI line splits into tokens: spaces and tabs separate,
// columns are byte offsets (the caret goes there), keywords compare case-insensitively.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace vfs::vsm {

struct Token {
  std::string_view text;  // empty at the end of the line
  size_t column = 0;
};

inline bool is_blank(char c) { return c == ' ' || c == '\t'; }

// The token starting at or after pos; advances pos past it.
Token next_token(std::string_view line, size_t& pos);

// Column for an "Incomplete command" caret: one past the last token.
size_t end_column(std::string_view line);

std::string_view trim(std::string_view s);
std::string_view trim_right(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
// tok is a non-empty, case-insensitive prefix of kw.
bool is_keyword_prefix(std::string_view tok, std::string_view kw);
// Column of the first byte that is neither printable ASCII nor a tab.
std::optional<size_t> first_unprintable(std::string_view line);

}  // namespace vfs::vsm
