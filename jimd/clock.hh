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

// "worker[3]" or "master": the module column of log lines.
const char *worker_tag(int index);

} // namespace jimd
