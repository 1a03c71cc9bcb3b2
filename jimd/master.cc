// The master: binds, forks the workers with a socketpair mesh between them, respawns a
// dead worker (and hands the live ones a new link to it), forwards reload signals and
// drains on SIGTERM. It keeps no database connection open across fork().
#include "master.hh"

#include "clock.hh"
#include "control.hh"
#include "control_socket.hh"
#include "counters.hh"
#include "daemon.hh"
#include "ip_slots.hh"
#include "journal.hh"
#include "notify.hh"
#include "tls.hh"
#include "worker.hh"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace jimd {

const char *worker_tag(int index)
{
    static thread_local char tag[24];
    if (index < 0)
        return "master";
    snprintf(tag, sizeof tag, "worker[%d]", index);
    return tag;
}

namespace {

#define MLOG(level, ...) JIM_LOG(log, level, "master", __VA_ARGS__)

struct Slot {
    pid_t pid = 0;
    int control = -1; // master's end of the control socketpair
    int64_t started_us = 0;
    int64_t respawn_at_us = 0;
    int64_t backoff_us = 0;
};

// Fails when something already listens on addr:port: a socket without SO_REUSEPORT cannot
// bind a port that another socket holds, whereas jimd's own sockets (which all set it)
// would share the port with another jimd and split its clients at random.
bool port_free(const std::string &addr, int port, std::string *why)
{
    addrinfo hints = {}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    std::string service = std::to_string(port);
    if (getaddrinfo(addr.c_str(), service.c_str(), &hints, &res) != 0)
        return true; // listen_on reports it
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1, zero = 0;
    bool free = true;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); // TIME_WAIT is no owner
        if (res->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 && errno == EADDRINUSE) {
            *why = "port " + service + " on " + (addr == "::" ? "every address" : addr) +
                   " is in use by another program (another jimd?)";
            free = false;
        }
        close(fd);
    }
    freeaddrinfo(res);
    return free;
}

