// Writing and reading the journal's batch rows (batch_format.hh). Strings are escaped as
// JSON requires and nothing more (UTF-8 goes as it is: the codec checked it); the parser
// reads that, and the escapes SQLite's json functions write (the schema migration's rows).
#include "batch_format.hh"

#include "json_bytes.hh"

#include <charconv>
#include <cstring>

namespace jimd::batch_format {

namespace {

void add_string(std::string *out, const std::string &s)
{
    static const char hex[] = "0123456789abcdef";
    out->push_back('"');
    const char *p = s.data(), *end = p + s.size(), *plain = p;
    for (; p < end; p++) {
        auto c = static_cast<unsigned char>(*p);
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        out->append(plain, static_cast<size_t>(p - plain));
        plain = p + 1;
        if (c == '"' || c == '\\') {
            out->push_back('\\');
            out->push_back(static_cast<char>(c));
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            out->append(esc, 6);
        }
    }
    out->append(plain, static_cast<size_t>(end - plain));
    out->push_back('"');
}

// Writes "s" and then tail at w, for a string that needs no escapes.
char *put_plain(char *w, const std::string &s, char tail)
{
    *w++ = '"';
    std::memcpy(w, s.data(), s.size());
    w += s.size();
    *w++ = '"';
    *w++ = tail;
    return w;
}

void add_int(std::string *out, int64_t v)
{
    char buf[24];
    out->append(buf, static_cast<size_t>(put_int(buf, v) - buf));
}

// A cursor over a batch's text.
struct Reader {
    const char *p, *end;

    void space()
    {
        while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
            p++;
    }
    bool expect(char c)
    {
        space();
        if (p < end && *p == c) {
            p++;
            return true;
        }
        return false;
    }
    bool integer(int64_t *v)
    {
        space();
        auto r = std::from_chars(p, end, *v);
        if (r.ec != std::errc())
            return false;
        p = r.ptr;
        return true;
    }
    static int hex_value(char c)
    {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    }
    bool hex4(unsigned *u)
    {
        if (end - p < 4)
            return false;
        *u = 0;
        for (int i = 0; i < 4; i++) {
            int h = hex_value(*p++);
            if (h < 0)
                return false;
            *u = *u << 4 | static_cast<unsigned>(h);
        }
        return true;
    }
    static void utf8(std::string *out, unsigned cp)
    {
        if (cp < 0x80) {
            out->push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out->push_back(static_cast<char>(0xc0 | cp >> 6));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        } else if (cp < 0x10000) {
            out->push_back(static_cast<char>(0xe0 | cp >> 12));
            out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3f)));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        } else {
            out->push_back(static_cast<char>(0xf0 | cp >> 18));
            out->push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3f)));
            out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3f)));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        }
    }
    bool escape(std::string *out)
    {
        if (p >= end)
            return false;
        char c = *p++;
        switch (c) {
        case '"':
        case '\\':
        case '/': out->push_back(c); return true;
        case 'b': out->push_back('\b'); return true;
        case 'f': out->push_back('\f'); return true;
        case 'n': out->push_back('\n'); return true;
        case 'r': out->push_back('\r'); return true;
        case 't': out->push_back('\t'); return true;
        case 'u': break;
        default: return false;
        }
        unsigned cp;
        if (!hex4(&cp))
            return false;
        if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
            p += 2;
            unsigned lo;
            if (!hex4(&lo) || lo < 0xdc00 || lo >= 0xe000)
                return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        utf8(out, cp);
        return true;
    }
    // Steps past a string's opening quote (1) or past null (0); -1 for anything else.
    int opening()
    {
        space();
        if (end - p >= 4 && std::memcmp(p, "null", 4) == 0) {
            p += 4;
            return 0;
        }
        return expect('"') ? 1 : -1;
    }
    // A string, or null (as ""), as a view: into the text when it has no escape, else
    // into *own, which it is decoded to.
    bool view(std::string_view *v, std::string *own)
    {
        space();
        if (p < end && *p == '"') {
            const char *b = p + 1, *q = b;
            while (q < end && *q != '"' && *q != '\\')
                q++;
            if (q < end && *q == '"') {
                *v = std::string_view(b, static_cast<size_t>(q - b));
                p = q + 1;
                return true;
            }
        }
        if (!string(own))
            return false;
        *v = *own;
        return true;
    }
    // A string, or null (as "").
    bool string(std::string *out)
    {
        out->clear();
        if (int o = opening(); o <= 0)
            return o == 0;
        for (;;) {
            const char *q = p;
            while (q < end && *q != '"' && *q != '\\')
                q++;
            out->append(p, static_cast<size_t>(q - p));
            p = q;
            if (p >= end)
                return false;
            if (*p++ == '"')
                return true;
            if (!escape(out))
                return false;
        }
    }
    // Steps over a string (or null) without decoding it: a backslash always escapes the
    // byte after it, and no escape holds a quote other than \".
    bool skip_string()
    {
        if (int o = opening(); o <= 0)
            return o == 0;
        for (;;) {
            const char *q =
                static_cast<const char *>(std::memchr(p, '"', static_cast<size_t>(end - p)));
            if (!q)
                return false;
            const char *b = q;
            while (b > p && b[-1] == '\\')
                b--;
            p = q + 1;
            if ((q - b) % 2 == 0)
                return true; // not escaped: the string's end
        }
    }
    // A seq as jimd writes it (digits, no sign or space), else integer()'s general case.
    bool seq(int64_t *v)
    {
        int64_t n = 0;
        const char *q = p;
        for (; q < end && q - p < 18 && *q >= '0' && *q <= '9'; q++)
            n = n * 10 + (*q - '0');
        if (q == p || q == end || q - p == 18)
            return integer(v);
        *v = n;
        p = q;
        return true;
    }
    // Steps over an integer (an optional minus and digits) without reading it.
    bool skip_number()
    {
        space();
        const char *q = p < end && *p == '-' ? p + 1 : p;
        const char *digits = q;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (q == digits)
            return false;
        p = q;
        return true;
    }
    bool head(Head *h)
    {
        return expect('[') && seq(&h->seq) && expect(',') && skip_number() && expect(',') &&
               view(&h->from, &h->own_from) && expect(',') && view(&h->to, &h->own_to) &&
               expect(',') && skip_string() && expect(',') && skip_string() && expect(',') &&
               view(&h->client_id, &h->own_client_id) && expect(']');
    }
    bool message(StoredMessage *m)
    {
        return expect('[') && integer(&m->seq) && expect(',') && integer(&m->time) && expect(',') &&
               string(&m->from) && expect(',') && string(&m->to) && expect(',') &&
               string(&m->encoding) && expect(',') && string(&m->text) && expect(',') &&
               string(&m->client_id) && expect(']');
    }
};

} // namespace

