// A worker's helper thread, for jobs that would stall its event loop.
#pragma once

#include <event2/event.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace jimd {

// A helper thread: jobs run there in order, their completions run on the loop.
class Helper {
  public:
    using Job = std::function<void()>;  // runs on the helper thread
    using Done = std::function<void()>; // runs on the event loop afterwards
    explicit Helper(event_base *base);
    ~Helper();
    // Starts the thread; nice > 0 lowers its priority below the loop's (Linux
    // threads have their own nice value), so the loop preempts it at once.
    bool start(int nice = 0);
    // Queues job for the thread; done runs on the loop once it has run.
    void submit(Job job, Done done);

  private:
    static void on_wake(evutil_socket_t fd, short, void *arg);
    void run(int nice);

    event_base *base_;
    event *wake_ = nullptr;
    int pipe_[2] = {-1, -1};
    std::thread thread_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::pair<Job, Done>> jobs_;
    std::deque<Done> done_;
    bool stop_ = false;
};

} // namespace jimd