// Binds one listening socket; the first gets the port (0: any) and the rest share it.
int listen_on(const std::string &addr, int *port, std::string *why)
{
    addrinfo hints = {}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    std::string service = std::to_string(*port);
    int rc = getaddrinfo(addr.c_str(), service.c_str(), &hints, &res);
    if (rc != 0) {
        *why = addr + ": " + gai_strerror(rc);
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1, zero = 0;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (res->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        *why = "cannot listen on " + addr + " port " + service + ": " + strerror(errno);
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    if (*port == 0) {
        sockaddr_storage ss;
        socklen_t len = sizeof ss;
        getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len);
        *port = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port
                                               : reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
    }
    return fd;
}

class Master {
  public:
    Master(Settings &s, std::string config_path, jim_log *logger)
        : settings_(s), config_path_(std::move(config_path)), log(logger)
    {
    }
    int run();

  private:
    int prepare();
    bool start_workers();
    int open_control_socket();
    void relay_setting(int from, const ControlFrame &f);
    void on_signal(int sig, int64_t now);
    void reload();
    void reload_tls();
    void read_control(int index);
    void check_startup(int64_t now);
    int open_listeners();
    bool spawn(int index, const std::vector<int> &peer_fds);
    void respawn(int index);
    void reap();
    void start_upkeep();
    pid_t fork_upkeep(int nice, void (*job)(const JournalConfig &), const JournalConfig &config,
                      const char *what);
    JournalConfig journal_config() const;
    pid_t upkeep_pid_ = 0;       // indexing, at nice 19
    int64_t upkeep_loud_us_ = 0; // when an upkeep last could log its failures
    pid_t wal_pid_ = 0;          // the WAL's restart, at the master's own priority
    void signal_workers(int sig);
    int alive() const;

    Settings &settings_;
    std::string config_path_;
    jim_log *log;
    TlsContext tls_; // handed to the workers it forks (null: TLS off)
    int count_ = 1;
    int port_ = 0; // the port bound (for -p 0: the one chosen)
    std::string serving_status() const;
    std::vector<std::vector<int>> listeners_; // per worker
    std::vector<Slot> slots_;
    IpSlots ip_slots_;                // connections per address, shared with the workers
    std::vector<int> close_in_child_; // mesh ends that belong to other workers
    int control_listener_ = -1;       // the local control socket, accepted on by the workers
    std::string control_path_;        // removed when jimd stops
    CounterBoard *board_ = nullptr;   // the workers' counters, shared with them
    int64_t started_at_ = 0;          // UNIX seconds
    sigset_t signals_;
    int signal_fd_ = -1;
    // Start-up: the workers that said Ready, and until when they may take.
    std::vector<bool> ready_;
    bool started_ = false;
    int failed_status_ = 0; // the exit status when start-up failed
    int64_t startup_deadline_us_ = 0;
    static constexpr int64_t kStartupTimeoutUs = 60000000;
    bool stopping_ = false;
    int64_t stop_deadline_us_ = 0;
    int64_t next_checkpoint_us_ = 0;
};

// Binds one listening socket per worker; 0, or the exit status (69: the port is taken).
int Master::open_listeners()
{
    std::string addr = settings_.str(S_ADDRESS);
    int port = static_cast<int>(settings_.num(S_PORT));
    std::string why;
    listeners_.assign(static_cast<size_t>(count_), {});
    if (port != 0) {
        bool free = addr.empty() ? port_free("::", port, &why) && port_free("0.0.0.0", port, &why)
                                 : port_free(addr, port, &why);
        if (!free) {
            report_fatal(log, "master", why);
            return 69; // EX_UNAVAILABLE
        }
    }
    for (int i = 0; i < count_; i++) {
        int fd = -1;
        if (addr.empty()) {
            fd = listen_on("::", &port, &why); // IPv6 and IPv4 on one socket
            if (fd < 0)
                fd = listen_on("0.0.0.0", &port, &why);
        } else {
            fd = listen_on(addr, &port, &why);
        }
        if (fd < 0) {
            report_fatal(log, "master", why);
            return 71; // EX_OSERR
        }
        listeners_[i].push_back(fd);
    }
    MLOG(JIM_LOG_INFO, "listening on %s port %d with %d workers",
         addr.empty() ? "every address" : addr.c_str(), port, count_);
    port_ = port;
    return 0;
}

// Forks worker index. peer_fds[j] is this worker's end of its link to worker j (-1: none).
bool Master::spawn(int index, const std::vector<int> &peer_fds)
{
    int ctl[2];
    if (!control_pair(ctl)) {
        MLOG(JIM_LOG_ERROR, "socketpair() failed: %s", strerror(errno));
        return false;
    }
    pid_t pid = fork();
    if (pid < 0) {
        MLOG(JIM_LOG_ERROR, "fork() failed: %s", strerror(errno));
        close(ctl[0]);
        close(ctl[1]);
        return false;
    }
    if (pid == 0) {
        // The child: plain signals, only its own descriptors.
        sigset_t none;
        sigemptyset(&none);
        for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD, SIGPIPE})
            signal(sig, SIG_DFL);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        close(ctl[0]);
        close(signal_fd_);
        for (const Slot &s : slots_)
            if (s.control >= 0)
                close(s.control);
        for (int i = 0; i < count_; i++)
            if (i != index)
                for (int fd : listeners_[i])
                    close(fd);
        for (int fd : close_in_child_)
            close(fd);
        WorkerSetup setup;
        setup.index = index;
        setup.count = count_;
        setup.listeners = listeners_[index];
        setup.control_fd = ctl[1];
        setup.peers = peer_fds;
        setup.config_path = config_path_;
        setup.ip_slots = &ip_slots_;
        setup.tls = tls_.get();
        setup.control_listener = control_listener_;
        setup.board = board_;
        setup.started = started_at_;
        int status;
        {
            Worker w(std::move(setup), settings_, log);
            status = w.run();
        }
        _exit(status);
    }
    close(ctl[1]);
    Slot &s = slots_[index];
    s.pid = pid;
    s.control = ctl[0];
    s.started_us = mono_us();
    s.respawn_at_us = 0;
    MLOG(JIM_LOG_INFO, "worker %d started (pid %d)", index, static_cast<int>(pid));
    return true;
}

