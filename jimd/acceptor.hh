// A worker's listening sockets: accepts connections (up to 64 a wake-up) and hands each
// socket and its peer's address on. It keeps kSpareFds descriptors free for the worker's
// own needs (SQLite's temporary files, the log after a rotation, the sanitizers' pipes):
// near that line, and when accept() fails for want of descriptors or memory, it stops for
// a moment instead of spinning on a socket that stays readable.
#pragma once

#include <jim/log.h>

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace jimd {

class Acceptor {
  public:
    // A new connection: its socket (non-blocking, close-on-exec) and its peer's address.
    using OnAccept = std::function<void(int fd, const char *ip)>;
    Acceptor(event_base *base, jim_log *log, std::string tag, OnAccept on_accept);
    ~Acceptor();
    Acceptor(const Acceptor &) = delete;
    Acceptor &operator=(const Acceptor &) = delete;
    // Starts accepting on every socket in fds; false: out of memory.
    bool start(const std::vector<int> &fds);
    // Stops for good (the worker drains).
    void stop();

  private:
    static void on_listen(evutil_socket_t fd, short, void *arg);
    static void on_resume(evutil_socket_t, short, void *arg);
    void accept_from(int fd);
    bool spare_left(int lfd);
    void wait_a_moment(const char *why);
    void pause(bool paused);

    static constexpr int kPauseMs = 250, kLogEverySec = 10, kSpareFds = 16;
    event_base *base_;
    jim_log *log_;
    std::string tag_;
    OnAccept on_accept_;
    std::vector<event *> listen_evs_;
    event *resume_ev_ = nullptr;
    bool stopped_ = false;
    long fd_limit_ = 0;       // RLIMIT_NOFILE when started
    bool near_limit_ = false; // the last socket was near it: look before taking another
    uint64_t failures_ = 0;   // since the last report
    int64_t logged_us_ = -(int64_t{1} << 60);
};

} // namespace jimd
