// The end-to-end construction of doc/protocol.md §7 (X25519 twice, HKDF-SHA256,
// ChaCha20-Poly1305 with a zero nonce), strict base64 and key fingerprints, through
// OpenSSL's EVP API. Pure functions: no state, no I/O.
#pragma once

#include <jim/message.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace jim::e2e {

constexpr size_t kKeyBytes = 32; // an X25519 private or public key
constexpr size_t kTagBytes = 16; // the Poly1305 tag
// epk and tag: an envelope is this many bytes longer than its plaintext.
constexpr size_t kOverhead = kKeyBytes + kTagBytes;
// The `encoding` of an encrypted msg.
constexpr std::string_view kEncoding = JIM_E2E_ENCODING;

using Key = std::array<uint8_t, kKeyBytes>;

struct KeyPair {
    Key priv{};
    Key pub{};
    ~KeyPair();
};

// A new random key pair; false when OpenSSL fails.
bool generate(KeyPair &out);
// The public key of a private one; false when OpenSSL fails.
bool public_of(const Key &priv, Key &pub);

// Encrypts text from `from` (key pair s) to `to` (public key r) into envelope (the raw
// bytes epk ‖ ciphertext ‖ tag). eph, when given, is the ephemeral private key (for
// known-answer tests only); otherwise a fresh one is made. False when OpenSSL fails.
bool seal(std::string &envelope, const KeyPair &s, const Key &r, std::string_view from,
          std::string_view to, std::string_view text, const Key *eph = nullptr);

// Decrypts an envelope sent by `from` (public key s_pub) to `to` (key pair r); false
// when it is too short, damaged, or not made by s_pub for r, from and to.
bool open(std::string &text, const KeyPair &r, const Key &s_pub, std::string_view from,
          std::string_view to, std::string_view envelope);

// A key as standard base64 (44 characters), and back (false unless exactly 32 bytes).
std::string key_base64(const Key &k);
bool key_from_base64(std::string_view text, Key &k);

// SHA-256 of the public key, its first 16 bytes as lowercase hex in 8 groups of 4
// digits separated by spaces ("1a2b 3c4d ...").
std::string fingerprint(const Key &pub);

} // namespace jim::e2e