// Restarts worker index and gives every live worker a new link to it.
void Master::respawn(int index)
{
    std::vector<int> mine(static_cast<size_t>(count_), -1), theirs(static_cast<size_t>(count_), -1);
    for (int j = 0; j < count_; j++) {
        if (j == index || slots_[j].pid <= 0)
            continue;
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0) {
            mine[j] = sp[0];
            theirs[j] = sp[1];
        }
    }
    close_in_child_.clear();
    for (int fd : theirs)
        if (fd >= 0)
            close_in_child_.push_back(fd);
    bool ok = spawn(index, mine);
    if (ok)
        WorkerCounters::add(board_->worker(index).restarts);
    close_in_child_.clear();
    for (int j = 0; j < count_; j++) {
        if (mine[j] >= 0)
            close(mine[j]);
        if (theirs[j] < 0)
            continue;
        if (ok && !control_send(slots_[j].control, peer::PeerLink{static_cast<uint32_t>(index)},
                                theirs[j]))
            MLOG(JIM_LOG_WARNING, "cannot link worker %d to worker %d: %s", j, index,
                 strerror(errno));
        close(theirs[j]);
    }
    if (!ok) {
        Slot &s = slots_[index];
        s.backoff_us = std::min<int64_t>(std::max<int64_t>(s.backoff_us * 2, 1000000), 30000000);
        s.respawn_at_us = mono_us() + s.backoff_us;
    }
}

// The database upkeep, every checkpoint_interval, in short-lived children (the master
// keeps no connection open, so a fork never copies one). The regular upkeep runs at the
// lowest priority: on a busy machine a worker that wakes up always runs before it. The
// urgent one (the WAL's restart, needed only when the workers' own copying could not keep
// up: several workers committing without a pause, or a core so busy that their nice-19
// threads get no CPU) runs at the master's priority: at the lowest it would wait for a
// free moment that a saturated core never has, while the WAL grew by tens of megabytes a
// second.
void Master::start_upkeep()
{
    JournalConfig config = journal_config();
    // One upkeep in 10 s may say that it cannot open the database (a full disk fails them
    // all, every checkpoint_interval).
    int64_t now = mono_us();
    config.quiet = upkeep_loud_us_ != 0 && now - upkeep_loud_us_ < 10'000'000;
    if (!config.quiet)
        upkeep_loud_us_ = now;
    if (upkeep_pid_ == 0) // else the last one is still at work
        upkeep_pid_ = fork_upkeep(19, journal_upkeep, config, "indexing");
    if (wal_pid_ == 0 && journal_upkeep_urgent(config))
        wal_pid_ = fork_upkeep(0, journal_rescue, config, "the WAL's restart");
}

// Runs job in a child at the given nice value; its pid, or 0 if fork failed.
pid_t Master::fork_upkeep(int nice, void (*job)(const JournalConfig &), const JournalConfig &config,
                          const char *what)
{
    pid_t pid = fork();
    if (pid < 0) {
        MLOG(JIM_LOG_WARNING, "fork() for %s failed: %s", what, strerror(errno));
        return 0;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD})
            signal(sig, SIG_DFL);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        quiet_stderr();
        if (nice)
            setpriority(PRIO_PROCESS, 0, nice);
        job(config);
        _exit(0);
    }
    return pid;
}

// How the master's processes open the journal.
JournalConfig Master::journal_config() const
{
    JournalConfig c;
    c.path = settings_.str(S_DATABASE);
    c.sync_full = settings_.str(S_SYNCHRONOUS) == "full";
    c.busy_ms = static_cast<int>(settings_.num(S_BUSY_TIMEOUT_MS));
    c.workers = count_;
    c.log = log;
    c.tag = "master";
    return c;
}

void Master::reap()
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == upkeep_pid_ || pid == wal_pid_) {
            (pid == upkeep_pid_ ? upkeep_pid_ : wal_pid_) = 0;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                MLOG(JIM_LOG_WARNING, "database upkeep failed (status %d)", status);
            continue;
        }
        for (int i = 0; i < count_; i++) {
            Slot &s = slots_[i];
            if (s.pid != pid)
                continue;
            s.pid = 0;
            if (s.control >= 0)
                close(s.control);
            s.control = -1;
            ip_slots_.forget(i); // its connections are gone with it
            if (stopping_) {
                MLOG(JIM_LOG_INFO, "worker %d exited", i);
                break;
            }
            if (WIFSIGNALED(status))
                MLOG(JIM_LOG_ERROR, "worker %d (pid %d) killed by signal %d", i,
                     static_cast<int>(pid), WTERMSIG(status));
            else
                MLOG(JIM_LOG_ERROR, "worker %d (pid %d) exited with status %d", i,
                     static_cast<int>(pid), WEXITSTATUS(status));
            // A worker that dies young is restarted ever more slowly (up to 30 s).
            int64_t lived = mono_us() - s.started_us;
            s.backoff_us =
                lived < 5000000
                    ? std::min<int64_t>(std::max<int64_t>(s.backoff_us * 2, 250000), 30000000)
                    : 0;
            s.respawn_at_us = mono_us() + s.backoff_us;
            break;
        }
    }
}

