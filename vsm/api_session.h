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
//   anything wrong                                 -> {"ok":false,"error":"..."}
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
  ApiSession(Supervisor& supervisor, uid_t peer_uid);

  // One request line (without its '\n') -> one response, serialised on one line.
  std::string handle(std::string_view line);

  uid_t peer_uid() const { return peer_uid_; }  // SO_PEERCRED; roles will use it
  const CliSession& cli_session() const { return cli_; }

  static std::string error_response(std::string_view message);

 private:
  nlohmann::json dispatch(const nlohmann::json& req);
  nlohmann::json run_cli(const nlohmann::json& req);
  nlohmann::json attach(const nlohmann::json& req);
  nlohmann::json detach(const nlohmann::json& req);

  Supervisor& supervisor_;
  uid_t peer_uid_;
  CliSession cli_;
};

}  // namespace vfs::vsm
