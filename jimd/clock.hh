// Clocks and the worker log tag, shared by jimd's files.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace jimd {

// Microseconds on the monotonic clock: for intervals.
inline int64_t mono_us()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
}

// UNIX seconds: for `time` fields and stored times.
inline int64_t wall_seconds()
{
    return static_cast<int64_t>(time(nullptr));
}

// Lets a failure that repeats be logged once per interval: allow() is true for the first
// occurrence and then for the first after each interval; *skipped says how many were not
// logged in between.
class LogLimit {
  public:
    explicit LogLimit(int64_t interval_us) : interval_us_(interval_us) {}
    bool allow(uint64_t *skipped)
    {
        int64_t now = mono_us();
        if (logged_us_ != 0 && now - logged_us_ < interval_us_) {
            skipped_++;
            return false;
        }
        *skipped = skipped_;
        skipped_ = 0;
        logged_us_ = now;
        return true;
    }

  private:
    int64_t interval_us_;
    int64_t logged_us_ = 0;
    uint64_t skipped_ = 0;
};

// "worker[3]" or "master": the module column of log lines.
const char *worker_tag(int index);

} // namespace jimd
