// The reference line relay: the least a JIM relay must do, as a ceiling to compare with.
#pragma once

namespace jimbench {

// Serves on the listening socket fd until killed: answers logins and joins with 200,
// forwards each msg line to its target (a name or a room's members) and acks it.
int run_relay(int listen_fd);

} // namespace jimbench
