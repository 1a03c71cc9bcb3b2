// Strict standard base64 (base64.hh).
#include "base64.hh"

#include <cstdint>

namespace jim {

namespace {

const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int value_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

} // namespace

std::string base64_encode(std::string_view bytes)
{
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(bytes[k])); };
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
        for (int s = 18; s >= 0; s -= 6)
            out.push_back(kAlphabet[(v >> s) & 63]);
    }
    if (size_t left = bytes.size() - i) {
        uint32_t v = at(i) << 16 | (left == 2 ? at(i + 1) << 8 : 0);
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(left == 2 ? kAlphabet[(v >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

bool base64_check(std::string_view text, size_t *size)
{
    if (text.size() % 4 != 0)
        return false;
    size_t pad = 0;
    while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i < text.size() - pad; i++)
        if (value_of(static_cast<unsigned char>(text[i])) < 0)
            return false;
    // The bits of the last character that no byte uses must be zero (RFC 4648 §3.5): one
    // text per byte string, as base64_encode writes it.
    if (pad > 0) {
        int last = value_of(static_cast<unsigned char>(text[text.size() - 1 - pad]));
        if ((last & (pad == 1 ? 0x3 : 0xf)) != 0)
            return false;
    }
    if (size)
        *size = text.size() / 4 * 3 - pad;
    return true;
}

bool base64_decode(std::string_view text, std::string &bytes)
{
    size_t size = 0;
    if (!base64_check(text, &size))
        return false;
    bytes.clear();
    bytes.reserve(size);
    uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        if (c == '=')
            break;
        acc = acc << 6 | static_cast<uint32_t>(value_of(static_cast<unsigned char>(c)));
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes.push_back(static_cast<char>(acc >> bits & 0xff));
        }
    }
    return bytes.size() == size;
}

} // namespace jim
