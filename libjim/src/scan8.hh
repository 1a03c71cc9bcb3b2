// Eight bytes at a time: where, in a JSON string's bytes, the first one is that needs a
// closer look (a quote, a backslash, a control character; optionally any non-ASCII byte).
// Shared by the framer's string skipping and the decoder's fast path.
#pragma once

#include <cstdint>
#include <cstring>

namespace jim {

// The bytes of the eight at p that are '"', '\\' or below 0x20 — and with non_ascii also
// those of 0x80 and above — each as its high bit (0: none). The lowest bit set is exact;
// bits above it may be false (borrows), so callers use only the first one:
// p + __builtin_ctzll(bits) / 8.
inline uint64_t special_in_word(const void *p, bool non_ascii)
{
    constexpr uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t x;
    std::memcpy(&x, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x); // the first byte lowest, as on little-endian machines
#endif
    auto has_zero = [](uint64_t v) { return (v - ones) & ~v & highs; };
    uint64_t quote = has_zero(x ^ (ones * '"'));
    uint64_t backslash = has_zero(x ^ (ones * '\\'));
    uint64_t control = (x - ones * 0x20) & ~x & highs;
    return quote | backslash | control | (non_ascii ? x & highs : 0);
}

} // namespace jim
