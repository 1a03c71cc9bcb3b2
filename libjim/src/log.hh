// The logger behind jim_log, and the scoped call trace used inside jim.
#pragma once

#include <jim/log.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <string>

struct jim_log {
    std::string name;
    std::string path; // empty: standard error
    std::atomic<int> level{JIM_LOG_INFO};
    unsigned flags = 0;
    int fd = 2;
    volatile sig_atomic_t reopen_requested = 0;
    jim_log_clock_fn clock = nullptr;
    void *clock_data = nullptr;
    int64_t day_end_us = 0; // when the current file's day ends (local midnight)
    std::string day;        // that day as YYYY-MM-DD, the suffix at rotation
    std::mutex lock;        // one writer at a time within a process
};

namespace jim {

// True when log writes lines at level; one load and one compare.
inline bool log_on(const jim_log *log, jim_log_level level)
{
    return log && level >= log->level.load(std::memory_order_relaxed);
}

// The logger libjim writes to (jim_log_set_default).
jim_log *default_log();

// A call trace that ends when the scope does; does nothing while tracing is off.
class TraceScope {
  public:
    TraceScope() = default;
    TraceScope(const TraceScope &) = delete;
    TraceScope &operator=(const TraceScope &) = delete;
    ~TraceScope() { jim_trace_leave(token_); }
    void set(const char *token) { token_ = token; }

  private:
    const char *token_ = nullptr;
};

} // namespace jim

// Traces the enclosing function to log with printf-style arguments; ends with the scope.
#define JIM_TRACE_LOG(log, module, ...)                                            \
    jim::TraceScope jim_trace_scope_;                                              \
    do {                                                                           \
        jim_log *jim_trace_log_ = (log);                                           \
        if (jim::log_on(jim_trace_log_, JIM_LOG_TRACE))                            \
            jim_trace_scope_.set(                                                  \
                jim_trace_enter(jim_trace_log_, (module), __func__, __VA_ARGS__)); \
    } while (0)

// Traces to libjim's default logger.
#define JIM_TRACE_SCOPE(module, ...) JIM_TRACE_LOG(jim::default_log(), module, __VA_ARGS__)
