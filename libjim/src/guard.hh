// The one guard every extern "C" body runs in, so no C++ exception crosses the C ABI.
#pragma once

#include <jim/common.h>

#include <new>
#include <utility>

namespace jim {

// Runs f() and returns its int result; an escaping exception becomes an error code.
template <class F> int api_guard(F &&f) noexcept
{
    try {
        return std::forward<F>(f)();
    } catch (const std::bad_alloc &) {
        return JIM_ENOMEM;
    } catch (...) {
        return JIM_EINTERNAL;
    }
}

// For void functions: swallows exceptions (destructors and setters that cannot fail).
template <class F> void api_guard_void(F &&f) noexcept
{
    try {
        std::forward<F>(f)();
    } catch (...) {
    }
}

} // namespace jim