void Master::signal_workers(int sig)
{
    for (const Slot &s : slots_)
        if (s.pid > 0)
            kill(s.pid, sig);
}

int Master::alive() const
{
    int n = 0;
    for (const Slot &s : slots_)
        n += s.pid > 0;
    return n;
}

// Everything before the workers: listening sockets, then (started as root) the switch to
// the configured user, then the schema, brought up to date once and closed before fork.
// 0, or the exit status.
int Master::prepare()
{
    long workers = settings_.num(S_WORKERS);
    if (workers == 0)
        workers = sysconf(_SC_NPROCESSORS_ONLN);
    count_ = static_cast<int>(std::clamp<long>(workers, 1, kMaxWorkers)); // 0 on many CPUs
    slots_.assign(static_cast<size_t>(count_), {});
    ready_.assign(static_cast<size_t>(count_), false);
    if (int status = open_listeners())
        return status;
    std::string why, warning;
    // Loaded before the privileges go, so that the key may be readable by root only.
    if (!make_tls_context(settings_, &tls_, &why, &warning)) {
        report_fatal(log, "master", why);
        return 78; // EX_CONFIG
    }
    if (!warning.empty())
        MLOG(JIM_LOG_WARNING, "%s", warning.c_str());
    if (int status = drop_privileges(settings_.str(S_USER), settings_.str(S_GROUP), &why)) {
        report_fatal(log, "master", why);
        return status; // EX_NOUSER or EX_NOPERM
    }
    if (!settings_.str(S_USER).empty())
        MLOG(JIM_LOG_INFO, "running as user %s", settings_.str(S_USER).c_str());
    if (!journal_prepare(journal_config(), &why)) {
        report_fatal(log, "master", "database: " + why);
        return 74; // EX_IOERR
    }
    started_at_ = wall_seconds();
    board_ = CounterBoard::make(count_);
    if (!board_) {
        report_fatal(log, "master",
                     std::string("mmap() for the counters failed: ") + strerror(errno));
        return 71; // EX_OSERR
    }
    return open_control_socket();
}

// The control socket, made as jimd's own user (so that it owns it); 0, or the exit status.
int Master::open_control_socket()
{
    control_path_ = control_socket_path(settings_);
    if (control_path_.empty())
        return 0;
    // Its lock says whether another jimd (of another database) uses this path: jimd never
    // connect()s to find out (tests/verifier.sh). Held, like the database's, by every child.
    std::string why;
    if (!lock_file(control_path_ + ".lock", true, ("control socket " + control_path_).c_str(),
                   &why)) {
        control_path_.clear();
        report_fatal(log, "master", why);
        return 69; // EX_UNAVAILABLE, as for the database
    }
    control_listener_ = control_socket_open(control_path_, &why);
    if (control_listener_ < 0) {
        control_path_.clear();
        report_fatal(log, "master", why);
        return 73; // EX_CANTCREAT
    }
    MLOG(JIM_LOG_INFO, "control socket %s", absolute_path(control_path_).c_str());
    return 0;
}

// A worker changed a setting (admin_set): the master keeps it for the workers it starts
// later, and tells the others.
void Master::relay_setting(int from, const ControlFrame &f)
{
    std::string why;
    int index = setting_by_name(f.name);
    if (index < 0 || Settings::needs_restart(static_cast<Setting>(index)) ||
        !settings_.set(static_cast<Setting>(index), f.value, &why)) {
        MLOG(JIM_LOG_WARNING, "worker %d set %s: refused", from, f.name.c_str());
        return;
    }
    MLOG(JIM_LOG_INFO, "%s set to '%s' by an administrator", f.name.c_str(), f.value.c_str());
    jim_log_level level;
    if (f.name == "log_level" && jim_log_level_from_name(f.value.c_str(), &level) == JIM_OK)
        jim_log_set_level(log, level);
    for (int j = 0; j < count_; j++)
        if (j != from && slots_[j].control >= 0 &&
            !control_send(slots_[j].control, peer::Set{f.name, f.value}))
            MLOG(JIM_LOG_WARNING, "cannot tell worker %d of %s: %s", j, f.name.c_str(),
                 strerror(errno));
}

