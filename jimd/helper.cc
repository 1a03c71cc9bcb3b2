// A worker's helper thread: jobs that would stall the event loop (password hashing, copying
// the WAL back) run there, and their completions run on the loop.
#include "helper.hh"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace jimd {

Helper::Helper(event_base *base) : base_(base) {}

Helper::~Helper()
{
    {
        std::lock_guard<std::mutex> g(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable())
        thread_.join();
    if (wake_)
        event_free(wake_);
    for (int fd : pipe_)
        if (fd >= 0)
            close(fd);
}

bool Helper::start(int nice)
{
    if (pipe2(pipe_, O_NONBLOCK | O_CLOEXEC) != 0)
        return false;
    wake_ = event_new(base_, pipe_[0], EV_READ | EV_PERSIST, on_wake, this);
    if (!wake_ || event_add(wake_, nullptr) != 0)
        return false;
    thread_ = std::thread([this, nice] { run(nice); });
    return true;
}

void Helper::submit(Job job, Done done)
{
    {
        std::lock_guard<std::mutex> g(mu_);
        jobs_.emplace_back(std::move(job), std::move(done));
    }
    cv_.notify_one();
}

void Helper::run(int nice)
{
    if (nice > 0)
        (void)!setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice);
    for (;;) {
        std::pair<Job, Done> item;
        {
            std::unique_lock<std::mutex> g(mu_);
            cv_.wait(g, [this] { return stop_ || !jobs_.empty(); });
            if (stop_)
                return;
            item = std::move(jobs_.front());
            jobs_.pop_front();
        }
        item.first();
        {
            std::lock_guard<std::mutex> g(mu_);
            done_.push_back(std::move(item.second));
        }
        char b = 1;
        (void)!write(pipe_[1], &b, 1);
    }
}

void Helper::on_wake(evutil_socket_t fd, short, void *arg)
{
    auto *h = static_cast<Helper *>(arg);
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    std::deque<Done> done;
    {
        std::lock_guard<std::mutex> g(h->mu_);
        done.swap(h->done_);
    }
    for (Done &d : done)
        d();
}

} // namespace jimd
