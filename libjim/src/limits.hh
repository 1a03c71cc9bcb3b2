// The table of protocol limits and the value set behind jim_limits.
#pragma once

#include <jim/limits.h>

namespace jim {

// One row of the limits table: the config key, help text, default and range.
struct LimitInfo {
    const char *name;
    const char *help;
    long def, min, max;
};

// The limits table, indexed by jim_limit.
extern const LimitInfo kLimits[JIM_LIMIT_COUNT];

// A complete set of limit values; starts at the defaults.
struct Limits {
    long v[JIM_LIMIT_COUNT];
    Limits();
    long operator[](jim_limit l) const { return v[l]; }
};

// The defaults, shared and immutable.
const Limits &default_limits();

} // namespace jim

struct jim_limits {
    jim::Limits impl;
};

namespace jim {
// The values behind a possibly-NULL public handle.
inline const Limits &limits_or_default(const jim_limits *l)
{
    return l ? l->impl : default_limits();
}
} // namespace jim
