// Telling systemd how jimd is doing (sd_notify(3)'s datagram, without libsystemd), and
// whether standard error is the journal.
#pragma once

#include <string>

namespace jimd {

// Sends state ("READY=1", "STATUS=…", several joined by '\n') to the socket that
// $NOTIFY_SOCKET names (a path, or '@' for the abstract namespace). False when the
// variable is unset or the datagram could not be sent; never blocks.
bool notify(const std::string &state);

// True when standard error is the stream $JOURNAL_STREAM ("device:inode") names, as under
// systemd: the journal keeps the time, so log lines leave it out.
bool stderr_is_journal();

} // namespace jimd
