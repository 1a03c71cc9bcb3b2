// Message::decode: one JSON object to a Message through yajl's callback parser.
//
// The common object (flat, plain strings and integers) is read by a small scanner of
// its own that calls the same callbacks as yajl would (FlatScanner); anything else
// goes to yajl, from the start of the object.
// Every yajl call of the parsing side lives here. One yajl handle per thread is
// reused across objects (yajl_allow_multiple_values), so a warm decoder
// allocates nothing. A handle is reused only after a parse that ended cleanly at
// the object's end; after anything else (an error, bytes after the object that
// yajl may hold half-read, an exception) the next call makes a new one.
#include "message.hh"
#include "scan8.hh"
#include "utf8.hh"

#include <yajl/yajl_parse.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

namespace jim {

namespace {

// What the value after the current key belongs to.
enum Target : int { T_SKIP = -1 };

struct ParseState {
    Message *msg = nullptr;
    yajl_handle handle = nullptr;
    long max_depth = 32;
    int depth = 0;      // containers open, the top object included
    int skip_depth = 0; // open containers inside an ignored value
    bool in_user = false;
    bool in_features = false;
    int list = T_SKIP;        // the list field whose array is open
    size_t list_count = 0;    // its strings so far
    std::string list_items;   // each followed by a NUL
    bool top_account = false; // "account_name" came outside "user"
    bool done = false;        // the top-level object has closed
    size_t end = 0;           // bytes up to the end of the top-level object, once done
    int target = T_SKIP;      // jim_field, SpecialKey or T_SKIP
    int code = JIM_OK;        // first error found
    std::string why;

