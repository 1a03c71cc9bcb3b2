// Call traces: "f(args) called from g", with g the innermost traced function on this thread.
#include "guard.hh"
#include "log.hh"

#include <cstdarg>
#include <cstdio>

namespace {
thread_local const char *t_current = nullptr; // the innermost traced function running
const char kNoCaller[] = "";                  // token meaning "no traced caller"
} // namespace

extern "C" {

JIM_EXTERN(const char *)
jim_trace_enter(jim_log *log, const char *module, const char *func, const char *fmt, ...)
{
    if (!jim::log_on(log, JIM_LOG_TRACE) || !func)
        return nullptr;
    char args[1024] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(args, sizeof args, fmt, ap);
        va_end(ap);
    }
    if (t_current)
        jim_log_write(log, JIM_LOG_TRACE, module, func, "%s(%s) called from %s", func, args,
                      t_current);
    else
        jim_log_write(log, JIM_LOG_TRACE, module, func, "%s(%s)", func, args);
    const char *token = t_current ? t_current : kNoCaller;
    t_current = func;
    return token;
}

JIM_EXTERN(void) jim_trace_leave(const char *token)
{
    if (!token)
        return;
    t_current = token == kNoCaller ? nullptr : token;
}

} // extern "C"