// Forks every worker with the full mesh between them: one socketpair for every pair.
bool Master::start_workers()
{
    if (!ip_slots_.map(count_)) {
        MLOG(JIM_LOG_CRITICAL, "mmap() of the connection counts failed: %s", strerror(errno));
        return false;
    }
    std::vector<std::vector<int>> ends(static_cast<size_t>(count_),
                                       std::vector<int>(static_cast<size_t>(count_), -1));
    for (int i = 0; i < count_; i++)
        for (int j = i + 1; j < count_; j++) {
            int sp[2];
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
                MLOG(JIM_LOG_CRITICAL, "socketpair() failed: %s", strerror(errno));
                return false;
            }
            ends[i][j] = sp[0];
            ends[j][i] = sp[1];
        }
    for (int i = 0; i < count_; i++) {
        close_in_child_.clear();
        for (int k = i + 1; k < count_; k++)
            for (int fd : ends[k])
                if (fd >= 0)
                    close_in_child_.push_back(fd);
        if (!spawn(i, ends[i]))
            return false;
        for (int j = 0; j < count_; j++)
            if (ends[i][j] >= 0)
                close(ends[i][j]), ends[i][j] = -1;
    }
    close_in_child_.clear();
    return true;
}

// Rereads the config file, keeping what the command line set; a setting that needs a
// restart keeps its old value, and the log says so.
void Master::reload()
{
    MLOG(JIM_LOG_INFO, "SIGHUP: reloading configuration and reopening logs");
    notify("RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=" +
           std::to_string(mono_us()));
    if (!config_path_.empty()) {
        Settings fresh;
        std::vector<std::string> errors;
        if (settings_.reloaded(config_path_, &fresh, &errors)) {
            for (int i = 0; i < S_COUNT; i++) {
                auto s = static_cast<Setting>(i);
                if (Settings::needs_restart(s) && fresh.str(s) != settings_.str(s))
                    MLOG(JIM_LOG_WARNING,
                         "%s changed from '%s' to '%s': it takes effect when jimd restarts",
                         setting_info(s).name, settings_.str(s).c_str(), fresh.str(s).c_str());
            }
            settings_.take_reloadable(fresh);
            reload_tls();
        } else {
            for (const std::string &e : errors)
                MLOG(JIM_LOG_ERROR, "reload failed, keeping the old settings: %s", e.c_str());
        }
    }
    jim_log_reopen(log);
    if (started_)
        notify("READY=1\n" + serving_status());
}

// The STATUS= line systemd shows for a serving jimd. (Connections and messages per second
// join it once the workers count them for the master.)
std::string Master::serving_status() const
{
    return "STATUS=serving on port " + std::to_string(port_) + " with " + std::to_string(count_) +
           " workers";
}

// A new certificate for the workers forked from now on (each running worker loads its
// own); a bad one keeps the one before.
void Master::reload_tls()
{
    TlsContext fresh;
    std::string why, warning;
    if (!make_tls_context(settings_, &fresh, &why, &warning)) {
        MLOG(JIM_LOG_ERROR, "TLS not reloaded, keeping the certificate loaded before: %s",
             why.c_str());
        return;
    }
    if (!warning.empty())
        MLOG(JIM_LOG_WARNING, "%s", warning.c_str());
    tls_ = std::move(fresh);
}

void Master::on_signal(int sig, int64_t now)
{
    if (sig == SIGCHLD) {
        reap();
    } else if (sig == SIGTERM || sig == SIGINT) {
        if (!stopping_) {
            MLOG(JIM_LOG_INFO, "signal %d: draining workers", sig);
            notify("STOPPING=1\nSTATUS=draining workers");
            stopping_ = true;
            stop_deadline_us_ = now + settings_.num(S_DRAIN_TIMEOUT) * 1000000;
            signal_workers(SIGTERM);
        }
    } else if (sig == SIGHUP) {
        reload();
        signal_workers(SIGHUP);
    } else if (sig == SIGUSR1) {
        jim_log_reopen(log);
        signal_workers(SIGUSR1);
    }
}

// A frame from worker index on its control socket.
void Master::read_control(int index)
{
    Slot &s = slots_[index];
    ControlFrame f;
    int passed = -1;
    for (;;) {
        int rc = control_recv(s.control, &f, &passed);
        if (rc == -1 || rc == 0)
            return; // nothing more now; EOF is seen by SIGCHLD
        if (passed >= 0)
            close(passed); // workers pass nothing to the master
        if (rc == 1 && f.type == peer::Type::Ready && !ready_[index]) {
            ready_[index] = true;
            MLOG(JIM_LOG_DEBUG, "worker %d is ready", index);
        } else if (rc == 1 && f.type == peer::Type::Set) {
            relay_setting(index, f);
        }
    }
}

