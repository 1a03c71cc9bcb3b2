// test_e2e_crypto.cc — the end-to-end construction of doc/protocol.md §7 inside libjim
// (linked from its internal libraries): known answers byte for byte, round trips, every
// changed byte failing, strict base64; and jim::E2e's key file, pins and trust.
//
// The known answers were derived independently with Python's `cryptography` package
// (tests/e2e_vectors.py); its X25519 halves and the HKDF key were cross-checked with
// `openssl pkeyutl -derive` and `openssl kdf ... HKDF` (see that script).
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <setjmp.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.hh"
#include "e2e.hh"
#include "e2e_crypto.hh"

// Last: cmocka's macros (fail, ...) clash with the C++ library's names.
extern "C" {
#include <cmocka.h>
}

using namespace jim;

namespace {

const char kSPub[] = "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=";
const char kRPub[] = "WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns=";
const char kMessage[] =
    "ZLEBsdC+WocEvQePmJUAH8A+jp+VIvGI3RKNmEbUhGZCbbtnEhzVl4Bjdu1piHxkgHbAmlMKWVDZCAC8";
const char kFpS[] = "aaa8 fff7 03b5 0b22 97f4 f6e1 3508 f724";
const char kText[] = "hello bob \xc3\xa9";

// A key of the bytes first, first+1, ..., first+31.
e2e::Key counting(uint8_t first)
{
    e2e::Key k;
    for (size_t i = 0; i < k.size(); i++)
        k[i] = static_cast<uint8_t>(first + i);
    return k;
}

void pair_of(e2e::KeyPair &kp, uint8_t first)
{
    kp.priv = counting(first);
    assert_true(e2e::public_of(kp.priv, kp.pub));
}

std::string seal_kat()
{
    e2e::KeyPair s, r;
    pair_of(s, 0x01);
    pair_of(r, 0x21);
    e2e::Key esk = counting(0x41);
    std::string env;
    assert_true(e2e::seal(env, s, r.pub, "alice", "bob", kText, &esk));
    return env;
}

} // namespace

static void kat__fixed_keys__envelope_byte_for_byte(void **)
{
    e2e::KeyPair s, r;
    pair_of(s, 0x01);
    pair_of(r, 0x21);
    assert_string_equal(e2e::key_base64(s.pub).c_str(), kSPub);
    assert_string_equal(e2e::key_base64(r.pub).c_str(), kRPub);
    assert_string_equal(e2e::fingerprint(s.pub).c_str(), kFpS);
    std::string env = seal_kat();
    assert_int_equal(env.size(), e2e::kOverhead + std::strlen(kText));
    assert_string_equal(base64_encode(env).c_str(), kMessage);
}

static void kat__envelope__opens_to_the_text(void **)
{
    e2e::KeyPair s, r;
    pair_of(s, 0x01);
    pair_of(r, 0x21);
    std::string env, text;
    assert_true(base64_decode(kMessage, env));
    assert_true(e2e::open(text, r, s.pub, "alice", "bob", env));
    assert_string_equal(text.c_str(), kText);
}

static void roundtrip__random_keys__any_text(void **)
{
    e2e::KeyPair s, r;
    assert_true(e2e::generate(s));
    assert_true(e2e::generate(r));
    std::string long_text(2000, 'x');
    const std::string texts[] = {"", "a", std::string("nul\0inside", 10), long_text,
                                 "\xf0\x9f\x98\x80 emoji"};
    std::string first;
    for (const std::string &t : texts) {
        std::string env, back;
        assert_true(e2e::seal(env, s, r.pub, "ann", "bo", t));
        assert_int_equal(env.size(), t.size() + 48);
        assert_true(e2e::open(back, r, s.pub, "ann", "bo", env));
        assert_true(back == t);
        if (first.empty())
            first = env;
    }
    // A fresh ephemeral key every time: the same text never seals the same twice.
    std::string again;
    assert_true(e2e::seal(again, s, r.pub, "ann", "bo", ""));
    assert_true(again != first);
}

