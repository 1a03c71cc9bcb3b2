// test_peer_protocol.cc — jimd's internal frames (jimd/peer_protocol.cc): every frame type
// survives encode and decode; the header decoder refuses another magic, version or type and
// an oversize body; a body decoder refuses every truncation, trailing bytes and a string
// that claims more than is there; random bytes never make it read out of bounds (run under
// the sanitizers).
#include "peer_protocol.hh"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <setjmp.h>
#include <string>

extern "C" {
#include <cmocka.h>
}

using namespace jimd::peer;

namespace {

// Encodes f as a whole frame, checks its header, and returns its body.
template <class F> std::string body_of(const F &f)
{
    std::string frame;
    append_frame(f, &frame);
    assert_int_equal(frame.size(), frame_size(f));
    Header h;
    const char *why = nullptr;
    assert_int_equal(static_cast<int>(decode_header(frame.data(), frame.size(), &h, &why)),
                     static_cast<int>(HeaderStatus::Ok));
    assert_int_equal(static_cast<int>(h.type), static_cast<int>(F::kType));
    assert_int_equal(h.length, frame.size() - kHeaderBytes);
    return frame.substr(kHeaderBytes);
}

// Every strict prefix of a body, and the body with a byte more, are refused.
template <class F> void assert_exact(const std::string &body)
{
    F out;
    for (size_t n = 0; n < body.size(); n++)
        assert_false(decode(std::string_view(body.data(), n), &out));
    assert_false(decode(body + '\0', &out));
}

void every_type__encoded_then_decoded__same_fields(void **)
{
    std::string line(300, 'x');
    line[0] = '{';
    std::string b = body_of(Ready{7});
    Ready r;
    assert_true(decode(b, &r));
    assert_int_equal(r.worker, 7);
    assert_exact<Ready>(b);

    b = body_of(PeerLink{63});
    PeerLink pl;
    assert_true(decode(b, &pl));
    assert_int_equal(pl.worker, 63);
    assert_exact<PeerLink>(b);

    b = body_of(Online{"alice", 3});
    Online on;
    assert_true(decode(b, &on));
    assert_true(on.user == "alice");
    assert_int_equal(on.sessions, 3);
    assert_exact<Online>(b);

    b = body_of(Offline{"bob"});
    Offline off;
    assert_true(decode(b, &off));
    assert_true(off.user == "bob");
    assert_exact<Offline>(b);

    b = body_of(Deliver{"carol", INT64_C(1) << 40, UINT64_C(1) << 63 | 5, line});
    Deliver d;
    assert_true(decode(b, &d));
    assert_true(d.user == "carol");
    assert_int_equal(d.seq, INT64_C(1) << 40);
    assert_true(d.also == (UINT64_C(1) << 63 | 5));
    assert_true(d.line == line);
    assert_exact<Deliver>(b);

    b = body_of(Room{"#ops", line});
    Room rm;
    assert_true(decode(b, &rm));
    assert_true(rm.room == "#ops");
    assert_true(rm.line == line);
    assert_exact<Room>(b);

    b = body_of(Ack{UINT64_C(0xfedcba9876543210)});
    Ack a;
    assert_true(decode(b, &a));
    assert_true(a.count == UINT64_C(0xfedcba9876543210));
    assert_exact<Ack>(b);

    b = body_of(Set{"registration", "closed"});
    Set st;
    assert_true(decode(b, &st));
    assert_true(st.name == "registration");
    assert_true(st.value == "closed");
    assert_exact<Set>(b);

    b = body_of(Kick{"mallory", "banned by an administrator: spam"});
    Kick k;
    assert_true(decode(b, &k));
    assert_true(k.user == "mallory");
    assert_true(k.text == "banned by an administrator: spam");
    assert_exact<Kick>(b);

    std::string entries;
    append_look_entry(&entries, 7, false);
    append_look_entry(&entries, INT64_C(1) << 50, true);
    b = body_of(Look{"dave", entries});
    Look lk;
    assert_true(decode(b, &lk));
    assert_true(lk.user == "dave");
    assert_int_equal(lk.entries.size(), 16);
    int64_t seq = 0;
    bool had = true;
    look_entry(lk, 0, &seq, &had);
    assert_int_equal(seq, 7);
    assert_false(had);
    look_entry(lk, 1, &seq, &had);
    assert_int_equal(seq, INT64_C(1) << 50);
    assert_true(had);
    assert_exact<Look>(b);
    entries.resize(12); // not whole entries
    assert_false(decode(body_of(Look{"dave", entries}), &lk));
    entries.assign(8, '\0'); // seq 0
    assert_false(decode(body_of(Look{"dave", entries}), &lk));
}

void integers__little_endian_fixed_width(void **)
{
    std::string frame;
    append_frame(Deliver{"u", 0x0102030405060708, 0x8000000000000006, ""}, &frame);
    const unsigned char want[] = {0x6a, 0x6d, kVersion, 18, 25,  0, 0, 0,    // header, body 25
                                  1,    0,    0,        0,  'u',             // user
                                  8,    7,    6,        5,  4,   3, 2, 1,    // seq
                                  6,    0,    0,        0,  0,   0, 0, 0x80, // also
                                  0,    0,    0,        0};                  // line ""
    assert_int_equal(frame.size(), sizeof want);
    assert_memory_equal(frame.data(), want, sizeof want);
}

void header__bad_magic_version_type_or_length__refused(void **)
{
    std::string frame;
    append_frame(Ack{1}, &frame);
    Header h;
    const char *why = nullptr;
    assert_int_equal(static_cast<int>(decode_header(frame.data(), kHeaderBytes - 1, &h, &why)),
                     static_cast<int>(HeaderStatus::Short));
    struct {
        size_t at;
        unsigned char value;
        const char *why;
    } bad[] = {
        {0, 0x6b, "not a jimd frame"}, {2, 3, "another version of the peer protocol"},
        {3, 0, "unknown frame type"},  {3, 99, "unknown frame type"},
        {7, 0x01, "frame too long"}, // 16 MiB + 8
    };
    for (const auto &b : bad) {
        std::string f = frame;
        f[b.at] = static_cast<char>(b.value);
        why = nullptr;
        assert_int_equal(static_cast<int>(decode_header(f.data(), f.size(), &h, &why)),
                         static_cast<int>(HeaderStatus::Bad));
        assert_string_equal(why, b.why);
    }
}

void string_longer_than_body__refused(void **)
{
    std::string b = body_of(Room{"#r", "line"});
    b[0] = static_cast<char>(0xff); // the room's length: 255 bytes, in a 14-byte body
    Room r;
    assert_false(decode(b, &r));
    b[0] = 2;
    b[3] = static_cast<char>(0x80); // 2 GiB
    assert_false(decode(b, &r));
}

// Decodes n bytes as each type; nothing to check but that it returns.
void decode_all(std::string_view s)
{
    Ready r;
    PeerLink p;
    Online on;
    Offline off;
    Deliver d;
    Room rm;
    Ack a;
    Set st;
    Kick k;
    Look lk;
    Header h;
    (void)decode(s, &st);
    (void)decode(s, &k);
    (void)decode(s, &lk);
    (void)decode(s, &r);
    (void)decode(s, &p);
    (void)decode(s, &on);
    (void)decode(s, &off);
    (void)decode(s, &d);
    (void)decode(s, &rm);
    (void)decode(s, &a);
    (void)decode_header(s.data(), s.size(), &h, nullptr);
}

void random_bytes__never_read_out_of_bounds(void **)
{
    std::mt19937 rng(15);
    std::string buf;
    for (int i = 0; i < 20000; i++) {
        size_t n = rng() % 40;
        buf.resize(n);
        for (size_t k = 0; k < n; k++) // small lengths are likely, so strings often fit
            buf[k] = static_cast<char>(rng() % 4 ? rng() % 8 : rng());
        // A copy of exactly n bytes on the heap: ASan sees a read past it.
        std::unique_ptr<char[]> exact(new char[n]);
        std::memcpy(exact.get(), buf.data(), n);
        decode_all(std::string_view(exact.get(), n));
    }
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(every_type__encoded_then_decoded__same_fields),
        cmocka_unit_test(integers__little_endian_fixed_width),
        cmocka_unit_test(header__bad_magic_version_type_or_length__refused),
        cmocka_unit_test(string_longer_than_body__refused),
        cmocka_unit_test(random_bytes__never_read_out_of_bounds),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
