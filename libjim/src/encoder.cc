// Message::encode: a Message to one line of ASCII-safe JSON.
//
// The shape is fixed and flat (one object, an optional "user" object, one optional
// array), every key is a plain ASCII literal and every string was checked for valid
// UTF-8 when it was set, so the writer only has to escape string values: '"', '\\'
// and control characters as JSON requires, and every non-ASCII character as a \uXXXX
// escape (a surrogate pair above U+FFFF), as Python's json.dumps does. yajl_gen did
// this before; printing straight into the message's buffer costs a fifth of what it
// did (doc/benchmarks.md), and yajl still parses everything jim reads.
#include "message.hh"

#include <charconv>
#include <cstring>
#include <ctime>

namespace jim {

namespace {

const char kHex[] = "0123456789abcdef";

// For every byte: 0 = copy as is, 1 = short escape in kShort, 2 = \u00XX, 3 = UTF-8 lead.
struct EscapeTable {
    unsigned char kind[256];
    char short_form[256];
    constexpr EscapeTable() : kind(), short_form()
    {
        for (int c = 0; c < 0x20; c++)
            kind[c] = 2;
        for (int c = 0x80; c < 0x100; c++)
            kind[c] = 3;
        const char pairs[][2] = {{'"', '"'},  {'\\', '\\'}, {'\b', 'b'}, {'\f', 'f'},
                                 {'\n', 'n'}, {'\r', 'r'},  {'\t', 't'}};
        for (const auto &p : pairs) {
            kind[static_cast<unsigned char>(p[0])] = 1;
            short_form[static_cast<unsigned char>(p[0])] = p[1];
        }
    }
};
constexpr EscapeTable kEscape;

// Writes into a buffer already sized for the worst case (see bound()).
class Writer {
  public:
    explicit Writer(char *p) : p_(p) {}
    char *end() const { return p_; }

    void raw(const char *s, size_t n)
    {
        std::memcpy(p_, s, n);
        p_ += n;
    }
    void ch(char c) { *p_++ = c; }

    // ,"key": (or {"key": for the first member of an object).
    void key(bool &first, const char *k, size_t len)
    {
        *p_++ = first ? '{' : ',';
        first = false;
        *p_++ = '"';
        raw(k, len);
        *p_++ = '"';
        *p_++ = ':';
    }
    void integer(int64_t v) { p_ = std::to_chars(p_, p_ + 20, v).ptr; }

    // s as a quoted, escaped, ASCII-only JSON string.
    void string(std::string_view s)
    {
        *p_++ = '"';
        const unsigned char *p = reinterpret_cast<const unsigned char *>(s.data());
        const unsigned char *end = p + s.size();
        while (p < end) {
            // Copy eight plain bytes at a time: none below 0x20, '"', '\\' or >= 0x80.
            while (end - p >= 8) {
                uint64_t w;
                std::memcpy(&w, p, 8);
                if (needs_escape(w))
                    break;
                std::memcpy(p_, &w, 8);
                p_ += 8;
                p += 8;
            }
            if (p == end)
                break;
            unsigned char c = *p;
            switch (kEscape.kind[c]) {
            case 0:
                *p_++ = static_cast<char>(c);
                p++;
                break;
            case 1:
                *p_++ = '\\';
                *p_++ = kEscape.short_form[c];
                p++;
                break;
            case 2:
                u16(c);
                p++;
                break;
            default: p = non_ascii(p, end); break;
            }
        }
        *p_++ = '"';
    }

  private:
    // Whether any byte of w is below 0x20, '"', '\\' or non-ASCII (bit tricks from
    // "Bit Twiddling Hacks": a zero byte in x is (x - 0x01..) & ~x & 0x80..).
    static bool needs_escape(uint64_t w)
    {
        constexpr uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
        uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
        uint64_t below = (w - ones * 0x20) & ~w;
        uint64_t zeros = ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash);
        return ((below | zeros) & high) != 0 || (w & high) != 0;
    }
    void u16(unsigned v)
    {
        char e[6] = {
            '\\',        'u', kHex[(v >> 12) & 15], kHex[(v >> 8) & 15], kHex[(v >> 4) & 15],
            kHex[v & 15]};
        raw(e, 6);
    }
    // One UTF-8 character as \uXXXX (a surrogate pair above U+FFFF); returns what follows.
    const unsigned char *non_ascii(const unsigned char *p, const unsigned char *end)
    {
        // Valid UTF-8 is guaranteed: every string was checked when it was set.
        size_t need = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
        if (static_cast<size_t>(end - p) < need)
            return end;
        unsigned cp = *p & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
        for (size_t i = 1; i < need; i++)
            cp = (cp << 6) | (p[i] & 0x3F);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            u16(0xD800 + (cp >> 10));
            u16(0xDC00 + (cp & 0x3FF));
        } else {
            u16(cp);
        }
        return p + need;
    }

    char *p_;
};

