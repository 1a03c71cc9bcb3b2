// Whether a string can be written between quotes in a JSON line as it is — the test both
// hand-written encoders (line_templates.cc, batch_format.cc) make before they copy bytes.
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

} // namespace jimd
