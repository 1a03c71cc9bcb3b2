// UTF-8 validation (RFC 3629) and counting.
#include "utf8.hh"

#include <cstring>

namespace jim {

bool utf8_valid(std::string_view s)
{
    const unsigned char *p = reinterpret_cast<const unsigned char *>(s.data());
    const unsigned char *end = p + s.size();
    while (p < end) {
        // Skip ASCII eight bytes at a time.
        while (end - p >= 8) {
            uint64_t w;
            std::memcpy(&w, p, 8);
            if (w & 0x8080808080808080ull)
                break;
            p += 8;
        }
        if (p == end)
            break;
        unsigned char b = *p;
        if (b < 0x80) {
            p++;
            continue;
        }
        int tail = utf8_tail_len(b);
        if (tail < 0 || end - p <= tail)
            return false;
        unsigned char lo, hi;
        utf8_second_range(b, &lo, &hi);
        if (p[1] < lo || p[1] > hi)
            return false;
        for (int i = 2; i <= tail; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += tail + 1;
    }
    return true;
}

size_t utf8_count(std::string_view s)
{
    // Every byte but a continuation byte (10xxxxxx) starts a code point; count the
    // continuation bytes eight at a time and subtract.
    size_t continuation = 0, i = 0;
    const char *p = s.data();
    for (; i + 8 <= s.size(); i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        uint64_t high = w & 0x8080808080808080ull;
        if (high)
            continuation += static_cast<size_t>(__builtin_popcountll(high & ~(w << 1)));
    }
    for (; i < s.size(); i++)
        continuation += (static_cast<unsigned char>(p[i]) & 0xC0) == 0x80;
    return s.size() - continuation;
}

} // namespace jim
