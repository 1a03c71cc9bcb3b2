// Whether a string can be written between quotes in a JSON line as it is — the test both
// hand-written encoders (line_templates.cc, batch_format.cc) make before they copy bytes —
// and the integers they write.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace jimd {

// True when s holds a byte JSON escapes (below 0x20, '"', '\\') — or, with non_ascii,
// any byte of 0x80 and above (the encoders that leave UTF-8 to jim's encoder). Eight bytes
// at a time; a word that may hold one is looked at byte by byte, so the answer is exact.
inline bool needs_escape(std::string_view s, bool non_ascii)
{
    auto special = [non_ascii](unsigned char c) {
        return c < 0x20 || c == '"' || c == '\\' || (non_ascii && c >= 0x80);
    };
    constexpr uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const char *p = s.data();
    size_t n = s.size(), i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
        // Set for every byte that may be special; a borrow can flag a plain one too, hence
        // the look byte by byte.
        uint64_t high = non_ascii ? w & highs : 0;
        if ((((w - ones * 0x20) | (q - ones) | (b - ones)) & ~w & highs) | high) {
            for (size_t k = i; k < i + 8; k++)
                if (special(static_cast<unsigned char>(p[k])))
                    return true;
        }
    }
    for (; i < n; i++)
        if (special(static_cast<unsigned char>(p[i])))
            return true;
    return false;
}

// Writes v in decimal at w (at most 20 bytes) and returns the end: the digits counted first,
// then written in place from the last, two at a time from a table — the same text as
// std::to_chars, without its copy or a buffer of its own.
inline char *put_int(char *w, int64_t v)
{
    static constexpr char kPairs[] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";
    uint64_t u = static_cast<uint64_t>(v);
    if (v < 0) {
        *w++ = '-';
        u = 0 - u;
    }
    size_t n = 1;
    uint64_t top = u;
    for (; top >= 10000; top /= 10000)
        n += 4;
    n += top >= 1000 ? 3 : top >= 100 ? 2 : top >= 10 ? 1 : 0;
    char *end = w + n, *t = end;
    while (u >= 100) {
        unsigned pair = static_cast<unsigned>(u % 100) * 2;
        u /= 100;
        *--t = kPairs[pair + 1];
        *--t = kPairs[pair];
    }
    if (u >= 10) {
        *--t = kPairs[u * 2 + 1];
        *--t = kPairs[u * 2];
    } else {
        *--t = static_cast<char>('0' + u);
    }
    return end;
}

// put_int for a time in seconds, which repeats: every message of the same second has the
// same one, so each thread keeps the text of the last it wrote.
inline char *put_time(char *w, int64_t t)
{
    struct Last { // starts as the text of 0, so that every value, -1 too, agrees with it
        int64_t t = 0;
        char text[24] = {'0'};
        size_t n = 1;
    };
    static thread_local Last last;
    if (t != last.t) {
        last.n = static_cast<size_t>(put_int(last.text, t) - last.text);
        last.t = t;
    }
    std::memcpy(w, last.text, last.n);
    return w + last.n;
}

} // namespace jimd