// Until every worker has said Ready once: a worker that dies first, or a start-up that
// takes too long, ends jimd with a non-zero status (a worker that dies later is
// respawned). When they all have, the shell that ran `jimd -d` is told (daemon.hh).
void Master::check_startup(int64_t now)
{
    if (started_ || stopping_)
        return;
    for (int i = 0; i < count_; i++) {
        if (!ready_[i] && slots_[i].pid == 0) {
            report_fatal(log, "master",
                         "worker " + std::to_string(i) +
                             " failed to start (see the log): stopping");
            failed_status_ = 70; // EX_SOFTWARE
        }
    }
    if (!failed_status_ && now > startup_deadline_us_) {
        report_fatal(log, "master",
                     "the workers did not start within " +
                         std::to_string(kStartupTimeoutUs / 1000000) + " s: stopping");
        failed_status_ = 70;
    }
    if (failed_status_) {
        notify("STATUS=start-up failed: stopping");
        stopping_ = true;
        stop_deadline_us_ = now + 5000000;
        signal_workers(SIGTERM);
        return;
    }
    if (std::find(ready_.begin(), ready_.end(), false) != ready_.end())
        return;
    started_ = true;
    MLOG(JIM_LOG_INFO, "ready: %d workers serving", count_);
    startup_done();
    notify("READY=1\n" + serving_status());
}

int Master::run()
{
    if (int status = prepare())
        return status;

    sigemptyset(&signals_);
    for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1})
        sigaddset(&signals_, sig);
    sigprocmask(SIG_BLOCK, &signals_, nullptr);
    signal(SIGPIPE, SIG_IGN);
    signal_fd_ = signalfd(-1, &signals_, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ < 0) {
        MLOG(JIM_LOG_CRITICAL, "signalfd() failed: %s", strerror(errno));
        return 71;
    }
    if (!start_workers())
        return 71;
    startup_deadline_us_ = mono_us() + kStartupTimeoutUs;

    next_checkpoint_us_ = mono_us() + settings_.num(S_CHECKPOINT_INTERVAL) * 1000000;
    std::vector<pollfd> fds;
    for (;;) {
        fds.assign(1, pollfd{signal_fd_, POLLIN, 0});
        for (const Slot &s : slots_)
            fds.push_back(pollfd{s.control, static_cast<short>(s.control >= 0 ? POLLIN : 0), 0});
        poll(fds.data(), fds.size(), 200);
        int64_t now = mono_us();
        signalfd_siginfo si;
        while (read(signal_fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si))
            on_signal(static_cast<int>(si.ssi_signo), now);
        for (int i = 0; i < count_; i++)
            if (slots_[i].control >= 0 && (fds[static_cast<size_t>(i) + 1].revents & POLLIN))
                read_control(i);
        reap();
        check_startup(now);
        if (stopping_) {
            if (alive() == 0)
                break;
            if (now > stop_deadline_us_) {
                MLOG(JIM_LOG_WARNING, "workers still running after drain_timeout: killing");
                signal_workers(SIGKILL);
                stop_deadline_us_ = now + 5000000;
            }
            continue;
        }
        for (int i = 0; i < count_; i++)
            if (slots_[i].pid == 0 && slots_[i].respawn_at_us <= now)
                respawn(i);
        if (now >= next_checkpoint_us_) {
            start_upkeep();
            next_checkpoint_us_ = now + settings_.num(S_CHECKPOINT_INTERVAL) * 1000000;
        }
    }
    for (pid_t pid : {upkeep_pid_, wal_pid_})
        if (pid > 0)
            waitpid(pid, nullptr, 0);
    if (!control_path_.empty()) {
        unlink(control_path_.c_str());
        unlink((control_path_ + ".lock").c_str());
    }
    if (failed_status_)
        return failed_status_;
    journal_finish(journal_config()); // the last upkeep, with the workers gone
    MLOG(JIM_LOG_INFO, "stopped");
    return 0;
}

} // namespace

int run_master(Settings &settings, const std::string &config_path, jim_log *log)
{
    Master m(settings, config_path, log);
    return m.run();
}

} // namespace jimd
