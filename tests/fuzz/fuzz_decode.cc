// fuzz_decode.cc — fuzz target for libjim's codec: the input is one JSON object as it
// comes off the framer. jim_msg_decode (which validates) must either fail with a reason
// or give a message that jim_msg_validate accepts again; that message's encoding is one
// line of ASCII without control characters, which decodes again and encodes to the same
// text, in each of the dialects jimd writes (jim's, the reference course's, the database
// course's). The input is also decoded under the smallest limits, where most checks refuse it.
// And the decoder's own scanner for flat objects must agree with yajl: the object with one
// more member that is ignored but not flat (an empty array) decodes to the same message, or
// fails with the same code and reason.
#include "fuzz_check.hh"

#include <jim/jim.h>

#include <string>
#include <string_view>

namespace {

jim_limits *tight_limits()
{
    static jim_limits *lim = [] {
        jim_limits *l = nullptr;
        FUZZ_CHECK(jim_limits_new(&l) == JIM_OK, "jim_limits_new");
        for (int i = 0; i < JIM_LIMIT_COUNT; i++)
            jim_limits_set(l, static_cast<jim_limit>(i), jim_limit_min(static_cast<jim_limit>(i)));
        return l;
    }();
    return lim;
}

std::string encode(jim_msg *m)
{
    const char *json = nullptr;
    size_t len = 0;
    int rc = jim_msg_encode(m, &json, &len);
    FUZZ_CHECK(rc == JIM_OK, "encode of a valid message returned %d", rc);
    std::string out(json, len);
    FUZZ_CHECK(!out.empty() && out.back() == '\n', "encoding does not end in a newline");
    for (size_t i = 0; i + 1 < out.size(); i++) {
        auto c = static_cast<unsigned char>(out[i]);
        FUZZ_CHECK(c >= 0x20 && c < 0x80, "byte 0x%02x at %zu of %s", c, i, out.c_str());
    }
    return out;
}

// Encodes m in dialect d, decodes that, and encodes the result in d again: same text.
void round_trip(const jim_msg *m, jim_dialect d)
{
    jim_msg *a = nullptr, *b = nullptr;
    FUZZ_CHECK(jim_msg_new(&a) == JIM_OK && jim_msg_new(&b) == JIM_OK, "jim_msg_new");
    FUZZ_CHECK(jim_msg_copy(a, m) == JIM_OK, "jim_msg_copy");
    jim_msg_set_dialect(a, d);
    std::string first = encode(a);
    int rc = jim_msg_decode(b, first.data(), first.size(), nullptr);
    FUZZ_CHECK(rc == JIM_OK, "dialect %d: own encoding does not decode (%d: %s): %s", d, rc,
               jim_msg_errmsg(b), first.c_str());
    jim_msg_set_dialect(b, d);
    std::string second = encode(b);
    FUZZ_CHECK(first == second, "dialect %d: encode, decode, encode differ:\n%s%s", d,
               first.c_str(), second.c_str());
    jim_msg_free(a);
    jim_msg_free(b);
}

// The object json with one more member, "~":[], before its closing brace: a key the decoder
// ignores, whose array the flat scanner leaves to yajl. Empty when json does not end in '}'
// (but for whitespace).
std::string through_yajl(std::string_view json)
{
    size_t end = json.find_last_not_of(" \t\r\n");
    if (end == std::string_view::npos || end == 0 || json[end] != '}')
        return {};
    size_t before = json.find_last_not_of(" \t\r\n", end - 1);
    bool empty = before != std::string_view::npos && json[before] == '{';
    std::string out(json.substr(0, end));
    out += empty ? "\"~\":[]" : ",\"~\":[]";
    out += json.substr(end);
    return out;
}

// The message decoded (with rc) from the input must be what yajl makes of it too. An object
// that decoded is whole, so the member is added to it; one that failed is compared only
// where the member left it readable.
void same_through_yajl(std::string_view json, const jim_msg *m, int rc)
{
    if (rc == JIM_ESYNTAX || rc == JIM_EDEPTH || rc == JIM_ETOOBIG)
        return; // the added member may change where, or whether, those are found
    std::string other = through_yajl(json);
    if (other.empty() || other.size() > 65536)
        return; // past the default object limit, which the input itself may just fit
    jim_msg *y = nullptr;
    FUZZ_CHECK(jim_msg_new(&y) == JIM_OK, "jim_msg_new");
    int yrc = jim_msg_decode(y, other.data(), other.size(), nullptr);
    if (rc != JIM_OK && (yrc == JIM_ESYNTAX || yrc == JIM_EDEPTH || yrc == JIM_ETOOBIG)) {
        // An object that failed may not be whole: its last '}' may be in a string or close
        // a nested object, where the added member breaks it or nests one level deeper.
        jim_msg_free(y);
        return;
    }
    FUZZ_CHECK(yrc == rc, "decoded with %d, through yajl with %d (%s)", rc, yrc, jim_msg_errmsg(y));
    if (rc != JIM_OK) {
        FUZZ_CHECK(std::string_view(jim_msg_errmsg(m)) == jim_msg_errmsg(y),
                   "reasons differ: '%s', through yajl '%s'", jim_msg_errmsg(m), jim_msg_errmsg(y));
    } else {
        jim_msg *a = nullptr;
        FUZZ_CHECK(jim_msg_new(&a) == JIM_OK && jim_msg_copy(a, m) == JIM_OK, "jim_msg_copy");
        FUZZ_CHECK(jim_msg_has(a, JIM_FIELD_TIME) == jim_msg_has(y, JIM_FIELD_TIME),
                   "time decoded on one way only");
        if (!jim_msg_has(a, JIM_FIELD_TIME)) { // else encode writes the clock's time
            jim_msg_set_int(a, JIM_FIELD_TIME, 1);
            jim_msg_set_int(y, JIM_FIELD_TIME, 1);
        }
        FUZZ_CHECK(jim_msg_dialect(a) == jim_msg_dialect(y), "dialects differ");
        std::string mine = encode(a), theirs = encode(y);
        FUZZ_CHECK(mine == theirs, "decoded and through yajl differ:\n%s%s", mine.c_str(),
                   theirs.c_str());
        jim_msg_free(a);
    }
    jim_msg_free(y);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = reinterpret_cast<const char *>(data);
    jim_msg *m = nullptr;
    FUZZ_CHECK(jim_msg_new(&m) == JIM_OK, "jim_msg_new");
    int rc = jim_msg_decode(m, json, size, nullptr);
    same_through_yajl(std::string_view(json, size), m, rc);
    if (rc != JIM_OK) {
        FUZZ_CHECK(*jim_msg_errmsg(m) != '\0', "decode failed (%d) without a reason", rc);
    } else {
        rc = jim_msg_validate(m, nullptr);
        FUZZ_CHECK(rc == JIM_OK, "decoded, then refused by validate (%d: %s)", rc,
                   jim_msg_errmsg(m));
        round_trip(m, jim_msg_dialect(m));
        round_trip(m, JIM_DIALECT_JIM);
        round_trip(m, JIM_DIALECT_REFERENCE);
        round_trip(m, JIM_DIALECT_DB);
    }
    if (jim_msg_decode(m, json, size, tight_limits()) != JIM_OK)
        FUZZ_CHECK(*jim_msg_errmsg(m) != '\0', "decode under tight limits failed without a reason");
    jim_msg_free(m);
    return 0;
}
