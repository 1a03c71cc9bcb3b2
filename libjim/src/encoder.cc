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

void append_u16(std::string &out, unsigned v)
{
    char e[6] = {'\\',        'u', kHex[(v >> 12) & 15], kHex[(v >> 8) & 15], kHex[(v >> 4) & 15],
                 kHex[v & 15]};
    out.append(e, 6);
}

// Appends s as a quoted, escaped, ASCII-only JSON string.
void append_string(std::string &out, std::string_view s)
{
    out.push_back('"');
    const unsigned char *p = reinterpret_cast<const unsigned char *>(s.data());
    const unsigned char *end = p + s.size();
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && kEscape.kind[*p] == 0)
            p++;
        out.append(reinterpret_cast<const char *>(run), static_cast<size_t>(p - run));
        if (p == end)
            break;
        switch (kEscape.kind[*p]) {
        case 1: {
            char e[2] = {'\\', kEscape.short_form[*p]};
            out.append(e, 2);
            p++;
            break;
        }
        case 2: append_u16(out, *p++); break;
        default: {
            // Valid UTF-8 is guaranteed: every string was checked when it was set.
            size_t need = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
            if (static_cast<size_t>(end - p) < need) {
                p = end;
                break;
            }
            unsigned cp = *p & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
            for (size_t i = 1; i < need; i++)
                cp = (cp << 6) | (p[i] & 0x3F);
            p += need;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                append_u16(out, 0xD800 + (cp >> 10));
                append_u16(out, 0xDC00 + (cp & 0x3FF));
            } else {
                append_u16(out, cp);
            }
        }
        }
    }
    out.push_back('"');
}

// Appends ,"key": (or {"key": for the first member of an object).
void append_key(std::string &out, bool &first, const char *key)
{
    out.push_back(first ? '{' : ',');
    first = false;
    out.push_back('"');
    out.append(key);
    out.append("\":", 2);
}

void append_int(std::string &out, int64_t v)
{
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<size_t>(r.ptr - buf));
}

void append_value(std::string &out, const Message &m, jim_field f)
{
    switch (kFields[f].type) {
    case JIM_TYPE_STRING: append_string(out, m.str(f)); break;
    case JIM_TYPE_INT: append_int(out, m.num(f)); break;
    case JIM_TYPE_BOOL: out.append(m.num(f) != 0 ? "true" : "false"); break;
    }
}

void encode_into(const Message &m, std::string &out)
{
    bool first = true;
    bool reference = m.dialect() == JIM_DIALECT_REFERENCE;
    if (m.response() != 0) {
        append_key(out, first, "response");
        append_int(out, m.response());
    } else {
        jim_action a = m.action();
        append_key(out, first, "action");
        append_string(out, a == JIM_ACTION_MSG && reference ? "message" : kActions[a].name);
    }
    append_key(out, first, "time");
    append_int(out,
               m.has(JIM_FIELD_TIME) ? m.num(JIM_FIELD_TIME) : static_cast<int64_t>(time(nullptr)));

    bool user = m.features() != 0;
    for (int i = 1; i < JIM_FIELD_COUNT; i++) {
        auto f = static_cast<jim_field>(i);
        if (!m.has(f))
            continue;
        if (kFields[f].in_user) {
            user = true;
            continue;
        }
        append_key(out, first, f == JIM_FIELD_MESSAGE && reference ? "mess_text" : kFields[f].key);
        append_value(out, m, f);
    }
    if (user) {
        append_key(out, first, "user");
        bool inner = true;
        for (int i = 1; i < JIM_FIELD_COUNT; i++) {
            auto f = static_cast<jim_field>(i);
            if (kFields[f].in_user && m.has(f)) {
                append_key(out, inner, kFields[f].key);
                append_value(out, m, f);
            }
        }
        if (m.features() & JIM_FEATURE_NDJSON) {
            append_key(out, inner, "features");
            out.append("[\"ndjson\"]");
        }
        out.append(inner ? "{}" : "}");
    }
    out.append("}\n");
}

} // namespace

int Message::encode(std::string_view *out)
{
    if (action_ == JIM_ACTION_NONE && response_ == 0)
        return JIM_EINVAL;
    encoded_.clear();
    encode_into(*this, encoded_);
    *out = encoded_;
    return JIM_OK;
}

} // namespace jim
