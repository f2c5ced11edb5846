#include "vsm/api_session.h"

#include <pwd.h>

#include <climits>
#include <initializer_list>
#include <optional>
#include <vector>

#include <fmt/core.h>

#include "base/log.h"
#include "vsm/cli_commands.h"
#include "vsm/cli_completion.h"

namespace vfs::vsm {
namespace {

using nlohmann::json;

std::string serialise(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json error(std::string message) { return {{"ok", false}, {"error", std::move(message)}}; }

const char* type_name(const json& j) {
  if (j.is_number_integer()) return "integer";
  return j.type_name();
}

// Field checks for one request: each names the op and the field.
class Fields {
 public:
  Fields(const json& req, std::string op) : req_(req), op_(std::move(op)) {}

  // An error for the first field not in allowed.
  std::optional<json> unknown(std::initializer_list<std::string_view> allowed) const {
    for (const auto& [k, v] : req_.items()) {
      bool known = k == "op";
      for (auto a : allowed) known = known || k == a;
      if (!known) return error(fmt::format("unknown field '{}' in {} request", k, op_));
    }
    return std::nullopt;
  }

  // nullopt + err set if present with the wrong type; fallback if absent and optional.
  std::optional<std::string> string(const char* f, bool required, json& err) const {
    if (!req_.contains(f)) {
      if (required) err = error(fmt::format("{} request has no '{}' field", op_, f));
      return required ? std::nullopt : std::optional<std::string>("");
    }
    if (!req_[f].is_string()) {
      err = error(
          fmt::format("'{}' in {} request must be a string, not {}", f, op_, type_name(req_[f])));
      return std::nullopt;
    }
    return req_[f].get<std::string>();
  }

  std::optional<int> integer(const char* f, json& err) const {
    if (!req_.contains(f)) {
      err = error(fmt::format("{} request has no '{}' field", op_, f));
      return std::nullopt;
    }
    const json& v = req_[f];
    if (!v.is_number_integer()) {
      err =
          error(fmt::format("'{}' in {} request must be an integer, not {}", f, op_, type_name(v)));
      return std::nullopt;
    }
    if ((v.is_number_unsigned() && v.get<uint64_t>() > INT_MAX) ||
        (!v.is_number_unsigned() && (v.get<int64_t>() < INT_MIN || v.get<int64_t>() > INT_MAX))) {
      err = error(fmt::format("'{}' in {} request is out of range", f, op_));
      return std::nullopt;
    }
    return v.get<int>();
  }

  std::optional<bool> boolean(const char* f, json& err) const {
    if (!req_.contains(f)) return false;
    if (!req_[f].is_boolean()) {
      err = error(
          fmt::format("'{}' in {} request must be a boolean, not {}", f, op_, type_name(req_[f])));
      return std::nullopt;
    }
    return req_[f].get<bool>();
  }

 private:
  const json& req_;
  std::string op_;
};

}  // namespace

namespace {

std::string login_name(uid_t uid) {
  passwd pw{};
  passwd* res = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &res) != 0 || !res) return {};
  return pw.pw_name;
}

}  // namespace

ApiSession::ApiSession(Supervisor& supervisor, uid_t peer_uid)
    : ApiSession(supervisor, Caller{peer_uid, login_name(peer_uid)}) {}

ApiSession::ApiSession(Supervisor& supervisor, Caller caller)
    : supervisor_(supervisor), caller_(std::move(caller)) {}

std::string ApiSession::error_response(std::string_view message) {
  return serialise(error(std::string(message)));
}

std::string ApiSession::handle(std::string_view line) {
  json req;
  try {
    req = json::parse(line);
  } catch (const json::parse_error& e) {
    return serialise(error(fmt::format("malformed JSON request: {}", e.what())));
  }
  try {
    return serialise(dispatch(req));
  } catch (const std::exception& e) {
    // A bug, not bad input: report it to the client and keep serving.
    log::error("api", "request from uid {} failed internally: {}", caller_.uid, e.what());
    return serialise(error(fmt::format("internal error: {}", e.what())));
  }
}

json ApiSession::dispatch(const json& req) {
  if (!req.is_object())
    return error(fmt::format("request must be a JSON object, not {}", type_name(req)));
  if (!req.contains("op")) return error("request has no 'op' field");
  if (!req["op"].is_string())
    return error(fmt::format("'op' must be a string, not {}", type_name(req["op"])));
  const std::string op = req["op"].get<std::string>();
  if (op == "cli") return run_cli(req);
  if (op == "attach") return attach(req);
  if (op == "detach") return detach(req);
  if (op == "complete") return complete(req);
  if (op == "dump-rules" || op == "counters") {
    if (auto e = Fields(req, op).unknown({})) return *e;
    if (auto role = supervisor_.authorize(caller_); !role) return error(role.error().message);
    if (op == "dump-rules") return {{"ok", true}, {"rules", supervisor_.rules_json()}};
    return {{"ok", true}, {"counters", supervisor_.counters_json()}};
  }
  return error(fmt::format(
      "unknown op '{}' (expected cli, complete, attach, detach, dump-rules or counters)", op));
}

