#include "tools/vfsw/terminal_session.h"

#include <histedit.h>

#include <cstdio>
#include <string>

#include <fmt/core.h>

#include "tools/common/cli_text.h"

namespace vfs::tools {
namespace {

constexpr int kHistorySize = 500;

struct Terminal {
  ApiClient* client = nullptr;
  std::string prompt = "vfsw# ";
  std::string mode = "exec";
};

Terminal* terminal_of(EditLine* el) {
  void* data = nullptr;
  el_get(el, EL_CLIENTDATA, &data);
  return static_cast<Terminal*>(data);
}

char* prompt_of(EditLine* el) { return terminal_of(el)->prompt.data(); }

std::string line_to_cursor(EditLine* el) {
  const LineInfo* li = el_line(el);
  return std::string(li->buffer, static_cast<size_t>(li->cursor - li->buffer));
}

Result<nlohmann::json> ask_completion(Terminal& t, const std::string& line) {
  return t.client->call({{"op", "complete"}, {"line", line}});
}

// `?`: the next words with their help below the line, then the line again.
unsigned char on_help(EditLine* el, int) {
  Terminal& t = *terminal_of(el);
  auto resp = ask_completion(t, line_to_cursor(el));
  std::string text =
      resp ? render_choices(*resp, t.prompt.size()) : fmt::format("% {}\n", resp.error().message);
  fmt::print("\n{}", text);
  std::fflush(stdout);
  return CC_REDISPLAY;
}

// TAB: the rest of the only word that fits, or what all that fit share, or the list.
unsigned char on_tab(EditLine* el, int) {
  Terminal& t = *terminal_of(el);
  std::string line = line_to_cursor(el);
  auto resp = ask_completion(t, line);
  if (!resp) return CC_REFRESH_BEEP;
  TabAction a = tab_completion(*resp, line);
  if (!a.insert.empty()) {
    if (el_insertstr(el, a.insert.c_str()) != 0) return CC_REFRESH_BEEP;
    return CC_REFRESH;
  }
  if (!a.list) return CC_REFRESH_BEEP;
  fmt::print("\n{}", render_choices(*resp, t.prompt.size()));
  std::fflush(stdout);
  return CC_REDISPLAY;
}

std::string trimmed(const char* raw, int count) {
  std::string s(raw, static_cast<size_t>(count > 0 ? count : 0));
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  size_t first = s.find_first_not_of(" \t");
  return first == std::string::npos ? std::string() : s.substr(first);
}

// Runs one line; false when the session should end.
bool run_line(Terminal& t, const std::string& line) {
  if (t.mode == "exec" && (line == "exit" || line == "quit" || line == "logout")) return false;
  auto resp = t.client->call({{"op", "cli"}, {"commands", {line}}, {"keep_mode", true}});
  if (!resp) {
    fmt::print(stderr, "vfsw: {}\n", resp.error().message);
    auto again = ApiClient::connect(t.client->socket_path(), t.client->timeout());
    if (!again) {
      fmt::print(stderr, "vfsw: {}\n", again.error().message);
      return false;
    }
    *t.client = std::move(*again);
    t.prompt = "vfsw# ";
    t.mode = "exec";
    fmt::print(stderr, "vfsw: reconnected; the session restarted in exec mode\n");
    return true;
  }
  const auto& r = *resp;
  if (r.contains("output") && r["output"].is_string())
    fmt::print("{}", r["output"].get<std::string>());
  std::fflush(stdout);
  if (r.contains("ok") && r["ok"].is_boolean() && !r["ok"].get<bool>()) {
    fmt::print(stderr, "{}\n", render_cli_error(r, t.prompt.size()));
    std::fflush(stderr);
  }
  if (r.contains("prompt") && r["prompt"].is_string()) t.prompt = r["prompt"].get<std::string>();
  if (r.contains("mode") && r["mode"].is_string()) t.mode = r["mode"].get<std::string>();
  return true;
}

}  // namespace

int run_terminal_session(ApiClient& client) {
  Terminal t;
  t.client = &client;
  EditLine* el = el_init("vfsw", stdin, stdout, stderr);
  if (!el) {
    fmt::print(stderr, "vfsw: cannot start line editing on this terminal\n");
    return 1;
  }
  HistEvent ev;
  History* hist = history_init();
  history(hist, &ev, H_SETSIZE, kHistorySize);
  history(hist, &ev, H_SETUNIQUE, 1);
  el_set(el, EL_CLIENTDATA, &t);
  el_set(el, EL_EDITOR, "emacs");
  el_set(el, EL_SIGNAL, 1);
  el_set(el, EL_PROMPT, prompt_of);
  el_set(el, EL_HIST, history, hist);
  el_set(el, EL_ADDFN, "vfsw-help", "List the words that may come next", on_help);
  el_set(el, EL_ADDFN, "vfsw-complete", "Complete the word", on_tab);
  el_set(el, EL_BIND, "?", "vfsw-help", nullptr);
  el_set(el, EL_BIND, "^I", "vfsw-complete", nullptr);

  while (true) {
    int count = 0;
    const char* raw = el_gets(el, &count);
    if (!raw || count <= 0) break;  // Ctrl-D or end of input
    std::string line = trimmed(raw, count);
    if (line.empty()) continue;
    history(hist, &ev, H_ENTER, line.c_str());
    if (!run_line(t, line)) break;
  }
  fmt::print("\n");
  history_end(hist);
  el_end(el);
  return 0;
}

}  // namespace vfs::tools
