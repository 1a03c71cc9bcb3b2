// PreciseTimer: a timerfd armed only when a wait starts, read when it expires.
#include "precise_timer.hh"

#include <cerrno>
#include <cstdint>
#include <event2/event.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <utility>

namespace jimd {

PreciseTimer::~PreciseTimer()
{
    if (ev_)
        event_free(ev_);
    if (fd_ >= 0)
        close(fd_);
}

bool PreciseTimer::open(event_base *base, std::function<void()> fire)
{
    fire_ = std::move(fire);
    fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd_ < 0)
        return false;
    ev_ = event_new(base, fd_, EV_READ | EV_PERSIST, on_readable, this);
    if (!ev_ || event_add(ev_, nullptr) != 0) {
        errno = ENOMEM;
        return false;
    }
    return true;
}

bool PreciseTimer::arm(int64_t us)
{
    if (us < 1)
        us = 1; // a zero it_value would disarm the timer
    itimerspec its = {};
    its.it_value.tv_sec = static_cast<time_t>(us / 1000000);
    its.it_value.tv_nsec = static_cast<long>(us % 1000000) * 1000;
    armed_ = timerfd_settime(fd_, 0, &its, nullptr) == 0;
    return armed_;
}

void PreciseTimer::on_readable(int fd, short, void *arg)
{
    auto *t = static_cast<PreciseTimer *>(arg);
    uint64_t expiries;
    // EAGAIN: re-armed after this expiry was reported, which cleared it.
    if (read(fd, &expiries, sizeof expiries) != static_cast<ssize_t>(sizeof expiries))
        return;
    if (!t->armed_)
        return; // cancelled
    t->armed_ = false;
    t->fire_();
}

} // namespace jimd
