#include "vsm/cli_pipes.h"

#include <array>
#include <utility>

#include <fmt/core.h>

#include "vsm/cli_tokens.h"

namespace vfs::vsm {
namespace {

constexpr size_t kMaxPattern = 256;

constexpr std::array<PipeStageName, 6> kStages{{
    {"begin", PipeStage::Kind::begin, true, "Begin with the line that matches"},
    {"count", PipeStage::Kind::count, false, "Count the lines"},
    {"exclude", PipeStage::Kind::exclude, true, "Exclude the lines that match"},
    {"include", PipeStage::Kind::include, true, "Include the lines that match"},
    {"json", PipeStage::Kind::json, false, "Output in JSON"},
    {"no-more", PipeStage::Kind::no_more, false, "Do not page the output"},
}};

CliFailure pipe_failure_at(size_t column, std::string message) {
  return {std::move(message), static_cast<int>(column)};
}

void skip_blanks(std::string_view line, size_t& pos) {
  while (pos < line.size() && is_blank(line[pos])) ++pos;
}

// A stage name or unquoted pattern ends at a blank or at the next '|'.
Token next_word(std::string_view line, size_t& pos) {
  skip_blanks(line, pos);
  size_t start = pos;
  while (pos < line.size() && !is_blank(line[pos]) && line[pos] != '|') ++pos;
  return {line.substr(start, pos - start), start};
}

std::vector<std::string_view> split_lines(const std::string& text) {
  std::vector<std::string_view> lines;
  std::string_view rest(text);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return lines;
}

}  // namespace

std::span<const PipeStageName> pipe_stage_names() { return kStages; }

std::variant<std::vector<PipeStage>, CliFailure> parse_pipes(std::string_view line,
                                                             size_t bar_column) {
  std::vector<PipeStage> stages;
  size_t pos = bar_column;
  while (true) {
    ++pos;  // past '|'
    Token name = next_word(line, pos);
    if (name.text.empty()) {
      return pos < line.size()
                 ? pipe_failure_at(pos, "Invalid command at '^' marker.")
                 : pipe_failure_at(end_column(line), "Incomplete command at '^' marker.");
    }
    const PipeStageName* found = nullptr;
    for (const auto& s : kStages) {
      if (is_keyword_prefix(name.text, s.name)) found = &s;  // stage names differ in letter 1
    }
    if (!found) return pipe_failure_at(name.column, "Invalid command at '^' marker.");
    PipeStage stage;
    stage.kind = found->kind;
    if (stage.kind == PipeStage::Kind::json && !stages.empty())
      return pipe_failure_at(name.column,
                             "Invalid command at '^' marker.");  // json only on the command's data
    if (found->takes_pattern) {
      skip_blanks(line, pos);
      size_t pcol = pos;
      if (pos >= line.size() || line[pos] == '|')
        return pipe_failure_at(end_column(line.substr(0, pos)),
                               "Incomplete command at '^' marker.");
      if (line[pos] == '"') {
        size_t close = line.find('"', pos + 1);
        if (close == std::string_view::npos)
          return pipe_failure_at(pcol, "Invalid command at '^' marker.");
        stage.pattern = std::string(line.substr(pos + 1, close - pos - 1));
        pos = close + 1;
      } else {
        stage.pattern = std::string(next_word(line, pos).text);
      }
      if (stage.pattern.size() > kMaxPattern)
        return pipe_failure_at(
            pcol, fmt::format("String exceeded max length of ({}) at '^' marker.", kMaxPattern));
      try {
        stage.regex = std::make_shared<const std::regex>(stage.pattern, std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        return pipe_failure_at(pcol, "Invalid regular expression at '^' marker.");
      }
    }
    stages.push_back(std::move(stage));
    skip_blanks(line, pos);
    if (pos >= line.size()) return stages;
    if (line[pos] != '|') return pipe_failure_at(pos, "Invalid command at '^' marker.");
  }
}

Result<std::string> apply_pipes(const std::string& text, const nlohmann::json& data,
                                const std::vector<PipeStage>& stages) {
  std::string cur = text;
  for (const auto& s : stages) {
    switch (s.kind) {
      case PipeStage::Kind::json:
        if (data.is_null()) return make_error(ENOTSUP, "This command has no JSON output");
        cur = data.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        break;
      case PipeStage::Kind::include:
      case PipeStage::Kind::exclude: {
        bool keep_matching = s.kind == PipeStage::Kind::include;
        std::string out;
        try {
          for (auto l : split_lines(cur)) {
            if (std::regex_search(l.begin(), l.end(), *s.regex) == keep_matching) {
              out.append(l);
              out += '\n';
            }
          }
        } catch (const std::regex_error& e) {
          return make_error(EINVAL, "Regular expression '{}' failed: {}", s.pattern, e.what());
        }
        cur = std::move(out);
        break;
      }
      case PipeStage::Kind::begin: {
        std::string out;
        bool begun = false;
        try {
          for (auto l : split_lines(cur)) {
            begun = begun || std::regex_search(l.begin(), l.end(), *s.regex);
            if (!begun) continue;
            out.append(l);
            out += '\n';
          }
        } catch (const std::regex_error& e) {
          return make_error(EINVAL, "Regular expression '{}' failed: {}", s.pattern, e.what());
        }
        cur = std::move(out);
        break;
      }
      case PipeStage::Kind::count:
        cur = fmt::format("{}\n", split_lines(cur).size());
        break;
      case PipeStage::Kind::no_more:
        break;
    }
  }
  return cur;
}

}  // namespace vfs::vsm
