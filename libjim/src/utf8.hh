// UTF-8 validation and code-point counting, with a fast path for ASCII.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace jim {

// True when s is well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF).
bool utf8_valid(std::string_view s);

// The number of code points in valid UTF-8 s (continuation bytes are not counted).
size_t utf8_count(std::string_view s);

// How many continuation bytes follow lead byte b, or -1 if b cannot start a sequence.
inline int utf8_tail_len(unsigned char b)
{
    if (b < 0x80)
        return 0;
    if (b < 0xC2)
        return -1; // continuation byte or overlong 2-byte lead
    if (b < 0xE0)
        return 1;
    if (b < 0xF0)
        return 2;
    if (b < 0xF5)
        return 3;
    return -1;
}

// The allowed range of the byte after lead b (excludes overlongs and surrogates).
inline void utf8_second_range(unsigned char b, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (b == 0xE0)
        *lo = 0xA0;
    else if (b == 0xED)
        *hi = 0x9F;
    else if (b == 0xF0)
        *lo = 0x90;
    else if (b == 0xF4)
        *hi = 0x8F;
}

} // namespace jim
