// Launches jimd or the relay in a child pinned to the server CPUs; /proc accounting.
#include "server.hh"
#include "net.hh"
#include "relay.hh"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sched.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace jimbench {

bool pin_to(const std::string &list)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ','))
        CPU_SET(std::atoi(item.c_str()), &set);
    return sched_setaffinity(0, sizeof set, &set) == 0;
}

bool Server::start(const Options &o, const char *, const std::string &extra_config)
{
    if (o.relay) {
        int lfd = listen_loopback(&port_);
        if (lfd < 0)
            return false;
        pid_ = fork();
        if (pid_ == 0) {
            pin_to(o.server_cpus);
            raise_fd_limit();
            _exit(run_relay(lfd));
        }
        close(lfd);
        return pid_ > 0;
    }
    // JIMBENCH_DIR puts the database elsewhere (e.g. /dev/shm, to tell disk from CPU).
    const char *base = std::getenv("JIMBENCH_DIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/jimbench-XXXXXX";
    if (!mkdtemp(tmpl.data()))
        return false;
    dir_ = tmpl;
    std::string conf = dir_ + "/jimd.conf", log = dir_ + "/jimd.log";
    {
        std::ofstream f(conf);
        f << "log_file " << log << "\nlog_level warning\nmsg_rate 0\n"
          << "max_connections_per_ip 1000000\nprobe_interval 86400\n"
          << "login_failures_max 1000\nregister_max_ip 1000000\nlogin_timeout 3600\n"
          << extra_config << "\n";
        // JIMBENCH_JIMD_CONFIG adds lines, e.g. "log_level debug" or "synchronous full".
        if (const char *more = std::getenv("JIMBENCH_JIMD_CONFIG"))
            f << more << "\n";
    }
    // The port comes back through the log; warning level hides it, so use a fixed one.
    int probe_port = 0;
    int tmp = listen_loopback(&probe_port);
    close(tmp);
    port_ = probe_port;
    pid_ = fork();
    if (pid_ == 0) {
        pin_to(o.server_cpus);
        std::string w = std::to_string(o.workers), p = std::to_string(port_);
        std::string db = dir_ + "/jimd.db";
        execl(o.jimd.c_str(), "jimd", "-a", "127.0.0.1", "-p", p.c_str(), "-w", w.c_str(), "-D",
              db.c_str(), "-c", conf.c_str(), static_cast<char *>(nullptr));
        std::perror(o.jimd.c_str());
        _exit(127);
    }
    // Ready when a connection succeeds and every worker is up (its children exist).
    for (int i = 0; i < 500; i++) {
        usleep(20000);
        int status;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            std::fprintf(stderr, "jimbench: jimd exited at start; see %s\n", log.c_str());
            pid_ = 0;
            return false;
        }
        if (static_cast<int>(pids().size()) >= 1 + o.workers) {
            int fd = connect_loopback(port_);
            if (fd >= 0) {
                close(fd);
                usleep(100000);
                return true;
            }
        }
    }
    std::fprintf(stderr, "jimbench: jimd did not start\n");
    return false;
}

void Server::stop()
{
    if (std::getenv("JIMBENCH_KEEP"))
        std::fprintf(stderr, "jimbench: keeping %s\n", dir_.c_str());
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        int status;
        for (int i = 0; i < 500 && waitpid(pid_, &status, WNOHANG) == 0; i++)
            usleep(20000);
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = 0;
    }
    if (!dir_.empty() && !std::getenv("JIMBENCH_KEEP")) {
        std::string cmd = "rm -rf '" + dir_ + "'";
        if (std::system(cmd.c_str()) != 0)
            std::fprintf(stderr, "jimbench: cannot remove %s\n", dir_.c_str());
        dir_.clear();
    }
}

// The server's process and its children (the workers).
std::vector<pid_t> Server::pids() const
{
    std::vector<pid_t> out;
    if (pid_ <= 0)
        return out;
    out.push_back(pid_);
    DIR *d = opendir("/proc");
    if (!d)
        return out;
    while (dirent *e = readdir(d)) {
        pid_t p = static_cast<pid_t>(std::atoi(e->d_name));
        if (p <= 0)
            continue;
        std::ifstream f("/proc/" + std::string(e->d_name) + "/stat");
        std::string line;
        std::getline(f, line);
        size_t rp = line.rfind(')');
        if (rp == std::string::npos)
            continue;
        char state;
        int ppid;
        if (std::sscanf(line.c_str() + rp + 1, " %c %d", &state, &ppid) == 2 && ppid == pid_)
            out.push_back(p);
    }
    closedir(d);
    return out;
}

double Server::cpu_seconds(double *kernel) const
{
    double ticks = 0, kernel_ticks = 0;
    for (pid_t p : pids()) {
        std::ifstream f("/proc/" + std::to_string(p) + "/stat");
        std::string line;
        std::getline(f, line);
        size_t rp = line.rfind(')');
        if (rp == std::string::npos)
            continue;
        std::istringstream rest(line.substr(rp + 2));
        std::string field;
        // utime and stime (fields 14, 15); for the top process also cutime and cstime
        // (16, 17), the time of its children that have exited (jimd's short-lived upkeep
        // processes). The odd ones are the kernel's.
        int last = p == pid_ ? 17 : 15;
        for (int i = 3; i <= last && rest >> field; i++) {
            if (i < 14)
                continue;
            auto t = static_cast<double>(std::stoull(field));
            ticks += t;
            if (i % 2 == 1)
                kernel_ticks += t;
        }
    }
    auto hz = static_cast<double>(sysconf(_SC_CLK_TCK));
    if (kernel)
        *kernel = kernel_ticks / hz;
    return ticks / hz;
}

bool Server::io_calls(long *reads, long *writes) const
{
    *reads = *writes = 0;
    for (pid_t p : pids()) {
        std::ifstream f("/proc/" + std::to_string(p) + "/io");
        std::string key;
        long value;
        int seen = 0;
        while (f >> key >> value) {
            if (key == "syscr:" || key == "syscw:") {
                *(key == "syscr:" ? reads : writes) += value;
                seen++;
            }
        }
        if (seen != 2)
            return false;
    }
    return true;
}

long Server::pss_bytes() const
{
    long kb = 0;
    for (pid_t p : pids()) {
        std::ifstream f("/proc/" + std::to_string(p) + "/smaps_rollup");
        std::string line;
        while (std::getline(f, line))
            if (line.rfind("Pss:", 0) == 0)
                kb += std::atol(line.c_str() + 4);
    }
    return kb * 1024;
}

} // namespace jimbench
