// Named loggers: line formatting, one write() per line, daily rotation and reopen.
#include "log.hh"
#include "guard.hh"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

namespace {

const char *const kLevelNames[] = {"TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "OFF"};

std::atomic<jim_log *> g_default{nullptr};

bool level_ok(const jim_log_level &level)
{
    int v = jim::raw(level);
    return v >= JIM_LOG_TRACE && v <= JIM_LOG_OFF;
}

int64_t now_us(const jim_log *log)
{
    if (log->clock)
        return log->clock(log->clock_data);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
}

// Sets log->day and log->day_end_us for the local day containing t_us.
void compute_day(jim_log *log, int64_t t_us)
{
    time_t t = static_cast<time_t>(t_us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    char buf[16];
    strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    log->day = buf;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_mday += 1;
    tm.tm_isdst = -1;
    log->day_end_us = int64_t{mktime(&tm)} * 1000000;
}

int open_file(const std::string &path)
{
    return open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; // nowhere to report a failing log
        p += w;
        n -= static_cast<size_t>(w);
    }
}

int reopen_locked(jim_log *log)
{
    if (log->path.empty())
        return JIM_OK;
    int fd = open_file(log->path);
    if (fd < 0)
        return JIM_EIO;
    if (log->fd > 2)
        close(log->fd);
    log->fd = fd;
    return JIM_OK;
}

// Moves the file of the day that ended to PATH.YYYY-MM-DD and starts a new one.
// Several processes may share the file: link() fails if another one moved it
// first, and a file whose inode is no longer ours was already rotated.
void rotate_locked(jim_log *log, int64_t t_us)
{
    struct stat mine, current;
    bool ours = fstat(log->fd, &mine) == 0 && stat(log->path.c_str(), &current) == 0 &&
                mine.st_ino == current.st_ino && mine.st_dev == current.st_dev;
    if (ours) {
        std::string dated = log->path + "." + log->day;
        for (int i = 1; link(log->path.c_str(), dated.c_str()) != 0 && errno == EEXIST && i < 100;
             i++)
            dated = log->path + "." + log->day + "." + std::to_string(i);
        unlink(log->path.c_str());
    }
    reopen_locked(log);
    compute_day(log, t_us);
}

} // namespace

namespace jim {
jim_log *default_log()
{
    return g_default.load(std::memory_order_relaxed);
}
} // namespace jim

__attribute__((format(printf, 5, 0))) static void vwrite_line(jim_log *log, jim_log_level level,
                                                              const char *module, const char *func,
                                                              const char *fmt, va_list ap)
{
    char line[4096];
    if (log->flags & JIM_LOG_SYSLOG) {
        static const int kPriority[] = {LOG_DEBUG,   LOG_DEBUG, LOG_INFO,
                                        LOG_WARNING, LOG_ERR,   LOG_CRIT};
        int n = snprintf(line, sizeof line, "%s %s ", module ? module : log->name.c_str(),
                         func ? func : "-");
        if (fmt && n > 0 && static_cast<size_t>(n) < sizeof line)
            vsnprintf(line + n, sizeof line - static_cast<size_t>(n), fmt, ap);
        syslog(kPriority[level], "%s", line);
        return;
    }
    int64_t t_us = now_us(log);
    size_t n;
    if (log->flags & JIM_LOG_JOURNAL) {
        static const int kPrefix[] = {7, 7, 6, 4, 3, 2}; // sd-daemon(3): <7> debug … <2> crit
        n = static_cast<size_t>(snprintf(line, sizeof line, "<%d>%s %s %s ", kPrefix[level],
                                         kLevelNames[level], module ? module : log->name.c_str(),
                                         func ? func : "-"));
    } else {
        time_t t = static_cast<time_t>(t_us / 1000000);
        struct tm tm;
        localtime_r(&t, &tm);
        n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
        n += static_cast<size_t>(snprintf(
            line + n, sizeof line - n, ".%03d %s %s %s ", static_cast<int>((t_us / 1000) % 1000),
            kLevelNames[level], module ? module : log->name.c_str(), func ? func : "-"));
    }
    if (n < sizeof line - 1) {
        size_t body = n;
        int m = fmt ? vsnprintf(line + n, sizeof line - n, fmt, ap) : 0;
        if (m > 0)
            n += static_cast<size_t>(m) < sizeof line - n ? static_cast<size_t>(m)
                                                          : sizeof line - n - 1;
        for (size_t i = body; i < n; i++)
            if (line[i] == '\n' || line[i] == '\r')
                line[i] = ' ';
    }
    if (n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';

    std::lock_guard<std::mutex> guard(log->lock);
    if (log->reopen_requested) {
        log->reopen_requested = 0;
        reopen_locked(log);
    }
    if ((log->flags & JIM_LOG_DAILY) && !log->path.empty() && t_us >= log->day_end_us)
        rotate_locked(log, t_us);
    write_all(log->fd, line, n);
}

extern "C" {

JIM_EXTERN(int)
jim_log_open(jim_log **out, const char *name, const char *path, jim_log_level level, unsigned flags)
{
    if (!out)
        return JIM_EINVAL;
    *out = nullptr;
    if (!name || !level_ok(level))
        return JIM_EINVAL;
    return jim::api_guard([&] {
        auto *log = new jim_log;
        log->name = name;
        log->level = level;
        log->flags = flags;
        if (flags & (JIM_LOG_SYSLOG | JIM_LOG_JOURNAL)) {
            if (path) {
                delete log;
                return JIM_EINVAL;
            }
            if (flags & JIM_LOG_SYSLOG)
                openlog(log->name.c_str(), LOG_PID | LOG_NDELAY, LOG_DAEMON);
        }
        if (path) {
            log->path = path;
            log->fd = open_file(log->path);
            if (log->fd < 0) {
                delete log;
                return JIM_EIO;
            }
        }
        compute_day(log, now_us(log));
        *out = log;
        return JIM_OK;
    });
}

JIM_EXTERN(void) jim_log_close(jim_log *log)
{
    if (!log)
        return;
    jim_log *expected = log;
    g_default.compare_exchange_strong(expected, nullptr);
    if (log->flags & JIM_LOG_SYSLOG)
        closelog();
    if (log->fd > 2)
        close(log->fd);
    delete log;
}

JIM_EXTERN(void) jim_log_set_level(jim_log *log, jim_log_level level)
{
    if (log && level_ok(level))
        log->level = level;
}

JIM_EXTERN(jim_log_level) jim_log_get_level(const jim_log *log)
{
    return log ? static_cast<jim_log_level>(log->level.load()) : JIM_LOG_OFF;
}

JIM_EXTERN(int) jim_log_enabled(const jim_log *log, jim_log_level level)
{
    return level_ok(level) && level < JIM_LOG_OFF && jim::log_on(log, level);
}

JIM_EXTERN(const char *) jim_log_level_name(jim_log_level level)
{
    return level_ok(level) ? kLevelNames[level] : nullptr;
}

JIM_EXTERN(int) jim_log_level_from_name(const char *name, jim_log_level *level)
{
    if (!name || !level)
        return JIM_EINVAL;
    for (int i = JIM_LOG_TRACE; i <= JIM_LOG_OFF; i++) {
        if (strcasecmp(name, kLevelNames[i]) == 0) {
            *level = static_cast<jim_log_level>(i);
            return JIM_OK;
        }
    }
    if (strcasecmp(name, "warn") == 0) {
        *level = JIM_LOG_WARNING;
        return JIM_OK;
    }
    return JIM_ENOTFOUND;
}

JIM_EXTERN(void)
jim_log_write(jim_log *log, jim_log_level level, const char *module, const char *func,
              const char *fmt, ...)
{
    if (!jim_log_enabled(log, level))
        return;
    va_list ap;
    va_start(ap, fmt);
    jim::api_guard_void([&] { vwrite_line(log, level, module, func, fmt, ap); });
    va_end(ap);
}

JIM_EXTERN(int) jim_log_reopen(jim_log *log)
{
    if (!log)
        return JIM_EINVAL;
    return jim::api_guard([&] {
        std::lock_guard<std::mutex> guard(log->lock);
        log->reopen_requested = 0;
        return reopen_locked(log);
    });
}

JIM_EXTERN(void) jim_log_request_reopen(jim_log *log)
{
    if (log)
        log->reopen_requested = 1;
}

JIM_EXTERN(void) jim_log_set_clock(jim_log *log, jim_log_clock_fn clock, void *userdata)
{
    if (!log)
        return;
    jim::api_guard_void([&] {
        std::lock_guard<std::mutex> guard(log->lock);
        log->clock = clock;
        log->clock_data = userdata;
        compute_day(log, now_us(log));
    });
}

JIM_EXTERN(void) jim_log_set_default(jim_log *log)
{
    g_default.store(log);
}

JIM_EXTERN(jim_log *) jim_log_get_default(void)
{
    return g_default.load();
}

} // extern "C"
