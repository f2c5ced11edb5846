// tools/vfsw/terminal_session.h owns vfsw's interactive prompt on a terminal: libedit line
// editing with history, the NX-OS prompt the daemon gives (`vfsw# `, `vfsw(config)# `),
// `?` listing the next words with their help and TAB completing them — both asked of the
// daemon ({"op":"complete"}), so they follow its grammar exactly — and the caret under a
// bad line. Lines run in the connection's CLI session ("keep_mode": true).
#pragma once

#include "tools/common/api_client.h"

namespace vfs::tools {

// Runs until end of input (Ctrl-D) or `exit`/`quit` in exec mode; returns the exit code.
int run_terminal_session(ApiClient& client);

}  // namespace vfs::tools
