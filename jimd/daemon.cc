// Detaching with a start-up report, pidfile and database locks, dropping root.
#include "daemon.hh"

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

namespace jimd {

namespace {

// The daemon's end of the pipe to the process waiting in the foreground; -1 once the
// start-up was reported (or when jimd did not detach).
int g_report_fd = -1;
// The last byte the daemon writes to that pipe when it serves: anything before it is
// text for standard error.
constexpr char kReadyByte = '\x06';

void to_dev_null(int fd)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, fd);
        close(null);
    }
}

// In the foreground process: copies the daemon's report to standard error and exits
// with what it says.
[[noreturn]] void wait_for_daemon(pid_t daemon, int from)
{
    std::string text;
    char chunk[4096];
    for (;;) {
        ssize_t n = read(from, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        text.append(chunk, static_cast<size_t>(n));
    }
    bool ready = !text.empty() && text.back() == kReadyByte;
    if (ready)
        text.pop_back();
    fwrite(text.data(), 1, text.size(), stderr);
    if (ready)
        _exit(0);
    // The pipe closed without the ready byte: the daemon is exiting.
    int status = 0;
    for (int i = 0; i < 200; i++) {
        if (waitpid(daemon, &status, WNOHANG) == daemon) {
            if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
                _exit(WEXITSTATUS(status));
            if (WIFSIGNALED(status))
                fprintf(stderr, "jimd: the daemon was killed by signal %d while starting\n",
                        WTERMSIG(status));
            else
                fprintf(stderr, "jimd: the daemon stopped before it was ready\n");
            _exit(70); // EX_SOFTWARE
        }
        usleep(50000);
    }
    fprintf(stderr, "jimd: the daemon closed its report without saying it was ready\n");
    _exit(70);
}

bool g_log_on_stderr = false;

} // namespace

void set_log_on_stderr(bool yes)
{
    g_log_on_stderr = yes;
}

void report_fatal(jim_log *log, const char *module, const std::string &why)
{
    JIM_LOG(log, JIM_LOG_CRITICAL, module, "%s", why.c_str());
    if (!g_log_on_stderr || !jim_log_enabled(log, JIM_LOG_CRITICAL))
        fprintf(stderr, "jimd: %s\n", why.c_str());
}

bool detach()
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return false;
    fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        errno = e;
        return false;
    }
    if (pid > 0) {
        close(p[1]);
        wait_for_daemon(pid, p[0]);
    }
    close(p[0]);
    setsid();
    to_dev_null(0);
    to_dev_null(1);
    dup2(p[1], 2); // the foreground process shows what goes wrong before startup_done()
    g_report_fd = p[1];
    return true;
}

void startup_done()
{
    if (g_report_fd < 0)
        return;
    ssize_t n;
    do
        n = write(g_report_fd, &kReadyByte, 1);
    while (n < 0 && errno == EINTR);
    to_dev_null(2);
    close(g_report_fd);
    g_report_fd = -1;
}

void quiet_stderr()
{
    if (g_report_fd < 0)
        return;
    to_dev_null(2);
    close(g_report_fd);
    g_report_fd = -1;
}

bool lock_file(const std::string &path, bool write_pid, const char *what, std::string *why)
{
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    int err = errno;
    if (fd < 0 && err == EACCES && !write_pid)
        fd = open(path.c_str(), O_RDONLY | O_CLOEXEC); // a lock file made by another user
    if (fd < 0) {
        // The first error says why (the retry's ENOENT would hide a read-only directory).
        *why = std::string("cannot open ") + path + ": " + strerror(err);
        return false;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char buf[32] = {};
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        long pid = n > 0 ? strtol(buf, nullptr, 10) : 0;
        close(fd);
        if (e == EWOULDBLOCK) {
            *why = std::string(what) + " is in use by another jimd" +
                   (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string());
        } else {
            *why = std::string("cannot lock ") + path + ": " + strerror(e);
        }
        return false;
    }
    // Kept open for the life of the process: the lock goes when the last process that
    // inherited the descriptor ends (a worker still draining keeps the database locked).
    if (write_pid || (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR) {
        char text[32];
        int len = snprintf(text, sizeof text, "%ld\n", static_cast<long>(getpid()));
        if (ftruncate(fd, 0) != 0 || pwrite(fd, text, static_cast<size_t>(len), 0) != len) {
            if (write_pid) {
                *why = std::string("cannot write ") + path + ": " + strerror(errno);
                close(fd);
                return false;
            }
        }
    }
    return true;
}

void remove_pidfile(const std::string &path)
{
    if (!path.empty())
        unlink(path.c_str());
}

int drop_privileges(const std::string &user, const std::string &group, std::string *why)
{
    if (user.empty()) {
        if (!group.empty()) {
            *why = "group '" + group + "' is set without user";
            return 67;
        }
        return 0;
    }
    errno = 0;
    const passwd *pw = getpwnam(user.c_str());
    if (!pw) {
        *why = "user '" + user + "': " + (errno ? strerror(errno) : "no such user");
        return 67;
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (!group.empty()) {
        errno = 0;
        const struct group *gr = getgrnam(group.c_str());
        if (!gr) {
            *why = "group '" + group + "': " + (errno ? strerror(errno) : "no such group");
            return 67;
        }
        gid = gr->gr_gid;
    }
    if (geteuid() != 0) {
        if (uid == geteuid())
            return 0;
        *why = "user '" + user + "': jimd must be started as root to run as another user";
        return 77;
    }
    if (initgroups(user.c_str(), gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
        *why = "cannot switch to user '" + user + "': " + strerror(errno);
        return 77;
    }
    if (uid != 0 && setuid(0) == 0) {
        *why = "switched to user '" + user + "' but could get root back";
        return 77;
    }
    return 0;
}

std::string absolute_path(const std::string &path)
{
    if (path.empty() || path[0] == '/')
        return path;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return path;
    return std::string(cwd) + "/" + path;
}

} // namespace jimd