static void tamper__any_changed_byte__fails(void **)
{
    e2e::KeyPair s, r;
    pair_of(s, 0x01);
    pair_of(r, 0x21);
    std::string env = seal_kat(), text;
    for (size_t i = 0; i < env.size(); i++) {
        for (uint8_t flip : {0x01, 0x80}) {
            std::string bad = env;
            bad[i] = static_cast<char>(bad[i] ^ flip);
            assert_false(e2e::open(text, r, s.pub, "alice", "bob", bad));
        }
    }
    assert_false(e2e::open(text, r, s.pub, "alice", "bob", env.substr(0, env.size() - 1)));
    assert_false(e2e::open(text, r, s.pub, "alice", "bob", env + "x"));
    assert_false(e2e::open(text, r, s.pub, "alice", "bob", env.substr(0, 47)));
    assert_true(e2e::open(text, r, s.pub, "alice", "bob", env)); // and the original opens
}

static void tamper__from_or_to_changed__fails(void **)
{
    e2e::KeyPair s, r;
    pair_of(s, 0x01);
    pair_of(r, 0x21);
    std::string env = seal_kat(), text;
    const char *pairs[][2] = {{"alicf", "bob"}, {"alice", "boc"},  {"Alice", "bob"},
                              {"bob", "alice"}, {"alice", "bob "}, {"alic", "ebob"},
                              {"", "alicebob"}, {"alice", "bob\n"}};
    for (auto &p : pairs)
        assert_false(e2e::open(text, r, s.pub, p[0], p[1], env));
    assert_false(e2e::open(text, r, s.pub, "alice", std::string_view("bob\0", 4), env));
}

static void keys__wrong_or_low_order__fail(void **)
{
    e2e::KeyPair s, r, other;
    pair_of(s, 0x01);
    pair_of(r, 0x21);
    pair_of(other, 0x61);
    std::string env = seal_kat(), text;
    assert_false(e2e::open(text, other, s.pub, "alice", "bob", env)); // not the recipient
    assert_false(e2e::open(text, r, other.pub, "alice", "bob", env)); // another sender
    e2e::Key zero{};                                                  // a low-order point
    assert_false(e2e::seal(env, s, zero, "alice", "bob", "x"));
}

static void base64__strict__rfc4648_and_refusals(void **)
{
    const char *vectors[][2] = {{"", ""},
                                {"f", "Zg=="},
                                {"fo", "Zm8="},
                                {"foo", "Zm9v"},
                                {"foob", "Zm9vYg=="},
                                {"fooba", "Zm9vYmE="},
                                {"foobar", "Zm9vYmFy"}};
    for (auto &v : vectors) {
        assert_string_equal(base64_encode(v[0]).c_str(), v[1]);
        std::string back;
        assert_true(base64_decode(v[1], back));
        assert_string_equal(back.c_str(), v[0]);
    }
    std::string out;
    size_t n = 0;
    for (const char *bad :
         {"Zg", "Zg=", "Z===", "Zm9v\n", " Zm9v", "Zm=v", "Zm9-", "Zm9_", "=Zm9", "Zm9vYg==Zm9v",
          "Zh==", "Zm9=", "QR=="}) // the last three: unused bits not zero
        assert_false(base64_check(bad, &n));
    assert_true(base64_check(kMessage, &n));
    assert_int_equal(n, 48 + std::strlen(kText));
    e2e::Key k;
    assert_true(e2e::key_from_base64(kSPub, k));
    assert_false(e2e::key_from_base64("Zm9v", k)); // base64, but not 32 bytes
    assert_false(e2e::key_from_base64(std::string(kSPub).substr(0, 43), k));
}

// A fresh directory under /tmp.
static std::string temp_dir()
{
    char tmpl[] = "/tmp/jim-e2e-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    return tmpl;
}

