// The one guard every extern "C" body runs in, so no C++ exception crosses the C ABI.
#pragma once

#include <jim/common.h>

#include <cstring>
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

// The int value of an enum argument from a C caller, read without assuming it
// is one of the enumerators (C may pass any int; loading it as the enum is UB in C++).
template <class E> inline int raw(const E &e) noexcept
{
    static_assert(sizeof(E) == sizeof(int));
    int v;
    std::memcpy(&v, &e, sizeof v);
    return v;
}

} // namespace jim
