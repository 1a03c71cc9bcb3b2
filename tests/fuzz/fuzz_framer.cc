// fuzz_framer.cc — fuzz target for libjim's stream framer (jim_framer). The input is a
// byte stream as a peer would send it. It is framed twice under each of three sets of
// limits: fed whole, and fed in chunks of random sizes (seeded by the input) through
// jim_framer_feed and jim_framer_reserve/commit, taking objects between chunks. Both must
// give the same objects and errors in the same order; a framer read only through
// reserve/commit never holds more than the object limit plus one read; every object
// handed out starts with '{'. One more pass decodes each object (jim_framer_next_msg), which
// must give what framing and then decoding each object apart gives.
#include "fuzz_check.hh"

#include <jim/jim.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

// One result of jim_framer_next: its code, the object (JIM_OK) or the error text.
struct Event {
    int rc;
    std::string text;
    bool operator==(const Event &o) const { return rc == o.rc && text == o.text; }
};

struct LimitSet {
    long object_bytes, depth, bad_objects;
};
// The defaults; the smallest the framer allows (so the fuzzer reaches the size and depth
// limits with small inputs); and no limit on bad objects in a row.
const LimitSet kLimitSets[] = {{65536, 32, 16}, {256, 3, 3}, {1024, 256, 1000000}};

jim_limits *make_limits(const LimitSet &s)
{
    jim_limits *lim = nullptr;
    FUZZ_CHECK(jim_limits_new(&lim) == JIM_OK, "jim_limits_new");
    jim_limits_set(lim, JIM_LIMIT_OBJECT_BYTES, s.object_bytes);
    jim_limits_set(lim, JIM_LIMIT_DEPTH, s.depth);
    jim_limits_set(lim, JIM_LIMIT_BAD_OBJECTS, s.bad_objects);
    return lim;
}

// Takes every object the framer can give now; false once the stream has ended.
bool drain(jim_framer *f, std::vector<Event> &out)
{
    for (;;) {
        const char *obj = nullptr;
        size_t len = 0;
        int rc = jim_framer_next(f, &obj, &len);
        if (rc == JIM_EAGAIN)
            return true;
        if (rc == JIM_ECLOSED)
            return false;
        if (rc == JIM_OK) {
            FUZZ_CHECK(len >= 2 && obj[0] == '{', "object of %zu bytes starts with 0x%02x", len,
                       len ? static_cast<unsigned char>(obj[0]) : 0);
            out.push_back({rc, std::string(obj, len)});
        } else {
            out.push_back({rc, jim_framer_errmsg(f)});
        }
        if (!jim_framer_can_continue(f))
            return false;
    }
}

std::vector<Event> frame_whole(const std::string &in, const jim_limits *lim)
{
    jim_framer *f = nullptr;
    FUZZ_CHECK(jim_framer_new(&f, lim) == JIM_OK, "jim_framer_new");
    std::vector<Event> out;
    int rc = jim_framer_feed(f, in.data(), in.size());
    FUZZ_CHECK(rc == JIM_OK || rc == JIM_ETOOBIG, "feed returned %d", rc);
    drain(f, out);
    jim_framer_free(f);
    return out;
}

// Chunks of mostly a few bytes, sometimes large; with reserve_only every chunk goes
// through jim_framer_reserve/commit and the framer's bound is checked after each.
std::vector<Event> frame_chunked(const std::string &in, const jim_limits *lim, FuzzRandom &rnd,
                                 bool reserve_only)
{
    jim_framer *f = nullptr;
    FUZZ_CHECK(jim_framer_new(&f, lim) == JIM_OK, "jim_framer_new");
    const size_t object_bytes = static_cast<size_t>(jim_limits_get(lim, JIM_LIMIT_OBJECT_BYTES));
    const size_t max_read = std::max<size_t>(object_bytes, 65536);
    std::vector<Event> out;
    bool open = true;
    for (size_t at = 0; open && at < in.size();) {
        // Small chunks split every token somewhere; a repeated input gets larger ones.
        size_t small = in.size() > 65536 ? 8192 : 16;
        size_t n = rnd.below(8) == 0 ? 1 + rnd.below(70000) : 1 + rnd.below(small);
        n = std::min({n, in.size() - at, max_read});
        if (!reserve_only && rnd.below(2) == 0) {
            int rc = jim_framer_feed(f, in.data() + at, n);
            FUZZ_CHECK(rc == JIM_OK || rc == JIM_ETOOBIG, "feed returned %d", rc);
            at += n;
        } else {
            void *buf = nullptr;
            size_t cap = 0;
            int rc = jim_framer_reserve(f, n, &buf, &cap);
            if (rc == JIM_EAGAIN) { // whole objects wait: take them, then there is room
                open = drain(f, out);
                if (!open)
                    break;
                rc = jim_framer_reserve(f, n, &buf, &cap);
                FUZZ_CHECK(rc != JIM_EAGAIN, "reserve(%zu) still full after taking every object",
                           n);
            }
            if (rc == JIM_ETOOBIG || rc == JIM_ECLOSED) {
                drain(f, out); // the error, as next() reports it
                break;
            }
            FUZZ_CHECK(rc == JIM_OK && cap >= n, "reserve(%zu) returned %d, cap %zu", n, rc, cap);
            std::copy_n(in.data() + at, n, static_cast<char *>(buf));
            FUZZ_CHECK(jim_framer_commit(f, n) == JIM_OK, "commit(%zu)", n);
            at += n;
            if (reserve_only)
                FUZZ_CHECK(jim_framer_buffered(f) <= object_bytes + max_read,
                           "holds %zu bytes, bound %zu", jim_framer_buffered(f),
                           object_bytes + max_read);
        }
        if (open)
            open = drain(f, out);
        if (open && jim_framer_buffered(f) == 0 && rnd.below(4) == 0)
            jim_framer_release(f);
    }
    jim_framer_free(f);
    return out;
}