void begin(std::string *out)
{
    out->clear();
    out->push_back('[');
}

bool add(std::string *out, const StoredMessage &m)
{
    const std::string *strings[] = {&m.from, &m.to, &m.encoding, &m.text};
    // Plain ASCII is the common case and implies plain; only a message that is not looks
    // again, for JSON's escapes alone.
    bool ascii = !needs_escape(m.client_id, true);
    size_t bound = 2 + 2 * 21 + 4 + m.client_id.size() + 3;
    for (const std::string *str : strings) {
        ascii = ascii && !needs_escape(*str, true);
        bound += str->size() + 3;
    }
    bool plain = ascii || !needs_escape(m.client_id, false);
    for (size_t i = 0; !ascii && plain && i < 4; i++)
        plain = !needs_escape(*strings[i], false);
    if (plain) {
        // The common case: one resize and straight writes.
        size_t at = out->size();
        out->resize(at + bound);
        char *w = out->data() + at;
        if (at > 1)
            *w++ = ',';
        *w++ = '[';
        w = put_int(w, m.seq);
        *w++ = ',';
        w = put_time(w, m.time);
        *w++ = ',';
        for (const std::string *str : strings)
            w = put_plain(w, *str, ',');
        if (m.client_id.empty()) {
            std::memcpy(w, "null]", 5);
            w += 5;
        } else {
            w = put_plain(w, m.client_id, ']');
        }
        out->resize(static_cast<size_t>(w - out->data()));
        return ascii;
    }
    if (out->size() > 1)
        out->push_back(',');
    out->push_back('[');
    add_int(out, m.seq);
    out->push_back(',');
    add_int(out, m.time);
    out->push_back(',');
    for (const std::string *str : strings) {
        add_string(out, *str);
        out->push_back(',');
    }
    if (m.client_id.empty())
        out->append("null");
    else
        add_string(out, m.client_id);
    out->push_back(']');
    return false;
}

void end(std::string *out)
{
    out->push_back(']');
}

namespace {

// Walks a batch's array of messages, element(r) reading each; false when the text is no
// batch.
template <class Element> bool walk(const char *text, size_t n, Element element)
{
    Reader r{text, text + n};
    if (!r.expect('['))
        return false;
    if (!r.expect(']')) {
        do {
            if (!element(r))
                return false;
        } while (r.expect(','));
        if (!r.expect(']'))
            return false;
    }
    r.space();
    return r.p == r.end;
}

} // namespace

bool parse(const char *text, size_t n, std::vector<StoredMessage> *out)
{
    out->clear();
    return walk(text, n, [out](Reader &r) { return r.message(&out->emplace_back()); });
}

bool parse_heads(const char *text, size_t n, std::vector<Head> *out, size_t *count)
{
    *count = 0;
    if (!walk(text, n, [out, count](Reader &r) {
            if (*count == out->size())
                out->emplace_back();
            return r.head(&(*out)[(*count)++]);
        }))
        return false;
    // A view of a decoded name points into its element's own string, which moved if the
    // vector grew after it: made again now that every element is in place.
    auto in_text = [text, n](std::string_view v) {
        auto at = reinterpret_cast<uintptr_t>(v.data()), begin = reinterpret_cast<uintptr_t>(text);
        return at >= begin && at <= begin + n;
    };
    for (size_t i = 0; i < *count; i++) {
        Head &h = (*out)[i];
        if (!in_text(h.from))
            h.from = h.own_from;
        if (!in_text(h.to))
            h.to = h.own_to;
        if (!in_text(h.client_id))
            h.client_id = h.own_client_id;
    }
    return true;
}

} // namespace jimd::batch_format
