// What running as a Unix daemon takes beyond the master's loop: detaching with a start-up
// report for the shell that ran `jimd -d`, exclusive locks on the pidfile and the
// database, and giving up root once the port is bound.
#pragma once

#include <jim/log.h>

#include <string>

namespace jimd {

// Says why jimd cannot start or go on: a CRITICAL line in the log, and the same as one
// line "jimd: why" on standard error — unless the log is standard error itself.
void report_fatal(jim_log *log, const char *module, const std::string &why);
// The log writes to standard error (no log file, not syslog): report_fatal prints once.
void set_log_on_stderr(bool yes);

// Forks into the background. The calling process stays in the foreground until the
// daemon calls startup_done() (it then exits 0) or exits (it then exits with the
// daemon's status); meanwhile what the daemon writes to standard error is copied to the
// caller's, so a failed start is reported where it was asked for. Returns in the daemon
// only; false (errno set) if fork() or pipe() failed.
bool detach();
// The daemon serves: tells the waiting parent, and standard error goes to /dev/null
// from now on. Does nothing when jimd did not detach, or after the first call.
void startup_done();
// In a process forked from a detached daemon after it started (a worker): its standard
// error goes to /dev/null, so that only the master holds the parent's pipe.
void quiet_stderr();

// An exclusive lock (flock) on path, created if missing, held for the life of the
// process and its children (the descriptor is inherited by fork). The file then holds
// this process's pid (required with write_pid). False, with *why one line for the user
// ("<what> is in use by another jimd (pid N)"), when another process holds it or it
// cannot be opened.
bool lock_file(const std::string &path, bool write_pid, const char *what, std::string *why);
// Removes a pidfile this process locked.
void remove_pidfile(const std::string &path);

// Started as root with a user set: switches to that user (and group, or the user's own)
// and its supplementary groups. Not root: nothing to do, unless user names someone else.
// 0, or the exit status with *why: 67 for an unknown user or group, 77 when the switch
// is not possible.
int drop_privileges(const std::string &user, const std::string &group, std::string *why);

// The absolute form of path (relative to the current directory), for log lines.
std::string absolute_path(const std::string &path);

} // namespace jimd
