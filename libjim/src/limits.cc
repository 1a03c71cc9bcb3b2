// The protocol's limits: one table with names, defaults and ranges, and its C API.
#include "limits.hh"
#include "guard.hh"

#include <cstring>
#include <new>

namespace jim {

const LimitInfo kLimits[JIM_LIMIT_COUNT] = {
    {"max_object_bytes", "largest JSON object accepted, in bytes", 65536, 256, 16 << 20},
    {"max_depth", "deepest JSON nesting accepted", 32, 2, 256},
    {"max_name_chars", "longest account or room name (room names count the #)", 25, 2, 64},
    {"max_message_chars", "longest message text, in Unicode code points", 500, 1, 65536},
    {"max_bad_objects", "bad objects in a row before the connection is closed", 16, 1, 1000000},
    {"min_password_chars", "shortest password accepted at register", 8, 1, 128},
    {"max_password_bytes", "longest password accepted, in bytes", 1024, 16, 65536},
    {"max_info_chars", "longest account info, status or reason text", 256, 1, 65536},
    {"max_id_chars", "longest client-chosen request id", 64, 1, 1024},
    {"max_history_limit", "most messages in one history reply", 500, 1, 100000},
};

Limits::Limits()
{
    for (int i = 0; i < JIM_LIMIT_COUNT; i++)
        v[i] = kLimits[i].def;
}

const Limits &default_limits()
{
    static const Limits defaults;
    return defaults;
}

} // namespace jim

static bool known(const jim_limit &l)
{
    int v = jim::raw(l);
    return v >= 0 && v < JIM_LIMIT_COUNT;
}

extern "C" {

JIM_EXTERN(int) jim_limits_new(jim_limits **out)
{
    if (!out)
        return JIM_EINVAL;
    *out = new (std::nothrow) jim_limits;
    return *out ? JIM_OK : JIM_ENOMEM;
}

JIM_EXTERN(void) jim_limits_free(jim_limits *lim)
{
    delete lim;
}

JIM_EXTERN(int) jim_limits_set(jim_limits *lim, jim_limit which, long value)
{
    if (!lim || !known(which))
        return JIM_EINVAL;
    if (value < jim::kLimits[which].min || value > jim::kLimits[which].max)
        return JIM_ERANGE;
    lim->impl.v[which] = value;
    return JIM_OK;
}

JIM_EXTERN(long) jim_limits_get(const jim_limits *lim, jim_limit which)
{
    if (!known(which))
        return -1;
    return jim::limits_or_default(lim)[which];
}

JIM_EXTERN(const char *) jim_limit_name(jim_limit which)
{
    return known(which) ? jim::kLimits[which].name : nullptr;
}

JIM_EXTERN(const char *) jim_limit_help(jim_limit which)
{
    return known(which) ? jim::kLimits[which].help : nullptr;
}

JIM_EXTERN(long) jim_limit_default(jim_limit which)
{
    return known(which) ? jim::kLimits[which].def : -1;
}

JIM_EXTERN(long) jim_limit_min(jim_limit which)
{
    return known(which) ? jim::kLimits[which].min : -1;
}

JIM_EXTERN(long) jim_limit_max(jim_limit which)
{
    return known(which) ? jim::kLimits[which].max : -1;
}

JIM_EXTERN(int) jim_limit_by_name(const char *name, jim_limit *which)
{
    if (!name || !which)
        return JIM_EINVAL;
    for (int i = 0; i < JIM_LIMIT_COUNT; i++) {
        if (std::strcmp(name, jim::kLimits[i].name) == 0) {
            *which = static_cast<jim_limit>(i);
            return JIM_OK;
        }
    }
    return JIM_ENOTFOUND;
}

} // extern "C"