    int error(int c, std::string_view w)
    {
        if (code == JIM_OK) {
            code = c;
            why.assign(w);
        }
        return 1; // keep parsing: a syntax error later still wins
    }
    // "field 'x' must be <the type x takes>" for the current key.
    int type_error()
    {
        if (code != JIM_OK)
            return 1;
        std::string w = "field '";
        const char *expected = "a string";
        if (target >= 0 && target < JIM_FIELD_COUNT) {
            if (kFields[target].in_user)
                w += "user.";
            w += kFields[target].key;
            expected = kFields[target].type == JIM_TYPE_INT    ? "an integer"
                       : kFields[target].type == JIM_TYPE_BOOL ? "a boolean"
                                                               : "a string";
        } else if (target == KEY_ACTION) {
            w += "action";
        } else if (target == KEY_RESPONSE) {
            w += "response";
            expected = "an integer";
        } else if (target == KEY_USER) {
            w += "user";
            expected = "an object";
        } else if (target == KEY_FEATURES) {
            w += "user.features";
            expected = "an array of strings";
        } else if (target == KEY_MESS_TEXT) {
            w += "mess_text";
        } else if (target == KEY_TOP_ACCOUNT_NAME) {
            w += "account_name";
        }
        if (target >= 0 && target < JIM_FIELD_COUNT && kFields[target].type == JIM_TYPE_LIST)
            expected = "an array of strings";
        w += "' must be ";
        w += expected;
        return error(JIM_EFIELD, w);
    }
    // Common entry of every value callback; false when the value is to be ignored.
    bool value_wanted()
    {
        if (depth == 0) {
            error(JIM_ESYNTAX, done ? "more than one JSON value" : "not a JSON object");
            return false;
        }
        return skip_depth == 0;
    }
};

ParseState &st(void *ctx)
{
    return *static_cast<ParseState *>(ctx);
}

bool string_field(int t)
{
    return t >= 0 && t < JIM_FIELD_COUNT && kFields[t].type == JIM_TYPE_STRING;
}

// Reads `time` from a number's text: int or float seconds, or ms/us/ns since the epoch.
bool parse_time(std::string_view s, int64_t *out)
{
    // A few plain digits, the common case (a client's clock, or 0), read digit by digit.
    if (!s.empty() && s.size() <= 11) { // below 10^11: what from_chars below would accept
        int64_t v = 0;
        size_t k = 0;
        for (; k < s.size() && s[k] >= '0' && s[k] <= '9'; k++)
            v = v * 10 + (s[k] - '0');
        if (k == s.size()) {
            *out = v;
            return true;
        }
    }
    // Integer seconds: exactly what the float path below gives, cheaper.
    int64_t i;
    auto [ip, iec] = std::from_chars(s.data(), s.data() + s.size(), i);
    if (iec == std::errc() && ip == s.data() + s.size() && i >= -100000000000 &&
        i <= 100000000000) {
        *out = i;
        return true;
    }
    double d;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(d))
        return false;
    while (std::fabs(d) > 1e11)
        d /= 1000; // milliseconds, microseconds or nanoseconds
    *out = static_cast<int64_t>(d);
    return true;
}

int on_null(void *ctx)
{
    ParseState &s = st(ctx);
    s.value_wanted(); // null is "absent" for every field
    return 1;
}

int on_boolean(void *ctx, int v)
{
    ParseState &s = st(ctx);
    if (!s.value_wanted() || s.target == T_SKIP)
        return 1;
    if (s.list != T_SKIP)
        return s.target = s.list, s.type_error();
    if (s.in_features || s.target == JIM_FIELD_TIME)
        return 1; // a feature we cannot know; time is informational
    if (s.target < JIM_FIELD_COUNT && kFields[s.target].type == JIM_TYPE_BOOL) {
        s.msg->set_int(static_cast<jim_field>(s.target), v ? 1 : 0);
        return 1;
    }
    return s.type_error();
}

int on_number(void *ctx, const char *num, size_t len)
{
    ParseState &s = st(ctx);
    if (!s.value_wanted() || s.target == T_SKIP)
        return 1;
    std::string_view text(num, len);
    if (s.list != T_SKIP)
        return s.target = s.list, s.type_error();
    if (s.in_features)
        return 1;
    if (s.target == JIM_FIELD_TIME) {
        int64_t t;
        if (parse_time(text, &t))
            s.msg->set_int(JIM_FIELD_TIME, t);
        return 1;
    }
    bool is_int_field = (s.target < JIM_FIELD_COUNT && kFields[s.target].type == JIM_TYPE_INT) ||
                        s.target == KEY_RESPONSE;
    if (!is_int_field)
        return s.type_error();
    int64_t v;
    auto [p, ec] = std::from_chars(num, num + len, v);
    if (ec != std::errc() || p != num + len)
        return s.type_error(); // a fraction, an exponent or out of range
    if (s.target == KEY_RESPONSE) {
        if (v < 100 || v > 599)
            return s.error(JIM_EFIELD, "field 'response' must be a code from 100 to 599");
        s.msg->set_response(static_cast<int>(v));
    } else {
        s.msg->set_int(static_cast<jim_field>(s.target), v);
    }
    return 1;
}

int on_string(void *ctx, const unsigned char *str, size_t len)
{
    ParseState &s = st(ctx);
    if (!s.value_wanted())
        return 1;
    std::string_view v(reinterpret_cast<const char *>(str), len);
    if (s.list != T_SKIP) {
        if (v.find('\0') != std::string_view::npos)
            return s.error(JIM_EFIELD,
                           std::string("field '") + kFields[s.list].key + "': contains U+0000");
        s.list_items.append(v);
        s.list_items.push_back('\0');
        s.list_count++;
        return 1;
    }
    if (s.in_features) {
        if (v == "ndjson")
            s.msg->set_features(s.msg->features() | JIM_FEATURE_NDJSON);
        return 1;
    }
    if (s.target == T_SKIP)
        return 1;
    if (s.target == JIM_FIELD_TIME) {
        int64_t t;
        if (parse_time(v, &t))
            s.msg->set_int(JIM_FIELD_TIME, t);
        return 1; // any other text in `time` is informational only
    }
    if (s.target == KEY_ACTION) {
        jim_dialect dialect = JIM_DIALECT_JIM;
        jim_action a = action_lookup(v, &dialect);
        if (a == JIM_ACTION_NONE)
            return s.error(JIM_EACTION, "unknown action");
        s.msg->set_action(a);
        if (dialect != JIM_DIALECT_JIM)
            s.msg->set_dialect(dialect);
        return 1;
    }
    if (s.target == KEY_USER) { // the database course names the user as a plain string
        s.msg->set_dialect(JIM_DIALECT_DB);
        return 1;
    }
    if (s.target == KEY_TOP_ACCOUNT_NAME) { // as user.account_name, unless that is there too
        if (!s.msg->has(JIM_FIELD_ACCOUNT_NAME))
            s.msg->set_str(JIM_FIELD_ACCOUNT_NAME, v);
        s.top_account = true;
        return 1;
    }
    if (s.target == KEY_MESS_TEXT) {
        s.msg->set_str(JIM_FIELD_MESSAGE, v);
        s.msg->set_dialect(JIM_DIALECT_REFERENCE);
        return 1;
    }
    if (!string_field(s.target))
        return s.type_error();
    s.msg->set_str(static_cast<jim_field>(s.target), v);
    return 1;
}

int on_start_map(void *ctx)
{
    ParseState &s = st(ctx);
    if (s.done)
        return s.error(JIM_ESYNTAX, "more than one JSON value"), 0;
    if (++s.depth > s.max_depth) {
        s.code = JIM_OK;
        s.error(JIM_EDEPTH, "JSON nested too deep");
        return 0; // stop at once: nothing below is worth reading
    }
    if (s.depth == 1)
        return 1;
    if (s.list != T_SKIP) {
        s.skip_depth++;
        return s.target = s.list, s.type_error();
    }
    if (s.skip_depth > 0 || s.in_features || s.target == T_SKIP || s.target == JIM_FIELD_TIME) {
        s.skip_depth++;
        return 1;
    }
    if (s.target == KEY_USER && s.depth == 2) {
        s.in_user = true;
        s.target = T_SKIP;
        return 1;
    }
    s.skip_depth++;
    return s.type_error();
}

int on_end_map(void *ctx)
{
    ParseState &s = st(ctx);
    s.depth--;
    if (s.skip_depth > 0)
        s.skip_depth--;
    else if (s.in_user && s.depth == 1)
        s.in_user = false;
    else if (s.depth == 0) {
        s.done = true;
        // In yajl's callback: up to this '}' (the flat scanner sets end itself).
        if (s.handle)
            s.end = yajl_get_bytes_consumed(s.handle);
    }
    s.target = T_SKIP;
    return 1;
}

int on_start_array(void *ctx)
{
    ParseState &s = st(ctx);
    if (s.depth == 0)
        return s.error(JIM_ESYNTAX, s.done ? "more than one JSON value" : "not a JSON object"), 0;
    if (++s.depth > s.max_depth) {
        s.code = JIM_OK;
        s.error(JIM_EDEPTH, "JSON nested too deep");
        return 0;
    }
    if (s.skip_depth > 0 || s.in_features || s.target == T_SKIP || s.target == JIM_FIELD_TIME) {
        s.skip_depth++;
        return 1;
    }
    if (s.target == KEY_FEATURES && s.in_user && s.depth == 3) {
        s.in_features = true;
        return 1;
    }
    if (s.depth == 2 && s.list == T_SKIP && s.target >= 0 && s.target < JIM_FIELD_COUNT &&
        kFields[s.target].type == JIM_TYPE_LIST) {
        s.list = s.target;
        s.list_count = 0;
        s.list_items.clear();
        return 1;
    }
    s.skip_depth++;
    return s.type_error();
}

int on_end_array(void *ctx)
{
    ParseState &s = st(ctx);
    s.depth--;
    if (s.skip_depth > 0) {
        s.skip_depth--;
    } else if (s.list != T_SKIP) {
        s.msg->set_list(static_cast<jim_field>(s.list), s.list_items, s.list_count);
        s.list = T_SKIP;
    } else {
        s.in_features = false;
    }
    s.target = T_SKIP;
    return 1;
}

int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
    ParseState &s = st(ctx);
    if (s.skip_depth > 0)
        return 1;
    std::string_view k(reinterpret_cast<const char *>(key), len);
    if (s.depth == 1)
        s.target = top_key_lookup(k);
    else if (s.in_user && s.depth == 2)
        s.target = user_key_lookup(k);
    else
        s.target = T_SKIP;
    if (s.target < 0)
        s.target = T_SKIP;
    return 1;
}