json ApiSession::run_cli(const json& req) {
  Fields f(req, "cli");
  if (auto e = f.unknown({"commands", "keep_mode"})) return *e;
  json err;
  auto keep = f.boolean("keep_mode", err);
  if (!keep) return err;
  if (!req.contains("commands")) return error("cli request has no 'commands' field");
  const json& cmds = req["commands"];
  if (!cmds.is_array())
    return error(fmt::format("'commands' in cli request must be an array of strings, not {}",
                             type_name(cmds)));
  for (size_t i = 0; i < cmds.size(); ++i) {
    if (!cmds[i].is_string())
      return error(fmt::format("commands[{}] in cli request must be a string, not {}", i,
                               type_name(cmds[i])));
  }

  if (!*keep) cli_ = CliSession{};
  std::string output;
  for (const auto& c : cmds) {
    const std::string line = c.get<std::string>();
    CliOutcome r = supervisor_.execute(cli_, line, caller_);
    if (!r.ok) {
      json resp{{"ok", false},      {"error", "% " + r.failure.message}, {"failed_command", line},
                {"output", output}, {"mode", mode_name(cli_.mode)},      {"prompt", cli_.prompt()}};
      if (r.failure.column >= 0) resp["error_column"] = r.failure.column;
      return resp;
    }
    output += r.output;
  }
  return {
      {"ok", true}, {"output", output}, {"mode", mode_name(cli_.mode)}, {"prompt", cli_.prompt()}};
}

namespace {

// The mode named name ("config-port-prof"), if any.
std::optional<Mode> mode_named(std::string_view name) {
  for (unsigned m = 0; m < 32; ++m) {
    std::string_view n = mode_name(static_cast<Mode>(m));
    if (n == "?") break;
    if (n == name) return static_cast<Mode>(m);
  }
  return std::nullopt;
}

}  // namespace

json ApiSession::complete(const json& req) {
  Fields f(req, "complete");
  if (auto e = f.unknown({"line", "mode"})) return *e;
  json err;
  auto line = f.string("line", true, err);
  if (!line) return err;
  auto mode_text = f.string("mode", false, err);
  if (!mode_text) return err;
  Mode mode = cli_.mode;
  if (!mode_text->empty()) {
    auto m = mode_named(*mode_text);
    if (!m) return error(fmt::format("'mode' in complete request: unknown mode '{}'", *mode_text));
    mode = *m;
  }
  if (auto role = supervisor_.authorize(caller_); !role) return error(role.error().message);
  Completion c = complete_line(command_table(), *line, mode);
  if (c.failure) {
    json resp = error("% " + c.failure->message);
    if (c.failure->column >= 0) resp["error_column"] = c.failure->column;
    return resp;
  }
  json choices = json::array();
  for (const auto& ch : c.choices)
    choices.push_back({{"word", ch.word}, {"help", ch.help}, {"keyword", ch.keyword}});
  return {{"ok", true}, {"word_start", c.word_start}, {"can_end", c.can_end}, {"choices", choices}};
}

json ApiSession::attach(const json& req) {
  Fields f(req, "attach");
  if (auto e = f.unknown({"vf", "profile", "vm", "vm_uuid", "mac"})) return *e;
  json err;
  AttachRequest a;
  auto vf = f.integer("vf", err);
  if (!vf) return err;
  a.vf = *vf;
  auto profile = f.string("profile", true, err);
  if (!profile) return err;
  auto vm = f.string("vm", false, err);
  if (!vm) return err;
  auto uuid = f.string("vm_uuid", false, err);
  if (!uuid) return err;
  auto mac = f.string("mac", false, err);
  if (!mac) return err;
  a.profile = std::move(*profile);
  a.vm = std::move(*vm);
  a.vm_uuid = std::move(*uuid);
  a.mac = std::move(*mac);
  auto n = supervisor_.attach(a, caller_);
  if (!n) return error(n.error().message);
  return {{"ok", true}, {"veth", *n}};
}

json ApiSession::detach(const json& req) {
  Fields f(req, "detach");
  if (auto e = f.unknown({"vf"})) return *e;
  json err;
  auto vf = f.integer("vf", err);
  if (!vf) return err;
  auto r = supervisor_.detach(*vf, caller_);
  if (!r) return error(r.error().message);
  return {{"ok", true}};
}

}  // namespace vfs::vsm
