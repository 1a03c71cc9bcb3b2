// ack_line: the acknowledgement of a stored message without a jim_msg (ack_line.hh). It is
// the most frequent object jimd writes; tests/test_ack_line compares it with jim_msg_encode.
#include "ack_line.hh"

#include <charconv>
#include <cstring>

namespace jimd {

namespace {

// Copies s to w; false when s holds a byte that the encoder would escape.
bool put_plain(char *&w, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            return false;
    }
    std::memcpy(w, s, n);
    w += n;
    return true;
}

char *put(char *w, const char *lit, size_t n)
{
    std::memcpy(w, lit, n);
    return w + n;
}

} // namespace

size_t ack_line(char *out, int code, int64_t now, const char *id, int64_t seq, const char *alert)
{
#define LIT(s) s, sizeof(s) - 1
    char *w = put(out, LIT("{\"response\":"));
    w = std::to_chars(w, w + 12, code).ptr;
    w = put(w, LIT(",\"time\":"));
    w = std::to_chars(w, w + 21, now).ptr;
    if (id && *id) {
        size_t n = std::strlen(id);
        if (n > kAckIdMax)
            return 0;
        w = put(w, LIT(",\"id\":\""));
        if (!put_plain(w, id, n))
            return 0;
        *w++ = '"';
    }
    w = put(w, LIT(",\"seq\":"));
    w = std::to_chars(w, w + 21, seq).ptr;
    w = put(w, LIT(",\"alert\":\""));
    size_t n = std::strlen(alert);
    if (n > 64 || !put_plain(w, alert, n))
        return 0;
    w = put(w, LIT("\"}\n"));
#undef LIT
    return static_cast<size_t>(w - out);
}

} // namespace jimd