// Key lengths, measured once.
struct KeyLengths {
    size_t len[JIM_FIELD_COUNT];
    KeyLengths()
    {
        for (int i = 0; i < JIM_FIELD_COUNT; i++)
            len[i] = kFields[i].key ? std::strlen(kFields[i].key) : 0;
    }
};

// The most bytes m can encode to: every string byte may become six ("\u0001"; a
// 4-byte character becomes twelve), every member adds its key, quotes and a comma.
size_t bound(const Message &m, const KeyLengths &keys)
{
    size_t n = 160; // braces, action or response, time, "user", features, newline
    for (uint64_t bits = m.present(); bits; bits &= bits - 1) {
        auto f = static_cast<jim_field>(__builtin_ctzll(bits));
        n += keys.len[f] + 8;
        if (kFields[f].type == JIM_TYPE_STRING)
            n += 6 * m.str(f).size();
        else if (kFields[f].type == JIM_TYPE_LIST)
            n += 6 * m.str(f).size() + 3 * m.list_len(f) + 2;
        else
            n += 24;
    }
    if (m.has(JIM_FIELD_FROM)) // the reference dialect writes it twice, as "sender" too
        n += 16 + 6 * m.str(JIM_FIELD_FROM).size();
    return n;
}

void value(Writer &w, const Message &m, jim_field f)
{
    switch (kFields[f].type) {
    case JIM_TYPE_STRING: w.string(m.str(f)); break;
    case JIM_TYPE_INT: w.integer(m.num(f)); break;
    case JIM_TYPE_BOOL:
        if (m.num(f) != 0)
            w.raw("true", 4);
        else
            w.raw("false", 5);
        break;
    case JIM_TYPE_LIST:
        w.ch('[');
        for (size_t i = 0, n = m.list_len(f); i < n; i++) {
            if (i)
                w.ch(',');
            w.string(m.list_item(f, i));
        }
        w.ch(']');
        break;
    }
}

#define LIT(s) s, sizeof(s) - 1

// Writes m into out, NUL-terminated, and returns its length. out only ever grows, to the
// largest bound seen, so a warm buffer is neither reallocated nor zero-filled again.
size_t encode_into(const Message &m, std::string &out)
{
    static const KeyLengths keys;
    size_t need = bound(m, keys);
    if (out.size() < need)
        out.resize(need);
    Writer w(out.data());
    bool first = true;
    // The course's clients (reference and database course): `message` with `mess_text`.
    bool reference = m.dialect() == JIM_DIALECT_REFERENCE || m.dialect() == JIM_DIALECT_DB;
    if (m.response() != 0) {
        w.key(first, LIT("response"));
        w.integer(m.response());
    } else {
        jim_action a = m.action();
        w.key(first, LIT("action"));
        w.string(a == JIM_ACTION_MSG && reference ? "message" : kActions[a].name);
    }
    w.key(first, LIT("time"));
    w.integer(m.has(JIM_FIELD_TIME) ? m.num(JIM_FIELD_TIME) : static_cast<int64_t>(time(nullptr)));

    bool user = m.features() != 0;
    uint64_t in_user = 0;
    for (uint64_t bits = m.present(); bits; bits &= bits - 1) {
        auto f = static_cast<jim_field>(__builtin_ctzll(bits));
        if (f == JIM_FIELD_TIME)
            continue;
        if (kFields[f].in_user) {
            in_user |= bits & -bits;
            continue;
        }
        if (f == JIM_FIELD_MESSAGE && reference)
            w.key(first, LIT("mess_text"));
        else
            w.key(first, kFields[f].key, keys.len[f]);
        value(w, m, f);
        if (f == JIM_FIELD_FROM && reference) { // lesson 7's clients read "sender"
            w.key(first, LIT("sender"));
            value(w, m, f);
        }
    }
    if (user || in_user) {
        w.key(first, LIT("user"));
        bool inner = true;
        for (uint64_t bits = in_user; bits; bits &= bits - 1) {
            auto f = static_cast<jim_field>(__builtin_ctzll(bits));
            w.key(inner, kFields[f].key, keys.len[f]);
            value(w, m, f);
        }
        if (m.features() & JIM_FEATURE_NDJSON) {
            w.key(inner, LIT("features"));
            w.raw(LIT("[\"ndjson\"]"));
        }
        if (inner)
            w.ch('{');
        w.ch('}');
    }
    w.raw(LIT("}\n"));
    size_t len = static_cast<size_t>(w.end() - out.data());
    out.data()[len] = '\0'; // callers get a C string (at most out[size()], which is '\0')
    return len;
}

#undef LIT

} // namespace

int Message::encode(std::string_view *out)
{
    if (action_ == JIM_ACTION_NONE && response_ == 0)
        return JIM_EINVAL;
    // Two statements: as one expression, data() could be taken before encode_into() grows
    // the buffer (the order of evaluation of arguments is unspecified).
    size_t len = encode_into(*this, encoded_);
    *out = std::string_view(encoded_.data(), len);
    return JIM_OK;
}

} // namespace jim
