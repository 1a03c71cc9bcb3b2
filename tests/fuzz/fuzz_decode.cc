// fuzz_decode.cc — fuzz target for libjim's codec: the input is one JSON object as it
// comes off the framer. jim_msg_decode (which validates) must either fail with a reason
// or give a message that jim_msg_validate accepts again; that message's encoding is one
// line of ASCII without control characters, which decodes again and encodes to the same
// text, in each of the dialects jimd writes (jim's, the reference course's, the database
// course's). The input is also decoded under the smallest limits, where most checks refuse it.
#include "fuzz_check.hh"

#include <jim/jim.h>

#include <string>

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

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = reinterpret_cast<const char *>(data);
    jim_msg *m = nullptr;
    FUZZ_CHECK(jim_msg_new(&m) == JIM_OK, "jim_msg_new");
    int rc = jim_msg_decode(m, json, size, nullptr);
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