std::string describe(const std::vector<Event> &v)
{
    std::string s;
    for (const Event &e : v)
        s += "  " + std::to_string(e.rc) + " " + e.text.substr(0, 120) + "\n";
    return s;
}

// A decoded message's text, its time fixed if it had none (encode would write the clock's).
std::string encoded(jim_msg *m)
{
    if (!jim_msg_has(m, JIM_FIELD_TIME))
        jim_msg_set_int(m, JIM_FIELD_TIME, 1);
    const char *json;
    size_t len;
    FUZZ_CHECK(jim_msg_encode(m, &json, &len) == JIM_OK, "encode of a decoded object");
    return std::string(json, len);
}

// One object decoded as jimd does (a) and apart (b). Where both fail and one says bad
// UTF-8, the codes and reasons may differ: bytes of 0x80 and above outside the strings.
// The framer's decoding trusts the framer's UTF-8 check, which there refuses only bytes
// that start no sequence, and finds bad JSON or a lone surrogate escape further on;
// jim_msg_decode checks all the UTF-8 first and says that.
bool same_outcome(const Event &a, const Event &b)
{
    bool utf8 = a.rc == JIM_EUTF8 || b.rc == JIM_EUTF8;
    if (a.rc != JIM_OK && b.rc != JIM_OK && utf8)
        return (a.rc == JIM_EUTF8 || a.rc == JIM_ESYNTAX) &&
               (b.rc == JIM_EUTF8 || b.rc == JIM_ESYNTAX);
    return a == b;
}

// Decodes every object as jimd does (jim_framer_next_msg, which reads a whole line of one
// flat object in one pass), and once more the general way (jim_framer_next, then
// jim_msg_decode): the same messages and errors in the same order. Under limits that close
// the stream after a few bad objects in a row only the first way counts decoding errors,
// so there the second is not compared.
void frame_and_decode(const std::string &in, const jim_limits *lim)
{
    jim_framer *f = nullptr, *g = nullptr;
    jim_msg *m = nullptr;
    FUZZ_CHECK(jim_framer_new(&f, lim) == JIM_OK && jim_framer_new(&g, lim) == JIM_OK &&
                   jim_msg_new(&m) == JIM_OK,
               "new");
    jim_framer_feed(f, in.data(), in.size());
    jim_framer_feed(g, in.data(), in.size());
    std::vector<Event> fast, general;
    for (;;) {
        int rc = jim_framer_next_msg(f, m);
        if (rc == JIM_EAGAIN || rc == JIM_ECLOSED)
            break;
        if (rc == JIM_OK) {
            fast.push_back({rc, encoded(m)});
        } else {
            FUZZ_CHECK(*jim_framer_errmsg(f) != '\0', "error %d without a reason", rc);
            fast.push_back({rc, jim_framer_errmsg(f)});
        }
    }
    const bool compare = jim_limits_get(lim, JIM_LIMIT_BAD_OBJECTS) >= 1000;
    while (compare) {
        const char *obj = nullptr;
        size_t len = 0;
        int rc = jim_framer_next(g, &obj, &len);
        if (rc == JIM_EAGAIN || rc == JIM_ECLOSED)
            break;
        if (rc != JIM_OK) {
            general.push_back({rc, jim_framer_errmsg(g)});
            continue;
        }
        rc = jim_msg_decode(m, obj, len, lim);
        general.push_back({rc, rc == JIM_OK ? encoded(m) : jim_msg_errmsg(m)});
    }
    if (compare)
        FUZZ_CHECK(
            std::equal(fast.begin(), fast.end(), general.begin(), general.end(), same_outcome),
            "framed and decoded in one pass or apart differ:\n"
            "one pass:\n%sapart:\n%s",
            describe(fast).c_str(), describe(general).c_str());
    jim_msg_free(m);
    jim_framer_free(f);
    jim_framer_free(g);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t seed = fuzz_hash(data, size);
    std::string in(reinterpret_cast<const char *>(data), size);
    // One input in 32 is repeated past 140 KB, past what a framer may hold, so the bound
    // and the look-ahead that keeps it are reached too.
    if (size > 0 && (seed & 31) == 0)
        while (in.size() < 140000)
            in.append(reinterpret_cast<const char *>(data), size);
    FuzzRandom rnd(seed);
    for (const LimitSet &s : kLimitSets) {
        jim_limits *lim = make_limits(s);
        std::vector<Event> whole = frame_whole(in, lim);
        bool reserve_only = rnd.below(2) == 0;
        std::vector<Event> chunked = frame_chunked(in, lim, rnd, reserve_only);
        FUZZ_CHECK(whole == chunked,
                   "limit %ld: fed whole and in chunks%s differ:\nwhole:\n%schunked:\n%s",
                   s.object_bytes, reserve_only ? " (reserve only)" : "", describe(whole).c_str(),
                   describe(chunked).c_str());
        if (in.size() == size)
            frame_and_decode(in, lim);
        jim_limits_free(lim);
    }
    return 0;
}