static void keyring__key_file_0600__kept_and_reloaded(void **)
{
    std::string dir = temp_dir() + "/store";
    std::string why;
    bool made = false, replaced = false;
    E2e a;
    assert_true(a.use_dir(dir, &made, &replaced, &why));
    assert_true(made);
    assert_false(replaced);
    struct stat st;
    assert_int_equal(stat((dir + "/e2e_key").c_str(), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    E2e b; // a later client of the same account: the same pair
    assert_true(b.use_dir(dir, &made, &replaced, &why));
    assert_false(made);
    assert_true(a.self().pub == b.self().pub);
    // A pair made in memory first is kept by a directory without one...
    E2e c;
    assert_true(c.ensure_key(&made, &why));
    assert_true(made && c.memory_only());
    e2e::Key mem = c.self().pub;
    std::string dir2 = temp_dir();
    assert_true(c.use_dir(dir2, &made, &replaced, &why));
    assert_true(!made && !replaced && c.self().pub == mem);
    // ...and replaced by the one a directory has.
    assert_true(c.use_dir(dir, &made, &replaced, &why));
    assert_true(replaced && c.self().pub == a.self().pub);
    // A damaged key file is an error, never a silent new key.
    FILE *f = fopen((dir2 + "/e2e_key").c_str(), "w");
    fputs("not a key\n", f);
    fclose(f);
    E2e d;
    assert_false(d.use_dir(dir2, &made, &replaced, &why));
    assert_non_null(std::strstr(why.c_str(), "holds no X25519 private key"));
    std::string cmd = "rm -rf '" + dir.substr(0, dir.rfind('/')) + "' '" + dir2 + "'";
    assert_int_equal(system(cmd.c_str()), 0);
}

static void keyring__pinned_on_first_use__change_refused_until_trusted(void **)
{
    std::string dir = temp_dir();
    std::string why;
    bool made = false, replaced = false, pinned_now = false;
    e2e::Key k1 = counting(1), k2 = counting(2);
    {
        E2e a;
        assert_true(a.use_dir(dir, &made, &replaced, &why));
        assert_int_equal(static_cast<int>(a.state("bob")), static_cast<int>(E2e::Peer::Unknown));
        a.asking("bob");
        assert_int_equal(static_cast<int>(a.learned("bob", &k1, &pinned_now, &why)),
                         static_cast<int>(E2e::Peer::Trusted));
        assert_true(pinned_now);
        assert_int_equal(static_cast<int>(a.learned("carol", nullptr, &pinned_now, &why)),
                         static_cast<int>(E2e::Peer::None));
    }
    struct stat st;
    assert_int_equal(stat((dir + "/e2e_pins").c_str(), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    E2e b; // the pin is on disk
    assert_true(b.use_dir(dir, &made, &replaced, &why));
    e2e::Key p;
    assert_true(b.pinned("bob", p) && p == k1);
    assert_int_equal(static_cast<int>(b.learned("bob", &k2, &pinned_now, &why)),
                     static_cast<int>(E2e::Peer::Changed));
    assert_false(pinned_now);
    assert_true(b.pinned("bob", p) && p == k1); // the pin stays until trusted
    b.forget_session();
    assert_int_equal(static_cast<int>(b.state("bob")), static_cast<int>(E2e::Peer::Unknown));
    assert_int_equal(static_cast<int>(b.learned("bob", &k2, &pinned_now, &why)),
                     static_cast<int>(E2e::Peer::Changed));
    assert_false(b.trust("dave", &why)); // nothing published to trust
    assert_true(b.trust("bob", &why));
    assert_int_equal(static_cast<int>(b.state("bob")), static_cast<int>(E2e::Peer::Trusted));
    E2e c;
    assert_true(c.use_dir(dir, &made, &replaced, &why));
    assert_true(c.pinned("bob", p) && p == k2);
    // Encryption per conversation.
    assert_true(c.enabled("bob"));
    c.set_enabled("bob", false);
    assert_false(c.enabled("bob"));
    assert_true(c.enabled("carol"));
    c.set_enabled(nullptr, false);
    assert_false(c.enabled("carol"));
    c.set_enabled("carol", true);
    assert_true(c.enabled("carol") && !c.enabled("bob"));
    std::string cmd = "rm -rf '" + dir + "'";
    assert_int_equal(system(cmd.c_str()), 0);
}

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kat__fixed_keys__envelope_byte_for_byte),
        cmocka_unit_test(kat__envelope__opens_to_the_text),
        cmocka_unit_test(roundtrip__random_keys__any_text),
        cmocka_unit_test(tamper__any_changed_byte__fails),
        cmocka_unit_test(tamper__from_or_to_changed__fails),
        cmocka_unit_test(keys__wrong_or_low_order__fail),
        cmocka_unit_test(base64__strict__rfc4648_and_refusals),
        cmocka_unit_test(keyring__key_file_0600__kept_and_reloaded),
        cmocka_unit_test(keyring__pinned_on_first_use__change_refused_until_trusted),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
