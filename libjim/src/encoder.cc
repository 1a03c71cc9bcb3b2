// Message::encode: a Message to one line of ASCII-safe JSON through yajl's generator.
//
// Every yajl call of the generating side lives here. yajl prints UTF-8 straight into
// the message's buffer; if that holds anything non-ASCII (rare), it is rewritten with
// every non-ASCII character as a \uXXXX escape (a surrogate pair above U+FFFF), as
// Python's json.dumps does. Non-ASCII bytes can only occur inside strings, so the
// rewrite never has to know where it is.
#include "message.hh"

#include <yajl/yajl_gen.h>

#include <charconv>
#include <cstring>
#include <ctime>
#include <memory>

namespace jim {

namespace {

const char kHex[] = "0123456789abcdef";

void append_u16(std::string &out, unsigned v)
{
    char e[6] = {'\\',        'u', kHex[(v >> 12) & 15], kHex[(v >> 8) & 15], kHex[(v >> 4) & 15],
                 kHex[v & 15]};
    out.append(e, 6);
}

// A thread's generator: one yajl_gen, reset for every object.
class Encoder {
  public:
    Encoder()
    {
        gen_ = yajl_gen_alloc(nullptr);
        // yajl prints every token piece separately; appending them straight to our string
        // costs a third of what its own buffer does.
        if (gen_)
            yajl_gen_config(gen_, yajl_gen_print_callback, &Encoder::print, this);
    }
    ~Encoder()
    {
        if (gen_)
            yajl_gen_free(gen_);
    }
    bool ok() const { return gen_ != nullptr; }

    int encode(const Message &m, std::string &out)
    {
        out_ = &out;
        size_t start = out.size();
        yajl_gen_reset(gen_, nullptr);
        yajl_gen_map_open(gen_);
        bool reference = m.dialect() == JIM_DIALECT_REFERENCE;
        if (m.response() != 0) {
            key("response");
            integer(m.response());
        } else {
            jim_action a = m.action();
            key("action");
            if (a == JIM_ACTION_MSG && reference)
                string("message");
            else
                string(kActions[a].name);
        }
        key("time");
        integer(m.has(JIM_FIELD_TIME) ? m.num(JIM_FIELD_TIME)
                                      : static_cast<int64_t>(time(nullptr)));

        bool user = m.features() != 0;
        for (int i = 1; i < JIM_FIELD_COUNT; i++) {
            auto f = static_cast<jim_field>(i);
            if (!m.has(f))
                continue;
            if (kFields[f].in_user) {
                user = true;
                continue;
            }
            if (f == JIM_FIELD_MESSAGE && reference)
                key("mess_text");
            else
                key(kFields[f].key);
            value(m, f);
        }
        if (user) {
            key("user");
            yajl_gen_map_open(gen_);
            for (int i = 1; i < JIM_FIELD_COUNT; i++) {
                auto f = static_cast<jim_field>(i);
                if (kFields[f].in_user && m.has(f)) {
                    key(kFields[f].key);
                    value(m, f);
                }
            }
            if (m.features() & JIM_FEATURE_NDJSON) {
                key("features");
                yajl_gen_array_open(gen_);
                string("ndjson");
                yajl_gen_array_close(gen_);
            }
            yajl_gen_map_close(gen_);
        }
        if (yajl_gen_map_close(gen_) != yajl_gen_status_ok)
            return JIM_EINTERNAL;
        if (!ascii(out.data() + start, out.size() - start)) {
            scratch_.assign(out, start); // reused: no allocation once warm
            out.resize(start);
            append_ascii_safe(out, reinterpret_cast<const unsigned char *>(scratch_.data()),
                              scratch_.size());
        }
        out.push_back('\n');
        return JIM_OK;
    }

  private:
    static void print(void *ctx, const char *s, size_t len)
    {
        static_cast<Encoder *>(ctx)->out_->append(s, len);
    }

    void key(const char *k)
    {
        yajl_gen_string(gen_, reinterpret_cast<const unsigned char *>(k), std::strlen(k));
    }
    void string(std::string_view s)
    {
        yajl_gen_string(gen_, reinterpret_cast<const unsigned char *>(s.data()), s.size());
    }
    void integer(int64_t v)
    {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        yajl_gen_number(gen_, buf, static_cast<size_t>(r.ptr - buf));
    }
    void value(const Message &m, jim_field f)
    {
        switch (kFields[f].type) {
        case JIM_TYPE_STRING: string(m.str(f)); break;
        case JIM_TYPE_INT: integer(m.num(f)); break;
        case JIM_TYPE_BOOL: yajl_gen_bool(gen_, m.num(f) != 0); break;
        }
    }

    static bool ascii(const char *s, size_t len)
    {
        size_t i = 0;
        for (; i + 8 <= len; i += 8) {
            uint64_t w;
            std::memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull)
                return false;
        }
        for (; i < len; i++)
            if (static_cast<unsigned char>(s[i]) >= 0x80)
                return false;
        return true;
    }

    // Appends yajl's UTF-8 output to out with every non-ASCII character escaped.
    static void append_ascii_safe(std::string &out, const unsigned char *p, size_t len)
    {
        const unsigned char *end = p + len;
        while (p < end) {
            const unsigned char *run = p;
            while (p < end && *p < 0x80)
                p++;
            out.append(reinterpret_cast<const char *>(run), p - run);
            if (p == end)
                break;
            // Valid UTF-8 is guaranteed: every string was checked when it was set.
            size_t need = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
            if (static_cast<size_t>(end - p) < need)
                break;
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

    yajl_gen gen_ = nullptr;
    std::string *out_ = nullptr;
    std::string scratch_;
};

} // namespace

int Message::encode(std::string_view *out)
{
    thread_local std::unique_ptr<Encoder> encoder;
    if (action_ == JIM_ACTION_NONE && response_ == 0)
        return JIM_EINVAL;
    if (!encoder) {
        auto e = std::make_unique<Encoder>();
        if (!e->ok())
            return JIM_ENOMEM;
        encoder = std::move(e);
    }
    encoded_.clear();
    int rc = encoder->encode(*this, encoded_);
    if (rc == JIM_OK)
        *out = encoded_;
    return rc;
}

} // namespace jim
