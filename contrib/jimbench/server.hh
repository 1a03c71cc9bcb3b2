// Starting the server under test on its own CPUs, and reading its CPU time and memory.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace jimbench {

struct Options {
    bool relay = false;
    std::string jimd = "build/jimd/jimd";
    int workers = 1;
    std::string server_cpus = "0";
    int bench_cpu = 1;
    std::string workload = "all";
    bool short_run = false;
    int pairs = 50, inflight = 64;
    long messages = 1000000, rate = 0;
    bool ids = false; // W1, W2: every message carries an id, as libjim's clients send
    int members = 100, senders = 5;
    int idle = 10000;
    int general_messages = 20;
    int logins = 0, logins_plain = 2000, logins_scrypt = 200;
    double time_limit = 60;
};

// A running server: jimd (master and workers) or the relay.
class Server {
  public:
    // Starts it; extra_config is added to jimd's config file. False with a message on stderr.
    bool start(const Options &o, const char *self, const std::string &extra_config);
    void stop();
    ~Server() { stop(); }
    int port() const { return port_; }
    // CPU seconds (user + system) used so far by the server's processes and threads; with
    // kernel, also the system part of them.
    double cpu_seconds(double *kernel = nullptr) const;
    // The read and write system calls the server's processes and threads made so far
    // (/proc/PID/io's syscr and syscw: read, pread64, readv... and write, pwrite64,
    // writev..., not recv and send, which the kernel does not count there; exact where CPU
    // time is noisy); false if unreadable.
    bool io_calls(long *reads, long *writes) const;
    // The memory of the server's processes, in bytes: the sum of their proportional set
    // sizes (PSS), so that a page shared by the master and a child it forked (the upkeep
    // child, alive now and then) counts once, not once per process as RSS would.
    long pss_bytes() const;

  private:
    std::vector<pid_t> pids() const;
    pid_t pid_ = 0;
    int port_ = 0;
    std::string dir_;
};

// Pins the calling process to the CPUs in list ("0" or "0,1"); false if that fails.
bool pin_to(const std::string &list);

} // namespace jimbench
