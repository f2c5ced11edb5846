// vsm/api_session.h owns the local API protocol for one client connection: a request is
// one line of JSON, the response one line of JSON. It validates every field (an error
// names what is wrong; nothing is changed), dispatches to the Supervisor, and keeps the
// connection's CLI session so that an interactive client can stay in a mode across
// requests ("keep_mode": true).
//
// Requests:
//   {"op":"cli","commands":["configure terminal",...],"keep_mode":false}
//     -> {"ok":true,"output":"...","mode":"config","prompt":"vfsw(config)# "}
//     -> {"ok":false,"error":"% ...","error_column":N (syntax errors only),
//         "failed_command":"...","output":"<output so far>","mode":...,"prompt":...}
//   {"op":"attach","vf":1,"profile":"web","vm":"vm1","vm_uuid":"","mac":""}
//     -> {"ok":true,"veth":1}
//   {"op":"detach","vf":1}                         -> {"ok":true}
//   {"op":"dump-rules"}                            -> {"ok":true,"rules":[...]}
//   {"op":"counters"}                              -> {"ok":true,"counters":{...}}
//   {"op":"complete","line":"sh int ","mode":"exec"}  (`?` and TAB; mode optional: the
//     connection's session mode by default)
//     -> {"ok":true,"word_start":7,"can_end":false,
//         "choices":[{"word":"brief","help":"...","keyword":true},...]}
//     -> {"ok":false,"error":"% Invalid command at '^' marker.","error_column":3}
//   anything wrong                                 -> {"ok":false,"error":"..."}
// Every request is made with the rights of the peer's role (Supervisor::authorize): a
// user with no role gets an error for everything.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vsm/cli_session.h"
#include "vsm/supervisor.h"

namespace vfs::vsm {

class ApiSession {
 public:
  // The peer's login name comes from the password database.
  ApiSession(Supervisor& supervisor, uid_t peer_uid);
  ApiSession(Supervisor& supervisor, Caller caller);

  // One request line (without its '\n') -> one response, serialised on one line.
  std::string handle(std::string_view line);

  uid_t peer_uid() const { return caller_.uid; }  // SO_PEERCRED
  const Caller& caller() const { return caller_; }
  const CliSession& cli_session() const { return cli_; }

  static std::string error_response(std::string_view message);

 private:
  nlohmann::json dispatch(const nlohmann::json& req);
  nlohmann::json run_cli(const nlohmann::json& req);
  nlohmann::json attach(const nlohmann::json& req);
  nlohmann::json detach(const nlohmann::json& req);
  nlohmann::json complete(const nlohmann::json& req);

  Supervisor& supervisor_;
  Caller caller_;
  CliSession cli_;
};

}  // namespace vfs::vsm