const yajl_callbacks kCallbacks = {
    on_null,      on_boolean, nullptr,    nullptr,        on_number,    on_string,
    on_start_map, on_map_key, on_end_map, on_start_array, on_end_array,
};

// The common case, one flat object whose values are strings without escapes, integers,
// true, false or null, read without yajl: it calls the same callbacks in the same order as
// yajl would, so the outcome is the same. Anything else (a nested value, an escape, a
// fraction or exponent, whitespace other than JSON's four, a syntax error) makes a step
// return false, and yajl parses the object from the start. UTF-8 was checked before (by
// the framer or decode()), unless check_utf8: then a string with a byte that is not ASCII
// is checked here, and bad UTF-8 returns false.
template <bool check_utf8> class FlatScanner {
  public:
    FlatScanner(std::string_view json, void *ctx)
        : begin_(json.data()), p_(begin_), end_(begin_ + json.size()), ctx_(ctx)
    {
    }

    // The object at the start, up to its '}' (whitespace before it skipped).
    bool object()
    {
        space();
        if (p_ == end_ || *p_ != '{')
            return false;
        p_++;
        if (!on_start_map(ctx_))
            return false;
        space();
        if (p_ < end_ && *p_ == '}')
            p_++;
        else if (!members())
            return false;
        return on_end_map(ctx_) != 0;
    }
    // Bytes read so far.
    size_t offset() const { return static_cast<size_t>(p_ - begin_); }
    // Skips whitespace; true when nothing else is left.
    bool only_space_left()
    {
        space();
        return p_ == end_;
    }

  private:
    // One comparison for the common byte, which is no whitespace.
    void space()
    {
        while (p_ < end_ && static_cast<unsigned char>(*p_) <= ' ' &&
               (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t'))
            p_++;
    }
    // "key": value pairs up to and past the object's '}'.
    bool members()
    {
        for (;;) {
            const unsigned char *s;
            size_t n;
            if (!string(&s, &n) || !on_map_key(ctx_, s, n))
                return false;
            space();
            if (p_ == end_ || *p_ != ':')
                return false;
            p_++;
            space();
            if (!value())
                return false;
            space();
            if (p_ == end_)
                return false;
            if (*p_ == '}') {
                p_++;
                return true;
            }
            if (*p_ != ',')
                return false;
            p_++;
            space();
        }
    }
    // One value after a key; false for an object, an array or anything yajl must read.
    bool value()
    {
        if (p_ == end_)
            return false;
        if (*p_ == '"') {
            const unsigned char *s;
            size_t n;
            return string(&s, &n) && on_string(ctx_, s, n);
        }
        if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9'))
            return integer();
        if (literal("true"))
            return on_boolean(ctx_, 1);
        if (literal("false"))
            return on_boolean(ctx_, 0);
        if (literal("null"))
            return on_null(ctx_);
        return false;
    }
    // A string at p_ without escapes or control characters; p_ ends past its quote.
    bool string(const unsigned char **s, size_t *n)
    {
        if (p_ == end_ || *p_ != '"')
            return false;
        const char *b = ++p_;
        unsigned char high = 0; // the high bits of the string's bytes
        for (;;) {
            if (end_ - p_ >= 8) { // eight at a time, to the first byte that is not plain
                uint64_t special = special_in_word(p_, check_utf8);
                if (!special) {
                    p_ += 8;
                    continue;
                }
                p_ += __builtin_ctzll(special) / 8; // the lowest byte is the first
            } else if (p_ == end_) {
                return false;
            }
            auto c = static_cast<unsigned char>(*p_);
            if (c == '"')
                break;
            if (c == '\\' || c < 0x20)
                return false;
            high |= c;
            p_++;
        }
        *s = reinterpret_cast<const unsigned char *>(b);
        *n = static_cast<size_t>(p_ - b);
        p_++;
        return !check_utf8 || high < 0x80 ||
               utf8_valid(std::string_view(reinterpret_cast<const char *>(*s), *n));
    }
    // An integer (a double goes to yajl).
    bool integer()
    {
        const char *b = p_;
        if (*p_ == '-')
            p_++;
        if (p_ < end_ && *p_ == '0')
            p_++;
        else if (p_ < end_ && *p_ >= '1' && *p_ <= '9')
            while (p_ < end_ && *p_ >= '0' && *p_ <= '9')
                p_++;
        else
            return false;
        if (p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E'))
            return false;
        return on_number(ctx_, b, static_cast<size_t>(p_ - b));
    }
    bool literal(std::string_view word)
    {
        if (static_cast<size_t>(end_ - p_) < word.size() ||
            std::memcmp(p_, word.data(), word.size()) != 0)
            return false;
        p_ += word.size();
        return true;
    }

    const char *begin_, *p_, *end_;
    void *ctx_;
};

// A thread's parser: a reusable yajl handle and the state its callbacks fill.
class Decoder {
  public:
    ~Decoder() { drop(); }

    int parse(Message *msg, std::string_view json, long max_depth)
    {
        begin(msg, max_depth, nullptr);
        // The common case, without yajl: the same callbacks, the same outcome.
        if (flat<false>(json))
            return flat_outcome(msg);
        msg->reset(); // what the flat scanner set before it gave up
        if (!clean_)
            drop(); // the last parse did not end cleanly: its handle's state is unknown
        clean_ = false;
        if (!handle_ && !make())
            return msg->fail(JIM_ENOMEM, "out of memory");
        begin(msg, max_depth, handle_);
        yajl_status rc =
            yajl_parse(handle_, reinterpret_cast<const unsigned char *>(json.data()), json.size());
        bool only_space_after = state_.done && only_whitespace(json.substr(state_.end));
        if (rc == yajl_status_ok && state_.done && state_.code == JIM_OK && only_space_after) {
            clean_ = true;
            if (state_.top_account)
                top_account_name(msg);
            return JIM_OK;
        }
        int code;
        std::string why;
        if (rc == yajl_status_error) {
            code = JIM_ESYNTAX;
            why = syntax_error(json);
        } else if (state_.code != JIM_OK) {
            code = state_.code;
            why = state_.why;
        } else if (state_.done) {
            code = JIM_ESYNTAX; // yajl holds a value it has not finished, or waits for one
            why = "malformed JSON: data after the JSON object";
        } else {
            code = JIM_ESYNTAX;
            why = state_.depth == 0 && !state_.done ? "empty input: not a JSON object"
                                                    : "malformed JSON: object not closed";
        }
        return msg->fail(code, why); // clean_ stays false: the next parse starts afresh
    }

    // One flat object that fills json but for whitespace, read in one pass that checks
    // its UTF-8 too; JIM_EAGAIN (msg then holds a part) for anything else.
    int parse_flat(Message *msg, std::string_view json, long max_depth)
    {
        begin(msg, max_depth, nullptr);
        return flat<true>(json) ? flat_outcome(msg) : JIM_EAGAIN;
    }

  private:
    int flat_outcome(Message *msg)
    {
        if (state_.code != JIM_OK)
            return msg->fail(state_.code, state_.why);
        if (state_.top_account)
            top_account_name(msg);
        return JIM_OK;
    }
    void begin(Message *msg, long max_depth, yajl_handle handle)
    {
        state_.msg = msg;
        state_.handle = handle;
        state_.max_depth = max_depth;
        state_.depth = state_.skip_depth = 0;
        state_.in_user = state_.in_features = state_.done = state_.top_account = false;
        state_.list = T_SKIP;
        state_.end = 0;
        state_.target = T_SKIP;
        state_.code = JIM_OK;
        state_.why.clear();
    }

    // The common case, one flat object without yajl (FlatScanner); then only whitespace.
    template <bool check_utf8> bool flat(std::string_view json)
    {
        FlatScanner<check_utf8> scan(json, &state_);
        if (!scan.object())
            return false;
        state_.end = scan.offset();
        return scan.only_space_left() && state_.done;
    }

    // The database course puts account names outside "user": in add/remove the contact
    // to add or remove, and in get_users/get_contacts the client's own name (which marks
    // the dialect). Elsewhere (a 2017 template's presence) it is user.account_name.
    static void top_account_name(Message *msg)
    {
        jim_action a = msg->action();
        if ((a == JIM_ACTION_ADD_CONTACT || a == JIM_ACTION_DEL_CONTACT) &&
            !msg->has(JIM_FIELD_USER_ID)) {
            std::string name(msg->str(JIM_FIELD_ACCOUNT_NAME)); // set_str may move the arena
            msg->set_str(JIM_FIELD_USER_ID, name);
            msg->unset(JIM_FIELD_ACCOUNT_NAME);
        }
        if (a == JIM_ACTION_GET_USERS || a == JIM_ACTION_GET_CONTACTS ||
            a == JIM_ACTION_ADD_CONTACT || a == JIM_ACTION_DEL_CONTACT)
            msg->set_dialect(JIM_DIALECT_DB);
    }
    static bool only_whitespace(std::string_view s)
    {
        for (char c : s)
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                return false;
        return true;
    }
    bool make()
    {
        handle_ = yajl_alloc(&kCallbacks, nullptr, &state_);
        if (!handle_)
            return false;
        yajl_config(handle_, yajl_allow_multiple_values, 1);
        yajl_config(handle_, yajl_dont_validate_strings, 1); // UTF-8 is checked before
        return true;
    }
    void drop()
    {
        if (handle_)
            yajl_free(handle_);
        handle_ = nullptr;
    }
    std::string syntax_error(std::string_view json)
    {
        unsigned char *text = yajl_get_error(
            handle_, 0, reinterpret_cast<const unsigned char *>(json.data()), json.size());
        std::string why = "malformed JSON";
        if (text) {
            std::string detail(reinterpret_cast<char *>(text));
            yajl_free_error(handle_, text);
            while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' '))
                detail.pop_back();
            for (char &c : detail)
                if (c == '\n')
                    c = ' ';
            why += ": " + detail;
        }
        return why;
    }

    yajl_handle handle_ = nullptr;
    bool clean_ = true; // the last parse ended at an object's end: handle_ can go on
    ParseState state_;
};

// Reads the four hex digits at p (the caller checked that they are in the input).
bool hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = static_cast<unsigned>(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = static_cast<unsigned>(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = static_cast<unsigned>(c - 'A' + 10);
        else
            return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

// Finds a \u escape of a UTF-16 surrogate that is not half of a high-low pair, which yajl
// would turn into '?' or into invalid UTF-8; npos when there is none. A backslash in valid
// JSON starts an escape, and escapes are walked whole, so an escaped backslash followed by
// "ud800" is text. Other bad escapes are left to yajl.
size_t lone_surrogate(std::string_view json)
{
    const char *begin = json.data(), *end = begin + json.size(), *p = begin;
    while ((p = static_cast<const char *>(std::memchr(p, '\\', static_cast<size_t>(end - p))))) {
        if (end - p < 2)
            break; // a backslash as the last byte: yajl says what is wrong
        if (p[1] != 'u' || end - p < 6) {
            p += 2;
            continue;
        }
        unsigned cp, low;
        if (!hex4(p + 2, &cp) || cp < 0xD800 || cp > 0xDFFF) {
            p += 6;
            continue;
        }
        if (cp < 0xDC00 && end - p >= 12 && p[6] == '\\' && p[7] == 'u' && hex4(p + 8, &low) &&
            low >= 0xDC00 && low <= 0xDFFF) {
            p += 12;
            continue;
        }
        return static_cast<size_t>(p - begin);
    }
    return std::string_view::npos;
}

// The thread's decoder, made at its first use.
Decoder &thread_decoder()
{
    thread_local std::unique_ptr<Decoder> decoder;
    if (!decoder)
        decoder = std::make_unique<Decoder>();
    return *decoder;
}

} // namespace

int Message::decode(std::string_view json, const Limits &lim, bool skip_utf8_check)
{
    reset();
    if (static_cast<long>(json.size()) > lim[JIM_LIMIT_OBJECT_BYTES])
        return fail(JIM_ETOOBIG,
                    "object larger than " + std::to_string(lim[JIM_LIMIT_OBJECT_BYTES]) + " bytes");
    if (!skip_utf8_check && !utf8_valid(json))
        return fail(JIM_EUTF8, "invalid UTF-8");
    if (size_t at = lone_surrogate(json); at != std::string_view::npos)
        return fail(JIM_EUTF8, "invalid UTF-8: lone surrogate " + std::string(json.substr(at, 6)) +
                                   " (a \\u escape of D800-DFFF must be a high-low pair)");
    int rc = thread_decoder().parse(this, json, lim[JIM_LIMIT_DEPTH]);
    return rc == JIM_OK ? decoded(lim) : rc;
}

int Message::decode_flat_line(std::string_view line, const Limits &lim)
{
    reset();
    if (static_cast<long>(line.size()) > lim[JIM_LIMIT_OBJECT_BYTES])
        return JIM_EAGAIN;
    int rc = thread_decoder().parse_flat(this, line, lim[JIM_LIMIT_DEPTH]);
    return rc == JIM_OK ? decoded(lim) : rc;
}

int Message::decoded(const Limits &lim)
{
    if (action_ == JIM_ACTION_NONE && response_ == 0)
        return fail(JIM_EFIELD, "missing field 'action'");
    return validate(lim);
}

} // namespace jim
