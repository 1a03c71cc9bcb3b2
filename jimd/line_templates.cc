// The acknowledgement and the push of a stored message without a jim_msg (line_templates.hh):
// the objects jimd writes most. tests/test_line_templates compares them with jim_msg_encode.
#include "line_templates.hh"

#include "json_bytes.hh"

#include <array>
#include <cstring>

namespace jimd {

namespace {

// Copies s to w; false when s holds a byte that the encoder would escape, one that is not
// ASCII, or DEL. Byte by byte, checking as it copies: s is an id or an alert, a few bytes.
bool put_plain(char *&w, const char *s, size_t n)
{
    static constexpr auto kPlain = [] {
        std::array<bool, 256> t{};
        for (int c = 0x20; c < 0x7f; c++)
            t[static_cast<size_t>(c)] = c != '"' && c != '\\';
        return t;
    }();
    for (size_t i = 0; i < n; i++) {
        auto c = static_cast<unsigned char>(s[i]);
        if (!kPlain[c])
            return false;
        w[i] = static_cast<char>(c);
    }
    w += n;
    return true;
}

// Writes ,"key":"s" at w (s needs no escapes).
char *put_member(char *w, const char *key, size_t key_len, const std::string &s)
{
    *w++ = ',';
    *w++ = '"';
    std::memcpy(w, key, key_len);
    w += key_len;
    *w++ = '"';
    *w++ = ':';
    *w++ = '"';
    std::memcpy(w, s.data(), s.size());
    w += s.size();
    *w++ = '"';
    return w;
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
    if (code >= 100 && code <= 999) { // every response code: three digits
        *w++ = static_cast<char>('0' + code / 100);
        *w++ = static_cast<char>('0' + code / 10 % 10);
        *w++ = static_cast<char>('0' + code % 10);
    } else {
        w = put_int(w, code);
    }
    w = put(w, LIT(",\"time\":"));
    w = put_time(w, now);
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
    w = put_int(w, seq);
    w = put(w, LIT(",\"alert\":\""));
    size_t n = std::strlen(alert);
    if (n > 64 || !put_plain(w, alert, n))
        return 0;
    w = put(w, LIT("\"}\n"));
#undef LIT
    return static_cast<size_t>(w - out);
}

bool push_line(std::string *out, int64_t time, const std::string &id, const std::string &to,
               const std::string &from, const std::string &encoding, const std::string &text,
               int64_t seq, bool known_plain)
{
    if (!known_plain &&
        (needs_escape(id, true) || needs_escape(to, true) || needs_escape(from, true) ||
         needs_escape(encoding, true) || needs_escape(text, true)))
        return false;
    out->resize(160 + id.size() + to.size() + from.size() + encoding.size() + text.size());
    char *begin = out->data();
#define LIT(s) s, sizeof(s) - 1
    char *w = put(begin, LIT("{\"action\":\"msg\",\"time\":"));
    w = put_time(w, time);
    if (!id.empty())
        w = put_member(w, LIT("id"), id);
    w = put_member(w, LIT("to"), to);
    w = put_member(w, LIT("from"), from);
    if (!encoding.empty())
        w = put_member(w, LIT("encoding"), encoding);
    w = put_member(w, LIT("message"), text);
    w = put(w, LIT(",\"seq\":"));
    w = put_int(w, seq);
    w = put(w, LIT("}\n"));
#undef LIT
    out->resize(static_cast<size_t>(w - begin));
    return true;
}

} // namespace jimd
