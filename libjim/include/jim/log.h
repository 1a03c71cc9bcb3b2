/**
 * @file jim/log.h
 * @brief Logging: named loggers writing `<date-time> <level> <module> <function> <message>` lines.
 *
 * A ::jim_log writes whole lines to a file (or standard error) with one
 * write() each, so several processes may share one file. It can rotate the
 * file daily (the old file gets the date as suffix) and reopen it on request,
 * for example after a signal. The call-trace functions record a function's
 * name, its arguments and the traced function that called it; when the
 * level is above #JIM_LOG_TRACE they cost one comparison.
 */
#ifndef JIM_LOG_H
#define JIM_LOG_H

#include "common.h"

JIM_BEGIN_DECL

/** Severity levels, lowest first. */
typedef enum jim_log_level {
    JIM_LOG_TRACE = 0,    /**< Call traces. */
    JIM_LOG_DEBUG = 1,    /**< Per-request detail. */
    JIM_LOG_INFO = 2,     /**< Normal events: logins, start, stop. */
    JIM_LOG_WARNING = 3,  /**< Something went wrong and was handled. */
    JIM_LOG_ERROR = 4,    /**< An operation failed. */
    JIM_LOG_CRITICAL = 5, /**< The program cannot go on. */
    JIM_LOG_OFF = 6       /**< Nothing is logged. */
} jim_log_level;

/** Flag for jim_log_open(): rotate the file at local midnight. */
#define JIM_LOG_DAILY 0x1u
/**
 * Flag for jim_log_open() without a path: send each line to syslog(3) (facility
 * daemon, the logger's name as ident, with the pid) instead of standard error.
 * The level maps to the syslog priority; the line carries no date.
 */
#define JIM_LOG_SYSLOG 0x2u
/**
 * Flag for jim_log_open() without a path: lines to standard error without the date and
 * time, each prefixed by its syslog priority as `<N>` (sd-daemon(3)), for a program whose
 * standard error is the systemd journal (which keeps the time and reads the priority).
 */
#define JIM_LOG_JOURNAL 0x4u

/** A clock for jim_log_set_clock(): microseconds since the UNIX epoch. */
typedef int64_t (*jim_log_clock_fn)(void *userdata);

/** A logger. Made by jim_log_open(), freed by jim_log_close(). */
typedef struct jim_log jim_log;

/**
 * Opens a named logger.
 * @param[out] out receives the handle; NULL on failure.
 * @param name the logger's name (copied); it stands in the module column of
 *        lines logged with a NULL module.
 * @param path the file to append to (created 0640), or NULL for standard error
 *        (or syslog, with #JIM_LOG_SYSLOG).
 * @param level the lowest level written.
 * @param flags 0, #JIM_LOG_DAILY (ignored without a file), #JIM_LOG_SYSLOG or
 *        #JIM_LOG_JOURNAL (each only without a file: #JIM_EINVAL with one).
 * @return #JIM_OK, #JIM_EINVAL, #JIM_ENOMEM or #JIM_EIO (the file cannot be opened).
 */
JIM_EXTERN(int)
jim_log_open(jim_log **out, const char *name, const char *path, jim_log_level level,
             unsigned flags);

/** Closes a logger. NULL is accepted and ignored. */
JIM_EXTERN(void) jim_log_close(jim_log *log);

/** Changes the lowest level written. */
JIM_EXTERN(void) jim_log_set_level(jim_log *log, jim_log_level level);

/** The lowest level written; #JIM_LOG_OFF for NULL. */
JIM_EXTERN(jim_log_level) jim_log_get_level(const jim_log *log);

/** Nonzero when a line at @p level would be written (false for a NULL log). */
JIM_EXTERN(int) jim_log_enabled(const jim_log *log, jim_log_level level);

/** The upper-case name of a level ("INFO", "WARNING"); NULL if out of range. */
JIM_EXTERN(const char *) jim_log_level_name(jim_log_level level);

/**
 * Parses a level name, in any case ("debug", "WARNING").
 * @return #JIM_OK, #JIM_EINVAL (NULL) or #JIM_ENOTFOUND.
 */
JIM_EXTERN(int) jim_log_level_from_name(const char *name, jim_log_level *level);

/**
 * Writes one line: `<date-time> <level> <module> <function> <message>`.
 * Newlines in the message are written as spaces; a line longer than 4 KiB is cut.
 * @param log the logger; NULL writes nothing.
 * @param level the line's level; nothing is written below the logger's level.
 * @param module the module column; NULL for the logger's name.
 * @param func the function column, usually `__func__`.
 * @param fmt printf format of the message, followed by its arguments.
 */
JIM_EXTERN(void)
jim_log_write(jim_log *log, jim_log_level level, const char *module, const char *func,
              const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/** Logs at @p level from the calling function when that level is enabled. */
#define JIM_LOG(log, level, module, ...)                                    \
    do {                                                                    \
        if (jim_log_enabled((log), (level)))                                \
            jim_log_write((log), (level), (module), __func__, __VA_ARGS__); \
    } while (0)

/**
 * Reopens the file now (after it was moved away, e.g. by logrotate).
 * @return #JIM_OK, #JIM_EINVAL or #JIM_EIO (the old file stays in use).
 */
JIM_EXTERN(int) jim_log_reopen(jim_log *log);

/**
 * Asks for a reopen before the next line is written. Async-signal-safe: a
 * signal handler may call it.
 */
JIM_EXTERN(void) jim_log_request_reopen(jim_log *log);

/** Replaces the clock (NULL: the system clock). Tests use it to cross midnight. */
JIM_EXTERN(void) jim_log_set_clock(jim_log *log, jim_log_clock_fn clock, void *userdata);

/** Sets the logger libjim itself writes to (NULL: none). The caller keeps ownership. */
JIM_EXTERN(void) jim_log_set_default(jim_log *log);

/** The logger set by jim_log_set_default(), or NULL. */
JIM_EXTERN(jim_log *) jim_log_get_default(void);

/**
 * Starts a call trace: when @p log is at #JIM_LOG_TRACE, writes
 * `func(<args>) called from <caller>` — the caller being the innermost traced
 * function still running on this thread — and makes @p func that function.
 * Pair every call with jim_trace_leave(), passing what this returned.
 * @param log the logger; nothing happens unless it is at #JIM_LOG_TRACE.
 * @param module the module column of the line.
 * @param func the traced function's name, usually `__func__` (not copied: it must stay valid).
 * @param fmt printf format of the arguments, or NULL for none.
 * @return a token for jim_trace_leave(); NULL when tracing is off.
 */
JIM_EXTERN(const char *)
jim_trace_enter(jim_log *log, const char *module, const char *func, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/** Ends the trace begun by the jim_trace_enter() that returned @p token. */
JIM_EXTERN(void) jim_trace_leave(const char *token);

JIM_END_DECL

#endif /* JIM_LOG_H */
