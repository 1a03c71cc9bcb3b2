// fuzz_e2e.cc — fuzz target for the decryption of an end-to-end envelope (doc/protocol.md
// §7, libjim/src/e2e_crypto.cc) and the strict base64 it travels in. The input is three
// lines, "from\nto\nENVELOPE" (missing lines: "alice", "bob", the whole input), decrypted
// with the fixed key pairs of tests/e2e_vectors.py (sender bytes 1..32, recipient 33..64).
// Checked: base64 text decodes only when it is the canonical encoding of its bytes; an
// envelope opens only when it is long enough, to a text exactly its length minus the
// overhead; one changed byte, or another sender or recipient name, never opens.
#include "base64.hh"
#include "e2e_crypto.hh"
#include "fuzz_check.hh"

#include <string>
#include <string_view>

namespace {

namespace e2e = jim::e2e;

struct Keys {
    e2e::KeyPair sender, recipient;
    bool ok = true;
    Keys()
    {
        for (size_t i = 0; i < e2e::kKeyBytes; i++) {
            sender.priv[i] = static_cast<uint8_t>(0x01 + i);
            recipient.priv[i] = static_cast<uint8_t>(0x21 + i);
        }
        ok = e2e::public_of(sender.priv, sender.pub) &&
             e2e::public_of(recipient.priv, recipient.pub);
    }
};

// Splits off the text up to the next newline (all of it when there is none).
std::string_view take_line(std::string_view &rest)
{
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    return line;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const Keys keys;
    FUZZ_CHECK(keys.ok, "%s", "OpenSSL made no X25519 keys");
    std::string in(reinterpret_cast<const char *>(data), size);
    std::string_view rest(in), from("alice"), to("bob"), text(in);
    if (rest.find('\n') != std::string_view::npos) {
        from = take_line(rest);
        to = take_line(rest);
        text = rest;
    }

    size_t bytes_size = 0;
    std::string envelope;
    bool checked = jim::base64_check(text, &bytes_size);
    bool decoded = jim::base64_decode(text, envelope);
    FUZZ_CHECK(checked == decoded, "check says %d, decode says %d", checked, decoded);
    if (!decoded)
        return 0;
    FUZZ_CHECK(envelope.size() == bytes_size, "%zu bytes decoded, %zu announced", envelope.size(),
               bytes_size);
    FUZZ_CHECK(jim::base64_encode(envelope) == text, "%s", "a base64 text that is not canonical");

    std::string plain;
    bool opened = e2e::open(plain, keys.recipient, keys.sender.pub, from, to, envelope);
    if (!opened)
        return 0;
    FUZZ_CHECK(envelope.size() >= e2e::kOverhead &&
                   plain.size() == envelope.size() - e2e::kOverhead,
               "a %zu-byte envelope opened to %zu bytes", envelope.size(), plain.size());
    std::string again;
    std::string damaged = envelope;
    damaged[FuzzRandom(fuzz_hash(data, size)).below(damaged.size())] ^= 0x01;
    FUZZ_CHECK(!e2e::open(again, keys.recipient, keys.sender.pub, from, to, damaged), "%s",
               "an envelope with a changed byte opened");
    std::string other_from = std::string(from) + "x";
    FUZZ_CHECK(!e2e::open(again, keys.recipient, keys.sender.pub, other_from, to, envelope), "%s",
               "an envelope opened for another sender name");
    std::string other_to = std::string(to) + "x";
    FUZZ_CHECK(!e2e::open(again, keys.recipient, keys.sender.pub, from, other_to, envelope), "%s",
               "an envelope opened for another recipient name");
    return 0;
}
