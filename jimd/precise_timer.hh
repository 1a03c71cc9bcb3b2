// A one-shot timer with microsecond precision on a Linux timerfd, served by a libevent
// loop: for the group commit's wait of a fraction of a millisecond, without making every
// turn of the loop re-arm a timer (libevent's precise timers call timerfd_settime once per
// turn; the loop's other timers are whole milliseconds).
#pragma once

#include <cstdint>
#include <functional>

struct event;
struct event_base;

namespace jimd {

class PreciseTimer {
  public:
    PreciseTimer() = default;
    ~PreciseTimer();
    PreciseTimer(const PreciseTimer &) = delete;
    PreciseTimer &operator=(const PreciseTimer &) = delete;

    // Makes the timerfd and its event on `base`; `fire` runs when an armed timer expires.
    // False (errno set) when the descriptor or the event cannot be made.
    bool open(event_base *base, std::function<void()> fire);
    // Fires once, `us` microseconds from now (at least 1); replaces an earlier arm. False
    // if the kernel refused (the caller then does at once what it meant to do later).
    bool arm(int64_t us);
    // Forgets the armed timer: an expiry already on its way is ignored.
    void cancel() { armed_ = false; }
    bool armed() const { return armed_; }

  private:
    static void on_readable(int fd, short what, void *arg);

    int fd_ = -1;
    event *ev_ = nullptr;
    bool armed_ = false;
    std::function<void()> fire_;
};

} // namespace jimd
