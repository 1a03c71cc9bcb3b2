// jim::Message, the object behind jim_msg: one JIM object with typed fields.
#pragma once

#include "limits.hh"
#include "schema.hh"

#include <jim/message.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace jim {

// One JIM object. Strings live in one arena so reset() keeps all memory for reuse.
class Message {
  public:
    void reset()
    {
        action_ = JIM_ACTION_NONE;
        response_ = 0;
        present_ = 0;
        features_ = 0;
        dialect_ = JIM_DIALECT_JIM;
        arena_.clear();
        error_.clear();
    }

    jim_action action() const { return action_; }
    int response() const { return response_; }
    void set_action(jim_action a) { action_ = a; }
    void set_response(int code) { response_ = code; }

    bool has(jim_field f) const { return present_ & bit(f); }
    // Every present field as a bit (1 << field), for walking them in field order.
    uint64_t present() const { return present_; }
    void unset(jim_field f) { present_ &= ~bit(f); }

    // Stores a string without checking it (callers validate UTF-8 first).
    void set_str(jim_field f, std::string_view s)
    {
        Value &v = vals_[f];
        v.off = static_cast<uint32_t>(arena_.size());
        v.len = static_cast<uint32_t>(s.size());
        arena_.append(s);
        arena_.push_back('\0');
        present_ |= bit(f);
    }
    void set_int(jim_field f, int64_t i)
    {
        vals_[f].i = i;
        present_ |= bit(f);
    }
    std::string_view str(jim_field f) const
    {
        const Value &v = vals_[f];
        return {arena_.data() + v.off, v.len};
    }
    const char *c_str(jim_field f) const { return arena_.data() + vals_[f].off; }
    int64_t num(jim_field f) const { return vals_[f].i; }
    // A list field: its strings, each followed by a NUL, as one arena string, and their
    // number (callers validate UTF-8 first).
    void set_list(jim_field f, std::string_view joined, size_t count)
    {
        set_str(f, joined);
        vals_[f].i = static_cast<int64_t>(count);
    }
    size_t list_len(jim_field f) const { return has(f) ? static_cast<size_t>(vals_[f].i) : 0; }
    // String i of a list field (i < list_len(f)).
    std::string_view list_item(jim_field f, size_t i) const
    {
        std::string_view all = str(f);
        size_t at = 0;
        for (; i > 0; i--)
            at = all.find('\0', at) + 1;
        return {all.data() + at, all.find('\0', at) - at};
    }

    unsigned features() const { return features_; }
    void set_features(unsigned f) { features_ = f; }
    jim_dialect dialect() const { return dialect_; }
    void set_dialect(jim_dialect d) { dialect_ = d; }

    // Why validation or decoding failed ("" when it did not).
    const std::string &error() const { return error_; }
    // Records a failure reason and returns code, for one-line error returns.
    int fail(int code, std::string_view why)
    {
        error_.assign(why);
        return code;
    }
    void clear_error() { error_.clear(); }

    // Checks required fields, syntax and limits (validate.cc).
    int validate(const Limits &lim);
    // Encodes as one ASCII-safe JSON line into an internal buffer (encoder.cc).
    int encode(std::string_view *out);
    // Parses one JSON object; skip_utf8_check when a framer already checked it (decoder.cc).
    int decode(std::string_view json, const Limits &lim, bool skip_utf8_check);
    // decode() of the common object in one pass, for the framer: one flat object (strings
    // without escapes, integers, true, false, null) that fills line but for whitespace,
    // its UTF-8 checked on the way. JIM_EAGAIN, and nothing said of line, for anything
    // else: the framer then scans and decodes it the general way.
    int decode_flat_line(std::string_view line, const Limits &lim);

  private:
    // The checks after a successful parse: an action or a response, then validate().
    int decoded(const Limits &lim);

    struct Value {
        int64_t i;
        uint32_t off, len;
    };
    jim_action action_ = JIM_ACTION_NONE;
    int response_ = 0;
    uint64_t present_ = 0;
    unsigned features_ = 0;
    jim_dialect dialect_ = JIM_DIALECT_JIM;
    Value vals_[JIM_FIELD_COUNT];
    std::string arena_;
    std::string error_;
    std::string encoded_; // encode()'s output: only grows, its size is not the length
};

} // namespace jim

struct jim_msg {
    jim::Message impl;
};
