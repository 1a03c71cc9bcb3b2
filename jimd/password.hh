// Password hashing: salted scrypt, run on a helper thread so a worker's loop never waits.
#pragma once

#include <event2/event.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace jimd {

// Makes "scrypt$N$r$p$salt$hash" (base64 parts) for password with a fresh random salt.
bool password_hash(const std::string &password, uint64_t n, std::string *out);
// True when password matches stored (compared in constant time).
bool password_verify(const std::string &password, const std::string &stored);

// One helper thread per worker: jobs run there, their completions run on the loop.
class Hasher {
  public:
    using Job = std::function<void()>;  // runs on the helper thread
    using Done = std::function<void()>; // runs on the event loop afterwards
    explicit Hasher(event_base *base);
    ~Hasher();
    bool start();
    void submit(Job job, Done done);
    size_t pending() const { return in_flight_; }

  private:
    static void on_wake(evutil_socket_t fd, short, void *arg);
    void run();

    event_base *base_;
    event *wake_ = nullptr;
    int pipe_[2] = {-1, -1};
    std::thread thread_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::pair<Job, Done>> jobs_;
    std::deque<Done> done_;
    bool stop_ = false;
    size_t in_flight_ = 0;
};

} // namespace jimd
